/**
 * The fake API server as a separate process, for agents in lab namespaces: an
 * in-process server on 127.0.0.1 of the ROOT namespace cannot be reached from a node
 * namespace, so this runs INSIDE a lab namespace (the fabric), serves the fake API
 * server on its loopback and forwards `--listen ADDR:PORT` (the fabric address) to
 * it. The test drives it over a unix socket (`--control PATH`, reachable from any
 * namespace through the file system): one JSON request per line
 *   {"op":"create"|"update"|"apply", "object": {...}} · {"op":"delete","kind","name","namespace"?}
 *   {"op":"list","kind"} · {"op":"requests"}
 * answered by one JSON line {"ok":true,"result":...} or {"ok":false,"error":"..."}.
 * Runs until SIGTERM.
 */
import { createServer, connect, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { KINDS } from '../../../agent/datastore/resources.js';
import { FakeApiServer, type KindSpec } from '../../support/fake-apiserver.js';

const args = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2) args.set(process.argv[i] as string, process.argv[i + 1] as string);
const listen = args.get('--listen');
const control = args.get('--control');
if (!listen || !control) {
  process.stderr.write('usage: apiserver-main --listen ADDR:PORT --control SOCKET\n');
  process.exit(2);
}
const [host, portText] = [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)];

const kinds: KindSpec[] = [
  ...KINDS.map((k) => ({ kind: k.kind, group: k.group, version: k.version, plural: k.plural, namespaced: k.namespaced })),
  { kind: 'IPAMBlock', group: 'margay.io', version: 'v1', plural: 'ipamblocks', namespaced: false },
  { kind: 'IPAMHandle', group: 'margay.io', version: 'v1', plural: 'ipamhandles', namespaced: false },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true },
];
const api = new FakeApiServer(kinds, { bookmarkIntervalMs: 1000 });
const local = new URL(await api.start());

// the fabric address → the fake server on loopback
const sockets = new Set<Socket>();
const proxy = createServer((client) => {
  const upstream = connect(Number(local.port), '127.0.0.1');
  sockets.add(client);
  sockets.add(upstream);
  client.pipe(upstream).pipe(client);
  const close = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
});
await new Promise<void>((resolve, reject) => { proxy.once('error', reject); proxy.listen(Number(portText), host, resolve); });

type Request =
  | { op: 'create' | 'update' | 'apply'; object: Record<string, unknown> }
  | { op: 'delete'; kind: string; name: string; namespace?: string }
  | { op: 'list'; kind: string }
  | { op: 'requests' };

function handle(req: Request): unknown {
  switch (req.op) {
    case 'create': return api.create(req.object);
    case 'update': return api.update(req.object);
    case 'apply': {
      const m = req.object.metadata as { name: string; namespace?: string };
      return api.get(req.object.kind as string, m.name, m.namespace) ? api.update(req.object) : api.create(req.object);
    }
    case 'delete': api.delete(req.kind, req.name, req.namespace); return null;
    case 'list': return api.list(req.kind);
    case 'requests': return api.requests.length;
    default: throw new Error(`unknown op ${(req as { op: unknown }).op as string}`);
  }
}

rmSync(control, { force: true });
const ctl = createServer((conn) => {
  let buf = '';
  conn.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let answer: unknown;
      try {
        answer = { ok: true, result: handle(JSON.parse(line) as Request) };
      } catch (err) {
        answer = { ok: false, error: (err as Error).message };
      }
      conn.write(`${JSON.stringify(answer)}\n`);
    }
  });
  conn.on('error', () => undefined);
});
await new Promise<void>((resolve) => ctl.listen(control, resolve));
process.stdout.write(`fake API server on ${listen} (loopback ${local.port}), control ${control}\n`);

process.once('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  proxy.close();
  ctl.close();
  rmSync(control, { force: true });
  void api.stop().finally(() => process.exit(0));
});
