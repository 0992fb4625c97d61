// The logger: logfmt (default) and JSON lines, levels, bound fields, trace context.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, setLogContextProvider, type LogFormat, type LogLevel } from '../src/log.js';

function capture(level: LogLevel = 'info', format: LogFormat = 'logfmt') {
  const lines: string[] = [];
  return { log: new Logger(level, format, {}, (l) => lines.push(l)), lines };
}

/** Minimal logfmt parser: key=value or key="quoted \"value\"". */
function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s]*)/g)) out[m[1]] = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
  return out;
}

afterEach(() => setLogContextProvider(() => undefined));

describe('Logger', () => {
  it('writes one logfmt line per record, ts level msg first', () => {
    const { log, lines } = capture();
    log.info('listening', { address: ':9736', tls: false, n: 3 });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n'));
    assert.match(lines[0], /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info msg=listening address=:9736 tls=false n=3\n$/);
  });

  it('quotes and escapes values that need it, so a record stays on one line', () => {
    const { log, lines } = capture();
    log.warn('sweep failed: "eth0" down', { err: new Error('line1\nline2'), empty: '', eq: 'a=b', obj: { a: [1, 2] }, nothing: null, skipped: undefined });
    assert.equal(lines[0].split('\n').length, 2, 'exactly one newline, at the end');
    const f = parseLogfmt(lines[0]);
    assert.equal(f.level, 'warn');
    assert.equal(f.msg, 'sweep failed: "eth0" down');
    assert.equal(f.err, 'line1\nline2');
    assert.equal(f.empty, '');
    assert.equal(f.eq, 'a=b');
    assert.equal(f.obj, '{"a":[1,2]}');
    assert.equal(f.nothing, 'null');
    assert.ok(!('skipped' in f));
  });

  it('JSON format writes one object per line; errors become their message', () => {
    const { log, lines } = capture('debug', 'json');
    log.error('cannot write state store', { file: '/data/x.db', err: new Error('disk full'), n: 1 });
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(rec.level, 'error');
    assert.equal(rec.msg, 'cannot write state store');
    assert.equal(rec.err, 'disk full');
    assert.equal(rec.n, 1);
    assert.equal(typeof rec.ts, 'string');
    assert.deepEqual(Object.keys(rec).slice(0, 3), ['ts', 'level', 'msg']);
  });

  it('filters by level', () => {
    for (const [level, expected] of [
      ['debug', ['debug', 'info', 'warn', 'error']],
      ['info', ['info', 'warn', 'error']],
      ['warn', ['warn', 'error']],
      ['error', ['error']],
    ] as [LogLevel, LogLevel[]][]) {
      const { log, lines } = capture(level, 'json');
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as { level: string }).level), expected, level);
      assert.equal(log.enabled('debug'), level === 'debug');
    }
  });

  it('child loggers add bound fields; record fields win over bound ones', () => {
    const { log, lines } = capture('info', 'json');
    const child = log.child({ interface: 'eth0', component: 'sweeper' }).child({ component: 'worker' });
    child.info('sweep finished', { interface: 'eth1' });
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(rec.component, 'worker');
    assert.equal(rec.interface, 'eth1');
  });

  it('fields cannot overwrite ts, level or msg', () => {
    const { log, lines } = capture('info', 'logfmt');
    log.info('real message', { level: 'error', msg: 'fake', ts: 'yesterday', extra: 1 });
    const f = parseLogfmt(lines[0]);
    assert.equal(f.level, 'info');
    assert.equal(f.msg, 'real message');
    assert.notEqual(f.ts, 'yesterday');
    assert.match(lines[0], /^ts=\S+ level=info msg="real message" extra=1\n$/);
  });

  it('adds trace context from the provider', () => {
    const { log, lines } = capture('info', 'json');
    setLogContextProvider(() => ({ trace_id: 'abc', span_id: 'def' }));
    log.info('in a span');
    setLogContextProvider(() => undefined);
    log.info('outside');
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(a.trace_id, 'abc');
    assert.equal(a.span_id, 'def');
    assert.ok(!('trace_id' in b));
  });
});
