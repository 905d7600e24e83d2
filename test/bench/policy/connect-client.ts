/**
 * Sequential TCP connects to ip:port, run inside a pod namespace; prints
 * {"n", "medianUs", "meanUs", "p99Us"} of connect latency (SYN → established).
 *   node connect-client.js IP PORT N
 */
import { connect } from 'node:net';

const [ip, portText, nText] = process.argv.slice(2);
const port = Number(portText);
const n = Number(nText ?? 1000);
const samples: number[] = [];
for (let i = 0; i < n; i++) {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: ip as string, port }, () => {
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
      s.destroy();
      resolve();
    });
    s.setTimeout(2000, () => reject(new Error(`connect to ${ip}:${port} timed out`)));
    s.once('error', reject);
  });
}
samples.sort((a, b) => a - b);
const q = (f: number): number => samples[Math.min(samples.length - 1, Math.floor(f * samples.length))] as number;
process.stdout.write(`${JSON.stringify({ n, medianUs: q(0.5), meanUs: samples.reduce((a, b) => a + b, 0) / n, p99Us: q(0.99) })}\n`);
