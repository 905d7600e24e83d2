import { notBuilt } from '../not-built.js';

export const agentCommand = notBuilt('agent', 'run the node agent', `usage: margay agent [flags]

Runs the node agent: datastore watches, IPAM, CNI server, BGP, dataplane, policy.`);
