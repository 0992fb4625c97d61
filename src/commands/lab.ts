// `ghost-hunter lab ...`: build / remove network-namespace test labs by hand (demos, debugging).
import { parseArgs } from 'node:util';
import { cleanupStaleLabs, Lab, listLabNamespaces, removeLab } from '../lab/lab.js';

const USAGE = `usage: ghost-hunter lab up <count> [--name <name>] [--cidr <cidr>] [--spread] [--no-gateway] [--no-steer]
                                [--hold] [--json]
       ghost-hunter lab down <name>
       ghost-hunter lab list [--prefix <p>]
       ghost-hunter lab cleanup --prefix <p>
       ghost-hunter lab demo
  up      builds the lab and leaves it running (with --hold: until Ctrl-C, then removes it)
  down    removes the lab's namespaces by exact name
  demo    a lab of devices that come and go, swept by the exporter (http://127.0.0.1:9736); Ctrl-C removes it`;

export async function runLabCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        cidr: { type: 'string' },
        spread: { type: 'boolean' },
        'no-gateway': { type: 'boolean' },
        'no-steer': { type: 'boolean' },
        hold: { type: 'boolean' },
        json: { type: 'boolean' },
        prefix: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values: v, positionals: pos } = parsed;
  if (v.help || sub === 'help' || sub === '--help' || sub === '-h' || sub === undefined) return usage();

  switch (sub) {
    case 'up': {
      const count = Number(pos[0]);
      if (pos.length !== 1 || !Number.isInteger(count) || count < 0) return usage('lab up needs a device count');
      const started = performance.now();
      const lab = await Lab.up(count, {
        name: v.name,
        cidr: v.cidr,
        spread: v.spread,
        gateway: !v['no-gateway'],
        steer: !v['no-steer'],
      });
      const ms = Math.round(performance.now() - started);
      const info = {
        name: lab.name,
        scannerNs: lab.scannerNs,
        devicesNs: lab.devicesNs,
        scannerIf: lab.scannerIf,
        scannerIp: lab.scannerIp,
        scannerMac: lab.scannerMac,
        cidr: lab.cidr,
        gatewayIp: lab.gatewayIp ?? null,
        devices: lab.devices().length,
        upMs: ms,
      };
      if (v.json) process.stdout.write(JSON.stringify(info) + '\n');
      else {
        process.stdout.write(
          `lab ${lab.name}: ${info.devices} devices in ${lab.cidr} up in ${ms} ms\n` +
            `  scanner: netns ${lab.scannerNs}, interface ${lab.scannerIf}, ${lab.scannerIp} ${lab.scannerMac}` +
            (lab.gatewayIp ? `, gateway ${lab.gatewayIp}` : '') +
            `\n  try:     ip netns exec ${lab.scannerNs} arp-scan -I ${lab.scannerIf} ${lab.cidr}\n`,
        );
      }
      if (!v.hold) {
        lab.keep();
        if (!v.json) process.stdout.write(`  remove:  ghost-hunter lab down ${lab.name}\n`);
        return 0;
      }
      process.stderr.write('holding; Ctrl-C removes the lab\n');
      const keepAlive = setInterval(() => {}, 1 << 30); // signal listeners alone do not keep node running
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(keepAlive);
      await lab.down();
      return 0;
    }
    case 'down': {
      const name = pos[0] ?? v.name;
      if (!name) return usage('lab down needs a lab name');
      if (!(await removeLab(name))) {
        process.stderr.write(`no lab named ${name}\n`);
        return 1;
      }
      return 0;
    }
    case 'list':
      for (const ns of listLabNamespaces(v.prefix ?? '')) process.stdout.write(ns + '\n');
      return 0;
    case 'demo':
      return (await import('../lab/demo.js')).runDemo();
    case 'cleanup':
      if (!v.prefix) return usage('lab cleanup needs --prefix');
      await cleanupStaleLabs(v.prefix);
      return 0;
    default:
      return usage(`unknown lab command "${sub}"`);
  }
}

function usage(problem?: string): number {
  if (problem) process.stderr.write(`ghost-hunter lab: ${problem}\n`);
  (problem ? process.stderr : process.stdout).write(USAGE + '\n');
  return problem ? 2 : 0;
}
