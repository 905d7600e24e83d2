import { groupCommand } from '../command.js';
import { bgpDecodeCommand } from '../bgp-decode.js';
import { bgpSpeakerCommand } from '../bgp-speaker.js';
import { bgpStatusCommand } from '../bgp-status.js';

export const bgpCommand = groupCommand('bgp', 'the BGP speaker: run it, ask it, decode its messages', [
  bgpSpeakerCommand,
  bgpStatusCommand,
  bgpDecodeCommand,
]);
