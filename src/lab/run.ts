// Runs a host command (ip, tc, nft, ...) without a shell; never throws on a non-zero exit.
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export const TIMEOUT_CODE = 124; // like coreutils `timeout`

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // EPIPE when the command exits before reading its input
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ stdout: '', stderr: String(e), code: 127 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (timedOut ? `\n(timed out after ${opts.timeoutMs} ms)` : '');
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr,
        code: timedOut ? TIMEOUT_CODE : (code ?? (signal ? 128 : 1)),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run() but throws with the command's stderr on failure. */
export async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, { input });
  if (r.code !== 0) {
    const what = [cmd, ...args].join(' ');
    throw new Error(`lab: \`${what}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}
