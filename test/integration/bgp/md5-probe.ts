/**
 * Run inside a namespace by md5.test.ts: connects (or listens) with the real
 * kernel transport and reports, as one JSON line, whether a TCP connection came up
 * and the first bytes the peer sent (a BGP OPEN starts with 16 0xff bytes).
 *   node md5-probe.js connect REMOTE PASSWORD | listen ADDRESS PEER PASSWORD
 */
import { kernelTransport } from '../../../bgp/session/transport.js';

const [mode, a, b, c] = process.argv.slice(2);
const report = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

if (mode === 'connect') {
  try {
    const s = await kernelTransport.connect({ remote: a as string, password: b || undefined, timeoutMs: 4000 });
    const first = await new Promise<string>((res) => {
      const t = setTimeout(() => res(''), 5000);
      s.once('data', (d: Buffer) => {
        clearTimeout(t);
        res(d.subarray(0, 19).toString('hex'));
      });
    });
    report({ connected: true, first });
    s.destroy();
  } catch (err) {
    report({ connected: false, error: (err as Error).message });
  }
} else if (mode === 'listen') {
  let got = false;
  const l = await kernelTransport.listen({ address: a as string, port: 179 }, (s) => {
    got = true;
    report({ connected: true, remote: s.remoteAddress });
    s.destroy();
  });
  if (c) l.setPeerPassword(b as string, c);
  report({ listening: true });
  setTimeout(() => {
    if (!got) report({ connected: false });
    void l.close().then(() => process.exit(0));
  }, 8000);
}
