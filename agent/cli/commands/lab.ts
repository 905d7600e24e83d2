import { groupCommand } from '../command.js';
import { notBuilt } from '../not-built.js';

export const labCommand = groupCommand('lab', 'a cluster of network namespaces on this machine', [
  notBuilt('up', 'build a lab', 'usage: margay lab up --nodes N [--fabric l2|routed]'),
  notBuilt('down', 'tear a lab down', 'usage: margay lab down [--all]'),
]);
