/**
 * Polls `fn` until it returns something other than undefined/false, or `timeoutMs` runs out;
 * the error names what was awaited, the last exception and `diag()` (e.g. process logs).
 */
export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  opts: { everyMs?: number; diag?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}\n${opts.diag?.() ?? ''}`);
}
