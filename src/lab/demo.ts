// `ghost-hunter lab demo` (`npm run demo`): a lab of a few dozen devices that come and go, with the
// exporter sweeping it from inside the lab. The exporter's port is forwarded to
// http://127.0.0.1:9736 on this host through a Unix socket (the lab's network namespace is not
// reachable otherwise). Ctrl-C removes everything. No packet leaves the lab.
import { connect, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from './lab.js';

const INNER_PORT = 19_999;

/** The exporter as this program is being run: the built dist/cli.js, or src/cli.ts through tsx. */
function exporterCommand(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? '../cli.ts' : '../cli.js', import.meta.url));
  return [process.execPath, ...(fromSource ? ['--import', 'tsx'] : []), entry];
}

function demoConfig(lab: Lab, dir: string): string {
  return `interfaces:
  - name: ${lab.scannerIf}
    cidrs: [${lab.cidr}]
scan: {interval: 10s, timeout: 300ms}
presence: {absent_after: 25s}
storage: {path: ${join(dir, 'data')}}
known_devices:
  - {mac: "00:16:3e:12:00:01", name: router, class: network, critical: true}
  - {mac: "00:16:3e:12:00:02", name: nas, class: server, critical: true}
  - {mac: "00:16:3e:12:00:03", name: tv, class: media, can_sleep: true}
anomaly: {warmup: 5m}
`;
}

/** One random change to the lab: a device leaves, joins, moves to another MAC, or a second MAC claims an address. */
async function churn(lab: Lab, devices: number): Promise<void> {
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
  const present = lab.devices().filter((d) => !['198.18.0.1', '198.18.0.2'].includes(d.ip));
  const roll = Math.random();
  if (roll < 0.4 && present.length > devices / 2) {
    const d = pick(present);
    await lab.removeDevice(d.ip);
    console.log(`demo: ${d.ip} (${d.mac}) left`);
  } else if (roll < 0.8) {
    const d = await lab.addDevice();
    console.log(`demo: ${d.ip} (${d.mac}) joined`);
  } else if (roll < 0.9) {
    const d = await lab.moveIp(pick(present).ip);
    console.log(`demo: ${d.ip} moved to ${d.mac}`);
  } else {
    const d = await lab.spoof(pick(present).ip);
    console.log(`demo: ${d.mac} also claims ${d.ip}`);
  }
}

/** Runs until SIGINT or SIGTERM (or the exporter exits), then removes the lab. */
export async function runDemo(devices = Number(process.env.DEMO_DEVICES ?? 36), port = Number(process.env.DEMO_PORT ?? 9736)): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ghost-hunter-demo-'));
  const sock = join(dir, 'http.sock');
  const lab = await Lab.up(devices, { name: 'ghdemo' });
  console.log(`lab "${lab.name}": ${devices} devices in ${lab.cidr}, scanner ${lab.scannerIf} ${lab.scannerIp}`);
  const config = join(dir, 'config.yml');
  writeFileSync(config, demoConfig(lab, dir));
  const exporter = lab.spawnInScanner([...exporterCommand(), `--config.file=${config}`, `--web.listen-address=127.0.0.1:${INNER_PORT}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  // Inside the namespace: Unix socket -> exporter's TCP port.
  const relay = lab.spawnInScanner(
    [process.execPath, '-e', `require('net').createServer((c) => { const u = require('net').connect(${INNER_PORT}, '127.0.0.1'); c.pipe(u).pipe(c); u.on('error', () => c.destroy()); c.on('error', () => u.destroy()); }).listen(${JSON.stringify(sock)})`],
    { stdio: 'inherit' },
  );
  // On this host: 127.0.0.1:port -> Unix socket.
  const front = createServer((c) => {
    const u = connect(sock);
    c.pipe(u).pipe(c);
    u.on('error', () => c.destroy());
    c.on('error', () => u.destroy());
  }).listen(port, '127.0.0.1', () => console.log(`open http://127.0.0.1:${port}/ (metrics at /metrics); Ctrl-C to stop`));

  const timer = setInterval(() => churn(lab, devices).catch((err: unknown) => console.error('demo:', (err as Error).message)), 8000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    exporter.once('exit', () => resolve());
  });
  clearInterval(timer);
  front.close();
  relay.kill();
  if (exporter.exitCode === null && exporter.signalCode === null) {
    exporter.kill('SIGTERM');
    await new Promise((r) => exporter.once('exit', r));
  }
  await lab.down();
  rmSync(dir, { recursive: true, force: true });
  return 0;
}
