import { notBuilt } from '../not-built.js';

export const statusCommand = notBuilt('status', 'BGP peers, routes, IPAM blocks and policy counts', `usage: margay status [--json]

Asks the local agent for its BGP peers, routes, IPAM blocks and policy counts.`);
