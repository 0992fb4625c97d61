// The sweep scheduler: first run at start, then interval ± jitter, never overlapping, triggers
// coalesced, failures do not stop it. Short intervals; assertions on order and counts only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Scheduler } from '../../src/monitor/scheduler.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

describe('Scheduler', () => {
  it('runs once at start, then keeps running every interval', async () => {
    let runs = 0;
    const s = new Scheduler(async () => void runs++, 10, 0.5);
    assert.equal(runs, 0);
    s.start();
    assert.equal(runs, 1, 'the first run starts immediately');
    await until(() => runs >= 4, 'four runs');
    await s.stop();
    const after = runs;
    await sleep(50);
    assert.equal(runs, after, 'no run after stop');
  });

  it('never overlaps runs, whatever the interval and triggers', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const s = new Scheduler(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(15);
        active--;
        runs++;
      },
      1_000,
      0,
    );
    s.start();
    for (let i = 0; i < 20; i++) {
      void s.trigger();
      await sleep(1);
    }
    await until(() => runs >= 2 && !s.busy, 'the triggered runs');
    await s.stop();
    assert.equal(maxActive, 1);
  });

  it('triggers during a run are coalesced into one extra run, and their promises wait for it', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const log: string[] = [];
    let run = 0;
    const s = new Scheduler(
      async () => {
        const i = run++;
        log.push(`start ${i}`);
        await gates[i].promise;
        log.push(`end ${i}`);
      },
      60_000,
      0,
    );
    s.start();
    assert.equal(s.busy, true);
    const waits = [s.trigger(), s.trigger(), s.trigger()];
    const settled: string[] = [];
    for (const [i, w] of waits.entries()) void w.then(() => settled.push(`trigger ${i}`));
    gates[0].resolve();
    await until(() => log.includes('start 1'), 'the coalesced run');
    assert.deepEqual(settled, [], 'trigger promises are pending until the extra run has finished');
    gates[1].resolve();
    await Promise.all(waits);
    assert.deepEqual(log, ['start 0', 'end 0', 'start 1', 'end 1']);
    assert.deepEqual(settled, ['trigger 0', 'trigger 1', 'trigger 2']);
    assert.equal(run, 2, 'three triggers, one extra run');
    await s.stop();
  });

  it('a trigger while idle runs now and resolves when done; it replaces the pending timer', async () => {
    let runs = 0;
    const s = new Scheduler(async () => void runs++, 60_000, 0);
    s.start();
    await until(() => !s.busy, 'the first run');
    await s.trigger();
    assert.equal(runs, 2);
    await s.trigger();
    assert.equal(runs, 3);
    await s.stop();
  });

  it('a task that throws or rejects does not stop the schedule', async () => {
    let runs = 0;
    const s = new Scheduler(
      (() => {
        runs++;
        if (runs % 2) throw new Error('sync failure');
        return Promise.reject(new Error('async failure'));
      }) as () => Promise<void>,
      5,
      0,
    );
    s.start();
    await until(() => runs >= 5, 'runs after failures');
    await s.trigger(); // resolves (does not reject) even though the run failed
    await s.stop();
  });

  it('stop waits for the run in progress; triggers after stop do nothing', async () => {
    const gate = deferred();
    let finished = false;
    let runs = 0;
    const s = new Scheduler(
      async () => {
        runs++;
        await gate.promise;
        finished = true;
      },
      5,
      0,
    );
    s.start();
    const stopped = s.stop();
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    await sleep(10);
    assert.equal(stopDone, false);
    gate.resolve();
    await stopped;
    assert.equal(finished, true);
    await s.trigger();
    s.start();
    await sleep(20);
    assert.equal(runs, 1);
  });

  it('setInterval applies from the next scheduled run', async () => {
    let runs = 0;
    const s = new Scheduler(async () => void runs++, 60_000, 0);
    s.start();
    await until(() => !s.busy, 'the first run');
    s.setInterval(5, 0);
    await s.trigger(); // the run after this one is scheduled with the new interval
    await until(() => runs >= 5, 'runs at the new interval');
    await s.stop();
  });

  it('an interval beyond the timer range waits instead of firing at once', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      let runs = 0;
      const s = new Scheduler(async () => void runs++, 30 * 86_400_000, 0.1); // 30 days > 2^31-1 ms
      s.start();
      await sleep(50);
      assert.equal(runs, 1);
      await s.stop();
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => w.name === 'TimeoutOverflowWarning'), []);
  });

  it('requested runs (POST /-/sweep) answer at once, are coalesced, and start at most once per gap', async () => {
    const gates = [deferred(), deferred(), deferred(), deferred()];
    let run = 0;
    const s = new Scheduler(async () => void (await gates[Math.min(run++, 3)].promise), 60_000, 0);
    s.start();
    // During the first run: 30 requests become one extra run right after it.
    const during = Array.from({ length: 30 }, () => s.request(150));
    assert.deepEqual(new Set(during.map((r) => r.state)), new Set(['coalesced']));
    gates[0].resolve();
    await until(() => run === 2, 'the coalesced run');
    gates[1].resolve();
    await until(() => !s.busy, 'the coalesced run to end');
    // Right after it: deferred until one gap after its start, and every request joins that one.
    const after = Array.from({ length: 30 }, () => s.request(150));
    assert.equal(after[0].state, 'queued');
    assert.ok(after[0].startsInMs > 0 && after[0].startsInMs <= 150, `starts in ${after[0].startsInMs} ms`);
    assert.ok(after.slice(1).every((r) => r.state === 'coalesced'), JSON.stringify(after.slice(0, 3)));
    assert.equal(run, 2, 'nothing started at once');
    await until(() => run === 3, 'the deferred run');
    gates[2].resolve();
    await until(() => !s.busy, 'the deferred run to end');
    assert.equal(run, 3, '60 requests, two extra runs');
    gates[3].resolve();
    await s.stop();
    assert.equal(s.request(150).state, 'stopped');
  });

  it('a request long after the last run starts one now; stop cancels a deferred one', async () => {
    let runs = 0;
    const s = new Scheduler(async () => void runs++, 60_000, 0);
    s.start();
    await until(() => !s.busy, 'the first run');
    await sleep(60);
    assert.equal(s.request(50).state, 'started');
    await until(() => runs === 2 && !s.busy, 'the requested run');
    assert.equal(s.request(10_000).state, 'queued');
    await s.stop();
    await sleep(20);
    assert.equal(runs, 2);
  });
});
