#!/usr/bin/env node
// Entry point. Sub-commands are imported lazily so a one-shot `sweep` does not pay for
// Koa, SQLite or OpenTelemetry at start-up.
import { setFlagsFromString } from 'node:v8';
import { UsageError } from './commands/errors.js';
import { CaptureError } from './capture/packet-source.js';
import { InterfaceError } from './net/interfaces.js';
import { TargetError } from './net/targets.js';

const HELP = `usage: ghost-hunter [flags]                 run the Prometheus exporter (see --help)
       ghost-hunter sweep --interface <if> ...  one ARP sweep, print the devices
       ghost-hunter lab up|down|...             build a network-namespace test lab (198.18.0.0/16)
       ghost-hunter anomaly replay --history <file.jsonl>   score recorded sweeps offline`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sweep':
      // A one-shot sweep needs well under a second of CPU: TurboFan's background compiles cost
      // more CPU than its code saves, and the compiler adds ~6 MB to peak RSS (a /16 went over
      // the 60 MB target; bench/RESULTS.md). Costs ~10 % of wall time on a /16.
      setFlagsFromString('--no-opt');
      return (await import('./commands/sweep.js')).runSweepCommand(rest);
    case 'lab':
      return (await import('./commands/lab.js')).runLabCommand(rest);
    case 'anomaly':
      if (rest[0] !== 'replay') throw new UsageError('usage: ghost-hunter anomaly replay --history <file.jsonl>');
      return (await import('./commands/anomaly-replay.js')).runAnomalyReplay(rest.slice(1));
    case 'help':
      process.stdout.write(HELP + '\n');
      return 0;
    default:
      if (command !== undefined && !command.startsWith('-')) throw new UsageError(`unknown command "${command}"\n${HELP}`);
      return (await import('./commands/serve.js')).runServe(argv);
  }
}

// Explicit exit: a closed libpcap session can keep the event loop alive (see packet-source.ts).
// Exit only once stdout and stderr are flushed: writes to a full pipe are queued.
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof CaptureError || err instanceof InterfaceError || err instanceof TargetError;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ghost-hunter: error: ${known ? message : (err as Error)?.stack ?? message}\n`);
    exit(err instanceof UsageError ? 2 : 1);
  },
);
