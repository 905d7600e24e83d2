import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecFailure, hostExec } from '../../../../policy/apply/exec.js';
import { DEFAULT_PATH, searchPath, ToolMissing, toolArgv, toolResolver } from '../../../../policy/apply/tool-path.js';

describe('searchPath (pure): the first absolute PATH directory holding an executable', () => {
  const files = new Set(['/usr/sbin/ipset', '/sbin/ipset', '/opt/x/iptables-restore']);
  const has = (f: string): boolean => files.has(f);
  it.each([
    ['first match in PATH order', 'ipset', '/usr/local/bin:/usr/sbin:/sbin', { found: '/usr/sbin/ipset' }],
    ['empty and relative entries are skipped (never the working directory)', 'iptables-restore', ':.:bin:/opt/x/', { found: '/opt/x/iptables-restore' }],
    ['not found: the directories searched', 'ip6tables-restore', '/usr/sbin:rel:/sbin', { searched: ['/usr/sbin', '/sbin'] }],
    ['PATH unset: the default', 'ipset', undefined, { found: '/usr/sbin/ipset' }],
    ['PATH empty: the default', 'nft', '', { searched: DEFAULT_PATH.split(':') }],
    ['a name with a slash is taken as given', './tool', '/usr/sbin', { found: './tool' }],
  ])('%s', (_t, name, path, want) => {
    expect(searchPath(name, path, has)).toEqual(want);
  });
});

describe('toolResolver: looked up once, then cached', () => {
  it('searches PATH on the first use only (later uses check the cached file); a miss is not cached and names tool and PATH', () => {
    const asked: string[] = [];
    let present = new Set(['/b/ipset']);
    const resolve = toolResolver({ pathEnv: () => '/a:/b', isExecutable: (f) => { asked.push(f); return present.has(f); } });
    expect(resolve('ipset')).toBe('/b/ipset');
    expect(resolve('ipset')).toBe('/b/ipset');
    expect(asked).toEqual(['/a/ipset', '/b/ipset', '/b/ipset']);
    expect(() => resolve('iptables-restore')).toThrow(new ToolMissing('iptables-restore', ['/a', '/b']));
    expect(() => resolve('iptables-restore')).toThrow('iptables-restore: not found in PATH (searched /a:/b)');
    present = new Set(['/a/iptables-restore']);
    expect(resolve('iptables-restore')).toBe('/a/iptables-restore');
    expect(asked.filter((f) => f.endsWith('iptables-restore'))).toEqual(['/a/iptables-restore', '/b/iptables-restore', '/a/iptables-restore', '/b/iptables-restore', '/a/iptables-restore']);
  });

  it('looks a tool up again when its cached file is gone (moved by a package upgrade)', () => {
    let present = new Set(['/a/ipset']);
    const resolve = toolResolver({ pathEnv: () => '/a:/b', isExecutable: (f) => present.has(f) });
    expect(resolve('ipset')).toBe('/a/ipset');
    present = new Set(['/b/ipset']);
    expect(resolve('ipset')).toBe('/b/ipset');
    present = new Set();
    expect(() => resolve('ipset')).toThrow(ToolMissing);
  });
});

describe('hostExec runs tools by their resolved absolute path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'margay-tools-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'a', 'mg-tool'), { recursive: true }); // a directory of that name: skipped
  mkdirSync(join(dir, 'b'));
  mkdirSync(join(dir, 'c'));
  writeFileSync(join(dir, 'b', 'mg-tool'), '#!/bin/sh\necho not executable\n'); // no x bit: skipped
  writeFileSync(join(dir, 'c', 'mg-tool'), '#!/bin/sh\nread line\necho "$0 $1 $line"\n');
  chmodSync(join(dir, 'c', 'mg-tool'), 0o755);
  const path = ['a', 'b', 'c'].map((d) => join(dir, d)).join(':');

  it('finds the executable file, runs it with its input; a missing tool rejects with ToolMissing before any spawn', async () => {
    const calls: string[] = [];
    const real = toolResolver({ pathEnv: () => path });
    const exec = hostExec({ resolve: (n) => { calls.push(n); return real(n); } });
    expect((await exec.run(['mg-tool', 'x'], 'hello\n')).stdout).toBe(`${join(dir, 'c', 'mg-tool')} x hello\n`);
    await expect(exec.run(['mg-missing'])).rejects.toThrow(new ToolMissing('mg-missing', path.split(':')));
    expect(calls).toEqual(['mg-tool', 'mg-missing']);
  });

  it('a failing tool is still an ExecFailure naming the argv as given', async () => {
    writeFileSync(join(dir, 'c', 'mg-fail'), '#!/bin/sh\necho boom >&2\nexit 3\n');
    chmodSync(join(dir, 'c', 'mg-fail'), 0o755);
    const err = await hostExec({ resolve: toolResolver({ pathEnv: () => path }) }).run(['mg-fail', '-w']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailure);
    expect(err).toMatchObject({ argv: ['mg-fail', '-w'], code: 3, stderr: 'boom\n' });
  });
});

describe('toolArgv', () => {
  const resolve = (n: string): string => `/sbin/${n}`;
  it('resolves the tool, and runs it through ip netns exec in a namespace', () => {
    expect(toolArgv(['ipset', 'list'], undefined, resolve)).toEqual(['/sbin/ipset', 'list']);
    expect(toolArgv(['iptables', '-S'], 'mg1-n1', resolve)).toEqual(['/sbin/ip', 'netns', 'exec', 'mg1-n1', '/sbin/iptables', '-S']);
  });
});
