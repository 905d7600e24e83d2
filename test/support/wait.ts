/** Polls `check` until it returns a truthy value or `timeoutMs` passes (bounded). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition', intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
