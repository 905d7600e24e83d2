import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../../../bgp/session/config.js';
import { margay } from '../../../support/cli.js';

// `margay bgp speaker --help` is the only reference of the speaker's config file:
// its sample must be a valid config and show every field the parser accepts.
// Runs the built CLI: `npx tsc -p tsconfig.json` first.

type Obj = Record<string, unknown>;

function helpSample(): string {
  const r = margay(['bgp', 'speaker', '--help']);
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => l.includes('FILE is YAML:'));
  expect(start).toBeGreaterThan(-1);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end).map((l) => l.slice(2)).join('\n');
}

/** The fields the parser allows, at the top, per neighbor and per originated prefix (from its own error). */
function allowedFields(): { top: string[]; neighbor: string[]; originate: string[] } {
  const probe = { asn: 1, routerId: '10.0.0.1', zz: 1, neighbors: [{ address: '10.0.0.2', asn: 2, zz: 1 }], originate: [{ prefix: '10.0.0.0/24', zz: 1 }] };
  try {
    parseConfig(JSON.stringify(probe));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const of = (path: string): string[] => {
      const p = (err as ConfigError).problems.find((x) => x.startsWith(`${path}: unknown field (allowed: `));
      expect(p, path).toBeDefined();
      return (/\(allowed: ([^)]*)\)/.exec(p as string)?.[1] ?? '').split(', ');
    };
    return { top: of('zz'), neighbor: of('neighbors[0].zz'), originate: of('originate[0].zz') };
  }
  throw new Error('an unknown field was accepted');
}

describe('margay bgp speaker --help', () => {
  it('its sample config is valid', () => {
    expect(() => parseConfig(helpSample())).not.toThrow();
  });

  it('its sample shows every field the parser accepts', () => {
    const doc = parse(helpSample()) as Obj;
    const allowed = allowedFields();
    expect(allowed.top.length).toBeGreaterThan(5);
    const neighbor = (doc.neighbors as Obj[])[0] as Obj;
    const originate = (doc.originate as Obj[])[0] as Obj;
    expect(allowed.top.filter((k) => !(k in doc))).toEqual([]);
    expect(allowed.neighbor.filter((k) => !(k in neighbor))).toEqual([]);
    expect(allowed.originate.filter((k) => !(k in originate))).toEqual([]);
  });
});
