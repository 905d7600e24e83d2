import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ignoreEpipe, lineWriter } from '../../../../agent/lab/pipe-safe.js';

const epipe = (): NodeJS.ErrnoException => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

/** stderr piped into `head -1`: the first line goes through, every later one fails with EPIPE. */
function closedAfterOne(): { stream: Writable; got: string[] } {
  const got: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (got.length === 0) { got.push(chunk.toString()); cb(); } else cb(epipe());
    },
  });
  return { stream, got };
}

describe('lab progress writes survive a closed pipe', () => {
  it('keeps writing (and so keeps tearing down) after the reader went away', async () => {
    const { stream, got } = closedAfterOne();
    const say = lineWriter(stream, 'lab: ');
    for (const l of ['lab mg1: 3 nodes', 'stopped agent-n1', 'stopped agent-n2', 'deleted 4 namespaces']) {
      expect(() => say(l)).not.toThrow();
      await new Promise((r) => setImmediate(r));
    }
    expect(got).toEqual(['lab: lab mg1: 3 nodes\n']);
    expect(stream.destroyed).toBe(true);
  });

  it('an EPIPE error event on a guarded stream is not thrown; another error is', () => {
    const { stream } = closedAfterOne();
    ignoreEpipe(stream);
    expect(() => stream.emit('error', epipe())).not.toThrow();
    expect(() => stream.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });
});
