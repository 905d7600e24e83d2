import { groupCommand } from '../command.js';
import { notBuilt } from '../not-built.js';

export const policyCommand = groupCommand('policy', 'the NetworkPolicy compiler', [
  notBuilt('compile', 'print the iptables/ipset rules for given objects',
    'usage: margay policy compile --pods FILE --namespaces FILE --policies DIR [--node NAME] [--format iptables|ipset|json]'),
]);
