import { groupCommand } from '../command.js';
import { notBuilt } from '../not-built.js';
import { bgpSpeakerCommand } from '../bgp-speaker.js';
import { bgpStatusCommand } from '../bgp-status.js';

export const bgpCommand = groupCommand('bgp', 'the BGP speaker: run it, ask it, decode its messages', [
  bgpSpeakerCommand,
  bgpStatusCommand,
  notBuilt('decode', 'decode raw BGP messages to JSON lines', 'usage: margay bgp decode [FILE|-] [--as4 auto|yes|no] [--add-path FAMILIES]'),
]);
