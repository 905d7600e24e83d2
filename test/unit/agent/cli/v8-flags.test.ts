import { describe, expect, it } from 'vitest';
import { missingV8Flags, v8FlagsFrom } from '../../../../agent/cli/v8-flags.js';

describe('V8 flags of long-running commands', () => {
  it('adds only the flags the command line does not set, a --no- form counting as set', () => {
    const wanted = ['--always-sparkplug', '--no-lazy-feedback-allocation', '--max-semi-space-size=4'];
    expect(missingV8Flags(wanted, [])).toEqual(wanted);
    expect(missingV8Flags(wanted, ['--no-always-sparkplug', '--max-semi-space-size=16'])).toEqual(['--no-lazy-feedback-allocation']);
    expect(missingV8Flags(wanted, ['--lazy-feedback-allocation', '--always-sparkplug', '--max-semi-space-size=4'])).toEqual([]);
    expect(missingV8Flags(wanted, ['--inspect'])).toEqual(wanted);
  });

  it('takes the defaults, none (0), or a list from the environment', () => {
    const d = ['--a', '--b'];
    const from = (v: string | undefined) => v8FlagsFrom('MARGAY_AGENT_V8_FLAGS', v, d);
    expect(from(undefined)).toEqual({ flags: d });
    expect(from('  ')).toEqual({ flags: d });
    expect(from('0')).toEqual({ flags: [] });
    expect(from('--x,--y=2 --z')).toEqual({ flags: ['--x', '--y=2', '--z'] });
  });

  it('refuses what Node would take for the script or an end of options, naming the variable', () => {
    for (const bad of ['--', 'foo', '--stack-size 900', '-x', '--=1']) {
      expect(v8FlagsFrom('MARGAY_SPEAKER_V8_FLAGS', bad, []), bad).toEqual({ error: expect.stringMatching(/^MARGAY_SPEAKER_V8_FLAGS: ".*" is not a V8 flag/) as unknown });
    }
  });
});
