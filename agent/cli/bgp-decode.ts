import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { choiceFlag, parseFlags } from './args.js';
import { UsageError } from './usage-error.js';
import { dumpStream } from '../../bgp/wire/dump.js';

const USAGE = `usage: margay bgp decode [FILE|-] [--as4 auto|yes|no] [--add-path FAMILIES]

Reads raw BGP messages (each starting with the 16-octet marker, concatenated as in
one direction of a TCP stream) from FILE, or stdin for "-" or no FILE, and prints one
JSON object per message: type, length and the decoded fields. A malformed message
prints an object with "error" (the NOTIFICATION it maps to: code, subcode, name,
dataHex, and the RFC 7606 action); decoding goes on where framing allows.
Exit 0 when every message decoded, 1 when some did not.

flags:
  --as4 auto|yes|no      AS_PATH width: 4 octets (yes), 2 (no), or as the OPEN seen
                         earlier in the stream says (auto, the default; 4 before any OPEN)
  --add-path FAMILIES    comma-separated families whose NLRI carry ADD-PATH path ids:
                         ipv4, ipv6 (or AFI/SAFI such as 1/1); prefixes then print as
                         {prefix, pathId}`;

const FAMILY_ALIASES: Readonly<Record<string, string>> = {
  ipv4: '1/1', 'ipv4-unicast': '1/1', ipv6: '2/1', 'ipv6-unicast': '2/1', 'ipv4-multicast': '1/2', 'ipv6-multicast': '2/2',
};

export function parseFamilies(text: string | undefined): Set<string> {
  const out = new Set<string>();
  if (text === undefined || text === '') return out;
  for (const raw of text.split(',')) {
    const f = raw.trim().toLowerCase();
    const key = FAMILY_ALIASES[f] ?? (/^\d+\/\d+$/.test(f) ? f : undefined);
    if (key === undefined) throw new UsageError(`--add-path: unknown family "${raw}" (ipv4, ipv6, or AFI/SAFI)`, USAGE);
    out.add(key);
  }
  return out;
}

export const bgpDecodeCommand: Command = {
  name: 'decode',
  summary: 'decode raw BGP messages to JSON lines',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { as4: { type: 'string' }, 'add-path': { type: 'string' } }, USAGE, { positionals: true });
    if (positionals.length > 1) throw new UsageError(`one input at most, got ${positionals.length}`, USAGE);
    const as4 = choiceFlag(values.as4, 'as4', ['auto', 'yes', 'no'] as const, 'auto');
    const addPath = parseFamilies(values['add-path']);
    const file = positionals[0] ?? '-';
    let input: Buffer;
    try {
      input = readFileSync(file === '-' ? 0 : file);
    } catch (err) {
      process.stderr.write(`margay bgp decode: cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    let bad = 0;
    let chunk: string[] = [];
    for (const obj of dumpStream(input, { as4, addPath })) {
      if ('error' in obj) bad++;
      chunk.push(JSON.stringify(obj));
      if (chunk.length >= 1000) {
        process.stdout.write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) process.stdout.write(`${chunk.join('\n')}\n`);
    return bad === 0 ? 0 : 1;
  },
};
