// Prometheus-style durations used throughout the config.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  it('parses every unit and compound durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('7d'), 7 * 86_400_000);
    assert.equal(parseDuration('4w'), 28 * 86_400_000);
    assert.equal(parseDuration('1m1ms'), 60_001);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('  2s '), 2000);
  });

  for (const bad of ['', '5', '-5m', '5 m', '5M', '5min', 'ms', '1h-30m', '1e3s', 'abc', '0x10s', '5m30']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseDuration(bad), /invalid duration/);
    });
  }

  it('rejects durations too long to be a number of milliseconds', () => {
    assert.throws(() => parseDuration('99999999999w'), /too long/);
    assert.throws(() => parseDuration(`${'9'.repeat(400)}s`), /too long/);
  });
});

describe('formatDuration', () => {
  it('uses the largest exact unit', () => {
    assert.equal(formatDuration(0), '0ms');
    assert.equal(formatDuration(1500), '1500ms');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(5_400_000), '90m');
    assert.equal(formatDuration(86_400_000), '1d');
    assert.equal(formatDuration(604_800_000), '1w');
  });

  it('round-trips through parseDuration', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 * 604_800_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
  });
});
