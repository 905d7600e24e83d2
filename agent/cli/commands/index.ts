import type { Command } from '../command.js';
import { agentCommand } from './agent.js';
import { statusCommand } from './status.js';
import { bgpCommand } from './bgp.js';
import { policyCommand } from './policy.js';
import { labCommand } from './lab.js';
import { validateCommand } from './validate.js';

export const commands: Command[] = [agentCommand, statusCommand, bgpCommand, policyCommand, labCommand, validateCommand];
