// The SQLite state store seen by an unprivileged user: a data directory it cannot write gives a
// clear error naming the file, and nothing is created or lost. Needs root to switch to "nobody"
// (root itself ignores file modes), so it runs in the lab suite.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'gh-store-perm-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const asNobody = (code: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: process.cwd() });
const storeUrl = new URL('../../src/store/store.ts', import.meta.url).href;
const probe = (dir: string) =>
  `import { Store } from ${JSON.stringify(storeUrl)};\ntry { new Store(${JSON.stringify(dir)}).close(); console.log('opened'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;

it('a read-only data directory (as a non-root user) gives a clear error naming the file', () => {
  const parent = join(root, 'parent');
  mkdirSync(parent);
  chmodSync(root, 0o755);
  chmodSync(parent, 0o555);
  const dir = join(parent, 'data');
  const r1 = asNobody(probe(dir));
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout.trim(), new RegExp(`^StoreError: cannot create data directory ${dir}: EACCES`));

  // An existing store in a directory the user cannot write: the file is named, nothing is created.
  chmodSync(parent, 0o755);
  const s = new Store(dir);
  s.write({ devices: [{ interface: 'eth0', mac: 'a', ips: ['198.18.0.2'], vendor: 'Xensource, Inc.', randomized: false, firstSeenMs: 1000, lastSeenMs: 2000, lastRttMs: 1.5, present: true, absentSinceMs: null }], removed: [], events: [], sweeps: [], gateways: [] });
  s.close();
  chmodSync(dir, 0o555);
  chmodSync(s.file, 0o444);
  const r2 = asNobody(probe(dir));
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout.trim(), new RegExp(`^StoreError: ${s.file.replace(/[.]/g, '\\.')} cannot be opened: `));
  chmodSync(dir, 0o755);
  chmodSync(s.file, 0o644);
  const again = new Store(dir);
  assert.deepEqual(again.loadDevices().map((d) => d.mac), ['a'], 'nothing was lost or replaced');
  again.close();
});
