// Runs the real exporter (from source, through tsx) inside a lab's scanner namespace and
// talks to it with curl inside that namespace: nothing leaves the lab.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Lab } from '../../src/lab/lab.js';

export const REPO = resolve(import.meta.dirname, '../..');

export interface RunningExporter {
  proc: ChildProcess;
  port: number;
  logs: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

let nextPort = 19_736;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gh-${prefix}-`));
}

export function writeConfig(dir: string, yaml: string, name = 'config.yml'): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

export function startExporter(lab: Lab, args: string[], opts: { port?: number; env?: NodeJS.ProcessEnv } = {}): RunningExporter {
  const port = opts.port ?? nextPort++;
  const proc = lab.spawnInScanner(
    [process.execPath, '--import', 'tsx', join(REPO, 'src/cli.ts'), `--web.listen-address=127.0.0.1:${port}`, ...args],
    { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout?.on('data', (d) => (output += d));
  proc.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return {
    proc,
    port,
    logs: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface HttpResult {
  status: number;
  body: string;
}

/** HTTP inside the lab namespace (the exporter is not reachable from the host's namespace). */
export async function http(lab: Lab, url: string, extra: string[] = []): Promise<HttpResult> {
  const r = await lab.exec(['curl', '-sS', '-m', '10', '-o', '-', '-w', '\n%{http_code}', ...extra, url], { timeoutMs: 15_000 });
  if (r.code !== 0) return { status: 0, body: r.stderr };
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

export type Samples = Map<string, number>;

/** Parses the text exposition format into `name{labels}` → value (labels as printed). */
export function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

export function series(samples: Samples, name: string, labels: Record<string, string> = {}): [string, number][] {
  return [...samples].filter(([key]) => {
    if (!(key === name || key.startsWith(name + '{'))) return false;
    return Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`));
  });
}

export function value(samples: Samples, name: string, labels: Record<string, string> = {}): number | undefined {
  return series(samples, name, labels)[0]?.[1];
}

export async function scrape(lab: Lab, port: number, path = '/metrics'): Promise<Samples> {
  const r = await http(lab, `http://127.0.0.1:${port}${path}`);
  if (r.status !== 200) throw new Error(`scrape failed: ${r.status} ${r.body.slice(0, 200)}`);
  return parseMetrics(r.body);
}

/** Polls until `check` returns a truthy value; bounded by `attempts`, never asserts on time. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false | null>, attempts = 120, delayMs = 250): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
