import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { queryControl, serveControl } from '../../../../bgp/session/control.js';

// The control socket (a unix stream socket under a mkdtemp directory; no network).

let dir: string | undefined;
afterEach(async () => { if (dir) await rm(dir, { recursive: true, force: true }); dir = undefined; });

describe('speaker control socket', () => {
  it('close() resolves promptly while a client keeps its connection open, ends that client and removes the socket file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-ctl-'));
    const path = join(dir, 'spk.ctl');
    const srv = await serveControl(path, (req) => ({ echo: req.cmd }));
    expect(await queryControl(path, { cmd: 'status' })).toEqual({ echo: 'status' });
    // a monitor that asks once and stays connected
    const client = net.connect(path);
    const answered = new Promise<string>((res) => client.once('data', (d: Buffer) => res(d.toString('utf8'))));
    const ended = new Promise<void>((res) => client.once('close', () => res()));
    client.on('error', () => undefined);
    client.write('{"cmd":"status"}\n');
    expect(JSON.parse(await answered)).toEqual({ echo: 'status' });
    const t0 = performance.now();
    const closed = await Promise.race([srv.close().then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 100))]);
    expect(closed).toBe(true);
    expect(performance.now() - t0).toBeLessThan(100);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
    await ended;
    client.destroy();
  });
});
