/** `margay status [--json]`: asks the local agent over its status socket. */
import type { Command } from '../command.js';
import { parseFlags, intFlag } from '../args.js';
import { queryControl } from '../../../bgp/session/control.js';
import { renderStatus } from '../../status/render.js';
import type { AgentStatus } from '../../status/types.js';

const USAGE = `usage: margay status [--json] [--socket PATH] [--timeout MS]

Asks the local agent for its BGP peers (address, type: node-to-node mesh / route
reflector / global / node-specific, state, since, info), the routes it programs,
its IPAM blocks, its tunnel devices (VXLAN, IPIP: device name and tunnel address;
JSON "tunnels") and its policy counts.

flags (environment variable in brackets):
  --json           the agent's answer as JSON
  --socket PATH    the agent's status socket (default RUN_DIR/agent.sock) [MARGAY_STATUS_SOCKET]
                   (RUN_DIR: MARGAY_RUN_DIR, default /run/margay)
  --timeout MS     give up after this long (default 5000)`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'BGP peers, routes, IPAM blocks and policy counts',
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, { json: { type: 'boolean' }, socket: { type: 'string' }, timeout: { type: 'string' } }, USAGE);
    const socket = values.socket ?? (process.env.MARGAY_STATUS_SOCKET || `${process.env.MARGAY_RUN_DIR || '/run/margay'}/agent.sock`);
    const timeout = intFlag(values.timeout, 'timeout', 5000, 1, 600_000);
    let answer: unknown;
    try {
      answer = await queryControl(socket, { cmd: 'status' }, timeout);
    } catch (err) {
      process.stderr.write(`margay status: ${(err as Error).message.replace('the speaker', 'the agent')} (is 'margay agent' running? --socket PATH)\n`);
      return 1;
    }
    if (typeof answer === 'object' && answer !== null && 'error' in answer) {
      process.stderr.write(`margay status: the agent answered: ${String((answer as { error: unknown }).error)}\n`);
      return 1;
    }
    const st = answer as AgentStatus;
    process.stdout.write(values.json ? `${JSON.stringify(st, null, 2)}\n` : renderStatus(st, new Date().toISOString().slice(0, 10)));
    return 0;
  },
};
