// `npm run demo`: a lab of a few dozen devices that come and go, with the exporter sweeping it
// from inside the lab. The exporter's port is forwarded to http://127.0.0.1:9736 on this host
// through a Unix socket (the lab's network namespace is not reachable otherwise). Ctrl-C
// removes everything. No packet leaves the lab.
import { createServer, connect } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Lab } from './lab.js';

const REPO = resolve(import.meta.dirname, '../..');
const DEVICES = Number(process.env.DEMO_DEVICES ?? 36);
const PORT = Number(process.env.DEMO_PORT ?? 9736);
const INNER_PORT = 19_999;

const dir = mkdtempSync(join(tmpdir(), 'ghost-hunter-demo-'));
const sock = join(dir, 'http.sock');
const lab = await Lab.up(DEVICES, { name: 'ghdemo' });
console.log(`lab "${lab.name}": ${DEVICES} devices in ${lab.cidr}, scanner ${lab.scannerIf} ${lab.scannerIp}`);

const config = join(dir, 'config.yml');
writeFileSync(
  config,
  `interfaces:
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
`,
);
const exporter = lab.spawnInScanner(
  [process.execPath, '--import', 'tsx', join(REPO, 'src/cli.ts'), `--config.file=${config}`, `--web.listen-address=127.0.0.1:${INNER_PORT}`],
  { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] },
);
// Inside the namespace: Unix socket -> exporter's TCP port.
const relay = lab.spawnInScanner(
  [process.execPath, '-e', `require('net').createServer((c) => { const u = require('net').connect(${INNER_PORT}, '127.0.0.1'); c.pipe(u).pipe(c); u.on('error', () => c.destroy()); c.on('error', () => u.destroy()); }).listen(${JSON.stringify(sock)})`],
  { stdio: 'inherit' },
);
// On this host: 127.0.0.1:PORT -> Unix socket.
const front = createServer((c) => {
  const u = connect(sock);
  c.pipe(u).pipe(c);
  u.on('error', () => c.destroy());
  c.on('error', () => u.destroy());
}).listen(PORT, '127.0.0.1', () => console.log(`open http://127.0.0.1:${PORT}/ (metrics at /metrics); Ctrl-C to stop`));

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
const churn = setInterval(async () => {
  try {
    const devices = lab.devices().filter((d) => !['198.18.0.1', '198.18.0.2'].includes(d.ip));
    const roll = Math.random();
    if (roll < 0.4 && devices.length > DEVICES / 2) {
      const d = pick(devices);
      await lab.removeDevice(d.ip);
      console.log(`demo: ${d.ip} (${d.mac}) left`);
    } else if (roll < 0.8) {
      const d = await lab.addDevice();
      console.log(`demo: ${d.ip} (${d.mac}) joined`);
    } else if (roll < 0.9) {
      const d = await lab.moveIp(pick(devices).ip);
      console.log(`demo: ${d.ip} moved to ${d.mac}`);
    } else {
      const d = await lab.spoof(pick(devices).ip);
      console.log(`demo: ${d.mac} also claims ${d.ip}`);
    }
  } catch (err) {
    console.error('demo:', (err as Error).message);
  }
}, 8000);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(churn);
  front.close();
  relay.kill();
  exporter.kill('SIGTERM');
  await new Promise((r) => exporter.once('exit', r));
  await lab.down();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
exporter.on('exit', () => void stop());
