import { groupCommand } from '../command.js';
import { notBuilt } from '../not-built.js';

export const bgpCommand = groupCommand('bgp', 'the BGP speaker: run it, ask it, decode its messages', [
  notBuilt('speaker', 'run a standalone BGP speaker', 'usage: margay bgp speaker --config FILE'),
  notBuilt('status', 'ask a running speaker for its peers', 'usage: margay bgp status [--socket PATH] [--json]'),
  notBuilt('decode', 'decode raw BGP messages to JSON lines', 'usage: margay bgp decode [FILE|-] [--as4 auto|yes|no] [--add-path FAMILIES]'),
]);
