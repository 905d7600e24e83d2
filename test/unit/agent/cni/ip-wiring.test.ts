import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netnsPathExists } from '../../../../agent/cni/ip-wiring.js';

describe('netnsPathExists (netnsExists of both pod wirings)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-netns-path-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is true for a path that is there and false for one that is not', async () => {
    expect(await netnsPathExists(dir)).toBe(true);
    expect(await netnsPathExists(join(dir, 'gone'))).toBe(false);
  });
});
