import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labId, labLogDir, readLabState, readLabStates, removeLabState, writeLabState, type LabState } from '../../../../agent/lab/state.js';
import { isRecordedProcessAlive, processStartTime } from '../../../../agent/lab/processes.js';

const state = (prefix: string): LabState => ({
  version: 1,
  prefix,
  fabric: 'l2',
  origin: 'api',
  createdAt: '2026-01-01T00:00:00.000Z',
  owner: { pid: 1, startTime: '' },
  namespaces: [`${prefix}fabric`],
  processes: [],
  nodes: [],
  pods: [],
});

describe('lab state files', () => {
  let root = '';
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'margay-state-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes, reads back, lists and removes a lab (with its log directory)', async () => {
    await writeLabState(root, state('mgaa01-'));
    await writeLabState(root, state('mgaa02-'));
    await mkdir(labLogDir(root, 'mgaa01-'));
    expect(await readLabState(root, 'mgaa01')).toEqual(state('mgaa01-'));
    expect((await readLabStates(root)).map((s) => s.prefix)).toEqual(['mgaa01-', 'mgaa02-']);
    await removeLabState(root, 'mgaa01-');
    expect(await readLabState(root, 'mgaa01-')).toBeUndefined();
    expect(await readdir(root)).toEqual(['mgaa02.json']);
  });

  it('skips files that are not lab states, and a missing root', async () => {
    await writeFile(join(root, 'junk.json'), '{"version": 2}');
    await writeFile(join(root, 'broken.json'), '{');
    await writeLabState(root, state('mgaa03-'));
    expect((await readLabStates(root)).map((s) => s.prefix)).toEqual(['mgaa03-']);
    expect(await readLabStates(join(root, 'nope'))).toEqual([]);
  });

  it('derives the id from a prefix with or without its dash', () => {
    expect(labId('mg3fa9-')).toBe('mg3fa9');
    expect(labId('mg3fa9')).toBe('mg3fa9');
  });
});

describe('recorded processes', () => {
  it('knows this process by PID and start time, and not under another start time', () => {
    const startTime = processStartTime(process.pid);
    expect(startTime).toMatch(/^\d+$/);
    expect(isRecordedProcessAlive({ pid: process.pid, startTime: startTime as string })).toBe(true);
    expect(isRecordedProcessAlive({ pid: process.pid, startTime: '1' })).toBe(false);
    expect(isRecordedProcessAlive({ pid: 2 ** 22 + 1, startTime: '' })).toBe(false);
  });
});
