const MAX_TIMER_MS = 2 ** 31 - 1;

/** Sweeps asked for over HTTP start at most this often (per interface); requests in between join the next one. */
export const REQUESTED_SWEEP_GAP_MS = 10_000;

/** What became of a requested run: started now, joined one already due, queued for later, or refused (stopping). */
export type RunRequest = { state: 'started' | 'coalesced' | 'queued' | 'stopped'; startsInMs: number };

/**
 * Runs `task` now, then every `intervalMs` ± jitter. Runs never overlap: a trigger during a
 * run is coalesced into one extra run right after it. A run that throws is the task's
 * business to count and log; the schedule continues.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private lastStartMs = -Infinity;
  /** When `timer` fires (performance.now() time). */
  private timerDueMs = Infinity;

  constructor(
    private readonly task: () => Promise<void>,
    private intervalMs: number,
    private jitter: number,
  ) {}

  start(): void {
    void this.trigger();
  }

  setInterval(intervalMs: number, jitter: number): void {
    this.intervalMs = intervalMs;
    this.jitter = jitter;
  }

  /** Starts a run now (or right after the current one); resolves when that run has finished. */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running.then(() => this.running ?? undefined);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastStartMs = performance.now();
    // The bookkeeping runs in a .then callback, i.e. always after `this.running` is assigned: a
    // task that throws synchronously would otherwise clear `running` before it is set, leaving
    // the scheduler "busy" forever and the schedule dead.
    this.running = this.runTask().then(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        void this.trigger();
      } else {
        this.schedule();
      }
    });
    return this.running;
  }

  /**
   * A run asked for from outside (POST /-/sweep): answers at once. It joins a run already due
   * (during a run: the one right after it; or one queued earlier), and starts no sooner than
   * `minGapMs` after the last run started, so a flood of requests makes at most one run per gap.
   */
  request(minGapMs: number): RunRequest {
    if (this.stopped) return { state: 'stopped', startsInMs: 0 };
    const now = performance.now();
    if (this.running) {
      this.again = true;
      return { state: 'coalesced', startsInMs: 0 };
    }
    const dueMs = this.lastStartMs + minGapMs;
    // A run already due by then (scheduled, or queued by an earlier request) serves this one too.
    if (this.timer && this.timerDueMs <= Math.max(now, dueMs)) return { state: 'coalesced', startsInMs: Math.max(0, Math.round(this.timerDueMs - now)) };
    if (dueMs <= now) {
      void this.trigger();
      return { state: 'started', startsInMs: 0 };
    }
    this.setTimer(dueMs); // replaces a later scheduled run; the schedule resumes after this one
    return { state: 'queued', startsInMs: Math.round(dueMs - now) };
  }

  private async runTask(): Promise<void> {
    try {
      await this.task();
    } catch {
      // the task reports its own failures
    }
  }

  private schedule(): void {
    const spread = this.intervalMs * this.jitter;
    // setTimeout fires after 1 ms for delays above 2^31-1 ms (~24.8 days); never let a long interval become a busy loop.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, this.intervalMs + (Math.random() * 2 - 1) * spread));
    this.setTimer(performance.now() + delay);
  }

  /** `dueMs`: performance.now() time of the next run. */
  private setTimer(dueMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDueMs = dueMs;
    this.timer = setTimeout(() => void this.trigger(), Math.max(0, dueMs - performance.now()));
  }

  get busy(): boolean {
    return this.running !== null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
