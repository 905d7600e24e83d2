import type { Command } from '../command.js';

/**
 * The subcommands of `margay`. Each is loaded only when called, so that one
 * command's dependencies (a native module, a daemon's client) never stand in the
 * way of another and `margay --help` stays fast.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'agent', summary: 'run the node agent', load: async () => (await import('./agent.js')).agentCommand },
  { name: 'status', summary: 'BGP peers, routes, IPAM blocks and policy counts', load: async () => (await import('./status.js')).statusCommand },
  { name: 'bgp', summary: 'the BGP speaker: run it, ask it, decode its messages', load: async () => (await import('./bgp.js')).bgpCommand },
  { name: 'policy', summary: 'the NetworkPolicy compiler', load: async () => (await import('./policy.js')).policyCommand },
  { name: 'lab', summary: 'a cluster of network namespaces on this machine', load: async () => (await import('./lab.js')).labCommand },
  { name: 'cleanup', summary: "remove margay's kernel state from this node (uninstall)", load: async () => (await import('./cleanup.js')).cleanupCommand },
  { name: 'validate', summary: 'validate margay and NetworkPolicy manifests', load: async () => (await import('./validate.js')).validateCommand },
];
