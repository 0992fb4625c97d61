// The sweep's clocks: a monotonic now() for request times, and its offset to the realtime clock
// that stamps captured frames.

// timeOrigin is a getter that boxes a fresh number on every read: read it once.
const origin = performance.timeOrigin;
export const now = (): number => origin + performance.now();

/**
 * Offset (ms) from now() to the realtime clock that stamps captured frames, or null if the host
 * is too busy to measure it. Spins until Date.now() ticks to the next millisecond (< 1 ms): the
 * tick lies between the now() reads around the Date.now() calls that saw the old and the new
 * value, so a sample whose reads were not preempted is exact to a few µs. Median of up to 3
 * samples; usually 1-3 ms, at most 25 ms on a loaded host.
 */
export function realtimeOffset(): number | null {
  const samples: number[] = [];
  const t0 = now();
  let before = t0;
  let last = Date.now();
  for (;;) {
    const a = now();
    const d = Date.now();
    const b = now();
    if (d !== last) {
      if (b - before < 0.005) samples.push(d - (before + b) / 2);
      last = d;
    }
    before = a;
    const spent = b - t0;
    if (samples.length === 3 || spent > 25 || (spent > 3 && samples.length > 0)) break;
  }
  samples.sort((x, y) => x - y);
  return samples.length ? samples[(samples.length - 1) >> 1] : null;
}
