import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Checks a password against a bcrypt hash. */
export interface PasswordVerifier {
  verify(password: string, hash: string): Promise<boolean>;
}

/** Every worker is busy and the queue is full: try again later. */
export class VerifierBusyError extends Error {}

const BCRYPTJS = createRequire(import.meta.url).resolve('bcryptjs');

// CommonJS evaluated in the worker: no loader hooks, no TypeScript, just bcryptjs.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(BCRYPTJS)});
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

interface Job {
  id: number;
  password: string;
  hash: string;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

/**
 * bcrypt compares on worker threads, never on the main thread: a compare at cost 10 is ~80 ms of
 * CPU, and a flood of wrong passwords on the event loop would stall scrapes and sweeps. At most
 * `threads` compares run at once and at most `maxQueued` wait; beyond that `verify` fails at once
 * with VerifierBusyError, so a flood cannot queue unbounded work either.
 */
export class BcryptWorkers implements PasswordVerifier {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  /** Compares running now, and the most ever run at once (for tests and the bench). */
  active = 0;
  peakActive = 0;

  constructor(
    private readonly threads = 1,
    private readonly maxQueued = 16,
  ) {}

  verify(password: string, hash: string): Promise<boolean> {
    if (this.active >= this.threads && this.queue.length >= this.maxQueued) {
      return Promise.reject(new VerifierBusyError('too many password checks in progress'));
    }
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, password, hash, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.idleSlot();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      this.active++;
      this.peakActive = Math.max(this.peakActive, this.active);
      slot.worker.postMessage({ id: job.id, password: job.password, hash: job.hash });
    }
  }

  private idleSlot(): Slot | null {
    const idle = this.slots.find((s) => !s.job);
    if (idle) return idle;
    if (this.slots.length >= this.threads) return null;
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }), job: null };
    slot.worker.unref(); // an idle verifier must not keep the process (or a test) alive
    slot.worker.on('message', (m: { id: number; ok: boolean }) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      this.finish(slot);
      job.resolve(m.ok);
    });
    const lost = (err: Error) => {
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      const job = slot.job;
      if (job) {
        this.finish(slot);
        job.reject(err);
      }
    };
    slot.worker.on('error', lost);
    slot.worker.on('exit', (code) => lost(new Error(`password check worker exited (code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot): void {
    slot.job = null;
    this.active--;
    this.dispatch();
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
