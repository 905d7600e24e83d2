import { describe, expect, it } from 'vitest';
import { signalExitCode } from '../../../../agent/lab/signal-exit.js';

describe('signalExitCode', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
  ] as const)('%s → %i (128 + signal number)', (sig, code) => {
    expect(signalExitCode(sig)).toBe(code);
  });
});
