// The lab's process helpers are the agent's own (agent/exec.ts); re-exported here so
// lab code and tests keep one import path.
export * from '../exec.js';
