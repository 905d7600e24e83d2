import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// agent/dataplane/netlink and agent/dataplane/plan are the pure core: no sockets,
// processes, files, netlink library, logger or clock. (eslint.config.js has no
// override for agent/ folders, so this test is the failing check.)
const root = new URL('../../../../agent/dataplane/', import.meta.url).pathname;
const FORBIDDEN = /from '(node:)?(net|child_process|fs|fs\/promises|dgram|http)'|from '(node-netlink|syscall-napi|pino|@kubernetes\/client-node)'|from '\.\.\/kernel\/|\bDate\b/;

describe('dataplane pure core', () => {
  for (const dir of ['netlink', 'plan']) {
    it(`${dir}/ imports nothing from the outside world`, () => {
      const files = readdirSync(join(root, dir)).filter((f) => f.endsWith('.ts'));
      expect(files.length).toBeGreaterThan(3);
      for (const f of files) expect(`${f}: ${FORBIDDEN.exec(readFileSync(join(root, dir, f), 'utf8'))?.[0] ?? 'clean'}`).toBe(`${f}: clean`);
    });
  }
});
