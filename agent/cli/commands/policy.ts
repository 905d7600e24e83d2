import { groupCommand } from '../command.js';
import { policyCompileCommand } from '../policy-compile.js';

export const policyCommand = groupCommand('policy', 'the NetworkPolicy compiler', [policyCompileCommand]);
