/** The test's side of apiserver-main.ts's control socket: one request, one answer. */
import { connect } from 'node:net';

export async function apiCall<T = unknown>(socket: string, req: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const c = connect(socket);
    let buf = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`API control ${JSON.stringify(req).slice(0, 80)}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.end();
      const a = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: T; error?: string };
      if (a.ok) resolve(a.result as T);
      else reject(new Error(`API ${String(req.op)}: ${a.error ?? 'failed'}`));
    });
    c.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}
