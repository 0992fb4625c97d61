const MAX_TIMER_MS = 2 ** 31 - 1;

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
    this.timer = setTimeout(() => void this.trigger(), delay);
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
