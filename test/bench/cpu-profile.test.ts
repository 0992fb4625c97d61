import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariseProfile } from '../../bench/cpu-profile.js';

test('summariseProfile attributes a real node --cpu-prof profile to the function that burned the CPU', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-prof-'));
  try {
    const script = join(dir, 'spin.mjs');
    // Pure JS in one named function, a tenth of that in each of four others, so the profile has at
    // least five functions. Work is counted in iterations, not wall time: on a busy machine a
    // spin-until-deadline loop gets only part of a CPU and its share of samples is arbitrary.
    writeFileSync(
      script,
      [['spinForAWhile', 40_000_000], ['spinA', 4_000_000], ['spinB', 4_000_000], ['spinC', 4_000_000], ['spinD', 4_000_000]]
        .map(([name, n]) => `function ${name}() { let x = 0; for (let i = 0; i < ${n}; i++) x += Math.sqrt(x + i); return x; }\n${name}();\n`)
        .join(''),
    );
    execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, script]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    assert.ok(file, 'node wrote a profile');
    const s = summariseProfile(readFileSync(join(dir, file), 'utf8'), 5);
    assert.ok(s.totalMs > 0, `profile spans the run: ${s.totalMs} ms`);
    assert.equal(s.functions.length, 5);
    assert.equal(s.functions[0].name, 'spinForAWhile (spin.mjs)');
    assert.ok(s.functions[0].ms > s.functions[1].ms, JSON.stringify(s.functions));
    const ours = s.categories.find((c) => c.name === 'ours: spin.mjs');
    assert.ok(ours && ours.ms >= s.functions[0].ms, JSON.stringify(s.categories));
    // Categories partition the sampled time: their sum cannot exceed the profiled span.
    const sum = s.categories.reduce((a, c) => a + c.ms, 0);
    assert.ok(sum <= s.totalMs + 1, `${sum} <= ${s.totalMs}`);
    for (let i = 1; i < s.categories.length; i++) assert.ok(s.categories[i - 1].ms >= s.categories[i].ms, 'largest first');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
