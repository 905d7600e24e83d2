/**
 * Output of every command (margay.ts guards stdout/stderr at start) and the lab's
 * progress lines, written so that a reader that
 * went away (`margay lab up 2>&1 | head -3`: EPIPE) cannot stop a lab half-built
 * or half torn down: the write error is dropped and the command carries on.
 * State: the 'error' listener installed once per stream.
 */
const guarded = new WeakSet<NodeJS.WritableStream>();

function isEpipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** Ignores EPIPE on `stream` (other errors are thrown as before). */
export function ignoreEpipe(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (err: unknown) => {
    if (!isEpipe(err)) throw err;
  });
}

/** A line writer on `stream` that never throws for a closed pipe and skips writes once the stream is gone (a closed pipe ends it). */
export function lineWriter(stream: NodeJS.WritableStream & { destroyed?: boolean; writable?: boolean }, prefix = ''): (line: string) => void {
  return (line) => {
    // installed at the first write, so that merely loading a command module changes no stream
    ignoreEpipe(stream);
    if (stream.destroyed === true || stream.writable === false) return;
    try {
      stream.write(`${prefix}${line}\n`);
    } catch (err) {
      if (!isEpipe(err)) throw err;
    }
  };
}
