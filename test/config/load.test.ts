// YAML → strict schema → defaults → frozen config, and one clear line per problem
// (file, line, key path) for everything a user can get wrong.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';

function errorOf(text: string, file = 'x.yml'): string {
  try {
    parseConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`config was accepted:\n${text}`);
}

describe('parseConfig: valid input', () => {
  it('an empty file gives the documented defaults', () => {
    for (const text of ['', '# only a comment\n', '{}\n']) {
      const cfg = parseConfig(text);
      assert.deepEqual(cfg.interfaces, []);
      assert.equal(cfg.scan.interval, 300_000);
      assert.equal(cfg.scan.jitter, 0.1);
      assert.equal(cfg.scan.timeout, 500);
      assert.equal(cfg.scan.max_addresses, 65_536);
      assert.equal(cfg.presence.absent_after, 15 * 60_000);
      assert.equal(cfg.presence.sleepy_absent_after, 2 * 3_600_000);
      assert.equal(cfg.presence.retention, 30 * 86_400_000);
      assert.equal(cfg.presence.max_devices, 10_000);
      assert.equal(cfg.storage.path, './ghost-hunter-data');
      assert.equal(cfg.anomaly.enabled, true);
      assert.equal(cfg.telemetry.otlp, false);
    }
  });

  it('parses a full config, normalises MACs and fills per-item defaults', () => {
    const cfg = parseConfig(
      [
        'interfaces:',
        '  - name: eth0',
        '    cidrs: [198.18.0.0/24, 198.18.1.10-20]',
        '    exclude: [198.18.0.1]',
        '    gateway: 198.18.0.1',
        '  - name: eth1',
        'scan:',
        '  interval: 1m',
        '  timeout: 250ms',
        '  max_addresses: 1024',
        'presence:',
        '  absent_after: 10m',
        'known_devices:',
        '  - {mac: "AA-BB-CC-DD-EE-FF", name: nas, critical: true}',
        '  - mac: 00:16:3e:12:00:01', // unquoted; YAML 1.2 keeps it a string
        '    name: printer',
        '    can_sleep: true',
        '    absent_after: 1h',
      ].join('\n'),
    );
    assert.equal(cfg.interfaces[0].gateway, '198.18.0.1');
    assert.equal(cfg.interfaces[1].gateway, 'auto');
    assert.equal(cfg.interfaces[1].cidrs, undefined);
    assert.deepEqual(cfg.interfaces[1].exclude, []);
    assert.equal(cfg.scan.interval, 60_000);
    assert.equal(cfg.scan.timeout, 250);
    assert.equal(cfg.known_devices[0].mac, 'aa:bb:cc:dd:ee:ff');
    assert.equal(cfg.known_devices[0].class, '');
    assert.equal(cfg.known_devices[1].mac, '00:16:3e:12:00:01');
    assert.equal(cfg.known_devices[1].absent_after, 3_600_000);
  });

  it('the result is deeply frozen', () => {
    const cfg = parseConfig('interfaces:\n  - name: eth0\n    cidrs: [198.18.0.0/24]\nknown_devices:\n  - {mac: "aa:bb:cc:dd:ee:ff", name: nas}\n');
    assert.ok(Object.isFrozen(cfg));
    assert.ok(Object.isFrozen(cfg.scan));
    assert.ok(Object.isFrozen(cfg.interfaces));
    assert.ok(Object.isFrozen(cfg.interfaces[0].cidrs));
    assert.ok(Object.isFrozen(cfg.known_devices[0]));
    assert.throws(() => {
      (cfg.scan as { interval: number }).interval = 1;
    }, TypeError);
    // A second parse is unaffected by the first (defaults are not shared mutable state).
    assert.equal(parseConfig('').scan.interval, 300_000);
  });

  it('overlapping targets count once towards scan.max_addresses', () => {
    const cfg = parseConfig('scan:\n  max_addresses: 62\ninterfaces:\n  - name: eth0\n    cidrs: [198.18.0.0/26, 198.18.0.10-20, 198.18.0.5]\n');
    assert.equal(cfg.interfaces[0].cidrs?.length, 3);
  });

  it('durations up to the timer limit are accepted; long non-timer durations too', () => {
    const cfg = parseConfig('scan:\n  interval: 24d\n  timeout: 24d\npresence:\n  retention: 90d\n');
    assert.equal(cfg.scan.timeout, 24 * 86_400_000);
    assert.equal(cfg.presence.retention, 90 * 86_400_000);
  });

  it('a CIDR at exactly scan.max_addresses is accepted', () => {
    const cfg = parseConfig('scan:\n  max_addresses: 254\ninterfaces:\n  - name: eth0\n    cidrs: [198.18.0.0/24]\n');
    assert.deepEqual(cfg.interfaces[0].cidrs, ['198.18.0.0/24']);
  });
});

// [name, YAML, expected message]. Each must be exactly one line naming file, line and key.
const BAD: [string, string, string | RegExp][] = [
  // malformed YAML
  ['unclosed flow sequence', 'scan: [\n', /^x\.yml:2: invalid YAML: Flow sequence .*$/],
  ['tab indentation', 'scan:\n\tinterval: 5m\n', /^x\.yml:2: invalid YAML: .+$/],
  ['bad indentation', 'scan:\n  interval: 5m\n jitter: 0.1\n', /^x\.yml:3: invalid YAML: .+$/],
  ['unterminated quote', 'storage:\n  path: "abc\n', /^x\.yml:\d: invalid YAML: .+$/],
  ['two documents', 'scan: {}\n---\npresence: {}\n', 'x.yml:2: invalid YAML: more than one YAML document (remove the "---" separator)'],
  ['top level is a list', '- a\n- b\n', 'x.yml: the top level must be a mapping of keys'],
  ['top level is a scalar', 'hello\n', 'x.yml: the top level must be a mapping of keys'],
  // duplicate YAML keys
  ['duplicate top-level key', 'scan: {}\npresence: {}\nscan: {}\n', 'x.yml:3: scan: duplicate key "scan"'],
  ['duplicate nested key', 'scan:\n  interval: 30s\n  interval: 1m\n', 'x.yml:3: scan.interval: duplicate key "interval"'],
  ['duplicate key in a list item', 'interfaces:\n  - name: eth0\n    name: eth1\n', 'x.yml:3: interfaces[0].name: duplicate key "name"'],
  // unknown keys at several depths
  ['unknown top-level key', 'scan: {}\nbogus: 1\n', 'x.yml:2: bogus: unknown key "bogus"'],
  ['unknown key in scan', 'scan:\n  interval: 30s\n  bogus: 1\n', 'x.yml:3: scan.bogus: unknown key "bogus"'],
  ['unknown key with a nested value', 'scan:\n  interval: 5m\n  bogus:\n    deeper: 1\n', 'x.yml:3: scan.bogus: unknown key "bogus"'],
  ['unknown key in an interface', 'interfaces:\n  - name: eth0\n    cidr: 198.18.0.0/24\n', 'x.yml:3: interfaces[0].cidr: unknown key "cidr"'],
  ['unknown key in a known device', 'known_devices:\n  - mac: aa:bb:cc:dd:ee:ff\n    name: nas\n    ip: 198.18.0.2\n', 'x.yml:4: known_devices[0].ip: unknown key "ip"'],
  ['unknown key in anomaly', 'anomaly:\n  enabled: true\n  contamination: 0.1\n', 'x.yml:3: anomaly.contamination: unknown key "contamination"'],
  ['unknown key in telemetry', 'telemetry:\n  otlp: true\n  endpoint: http://x\n', 'x.yml:3: telemetry.endpoint: unknown key "endpoint"'],
  // bad CIDRs and addresses
  ['CIDR prefix > 32', 'interfaces:\n  - name: eth0\n    cidrs: [198.18.0.0/33]\n', 'x.yml:3: interfaces[0].cidrs[0]: invalid CIDR "198.18.0.0/33": prefix length must be 0-32'],
  ['CIDR with a bad address', 'interfaces:\n  - name: eth0\n    cidrs:\n      - 198.18.0.0/24\n      - 300.1.2.0/24\n', 'x.yml:5: interfaces[0].cidrs[1]: invalid target "300.1.2.0/24": "300.1.2.0" is not an IPv4 address'],
  ['target is not an address', 'interfaces:\n  - name: eth0\n    cidrs: [lan]\n', 'x.yml:3: interfaces[0].cidrs[0]: invalid target "lan": "lan" is not an IPv4 address'],
  ['range end before start', 'interfaces:\n  - name: eth0\n    cidrs: [198.18.0.20-10]\n', 'x.yml:3: interfaces[0].cidrs[0]: invalid range "198.18.0.20-10": end is before start'],
  ['bad exclude', 'interfaces:\n  - name: eth0\n    exclude: [198.18.0]\n', 'x.yml:3: interfaces[0].exclude[0]: invalid IPv4 address "198.18.0"'],
  ['bad gateway', 'interfaces:\n  - name: eth0\n    gateway: router\n', 'x.yml:3: interfaces[0].gateway: invalid IPv4 address "router"'],
  // huge subnets: refused up front rather than failing every sweep
  ['/8 over the default limit', 'interfaces:\n  - name: eth0\n    cidrs: [10.0.0.0/8]\n', 'x.yml:3: interfaces[0].cidrs[0]: "10.0.0.0/8" has 16777214 addresses, more than scan.max_addresses (65536); use a smaller subnet or raise scan.max_addresses'],
  ['0.0.0.0/0', 'interfaces:\n  - name: eth0\n    cidrs: [0.0.0.0/0]\n', /^x\.yml:3: interfaces\[0\]\.cidrs\[0\]: "0\.0\.0\.0\/0" has 4294967294 addresses, more than scan\.max_addresses \(65536\)/],
  ['/23 over a lowered limit', 'scan:\n  max_addresses: 256\ninterfaces:\n  - name: eth0\n    cidrs:\n      - 198.18.0.0/24\n      - 198.18.2.0/23\n', /^x\.yml:7: interfaces\[0\]\.cidrs\[1\]: "198\.18\.2\.0\/23" has 510 addresses, more than scan\.max_addresses \(256\)/],
  // the limit is on one sweep of an interface: the sum of its targets
  [
    'four /26 adding up to more than max_addresses',
    'scan:\n  max_addresses: 64\ninterfaces:\n  - name: eth0\n    cidrs: [198.18.0.0/26, 198.18.0.64/26, 198.18.0.128/26, 198.18.0.192/26]\n',
    'x.yml:5: interfaces[0].cidrs: one sweep of "eth0" covers 248 addresses, more than scan.max_addresses (64); sweep fewer addresses or raise scan.max_addresses',
  ],
  // intervals and durations
  ['timeout above the timer limit', 'scan:\n  timeout: 30d\n', 'x.yml:2: scan.timeout: "30d" is longer than the longest timer Node.js can set (2147483647 ms, about 24.8 days)'],
  ['interval above the timer limit', 'scan:\n  interval: 5w\n', 'x.yml:2: scan.interval: "5w" is longer than the longest timer Node.js can set (2147483647 ms, about 24.8 days)'],
  ['negative interval', 'scan:\n  interval: -5m\n', 'x.yml:2: scan.interval: invalid duration "-5m" (use e.g. 500ms, 30s, 5m, 1h30m, 7d)'],
  ['interval without unit', 'scan:\n  interval: "300"\n', 'x.yml:2: scan.interval: invalid duration "300" (use e.g. 500ms, 30s, 5m, 1h30m, 7d)'],
  ['interval as a number', 'scan:\n  interval: 30\n', 'x.yml:2: scan.interval: Invalid input: expected string, received number'],
  ['interval below 1s', 'scan:\n  interval: 500ms\n', 'x.yml:2: scan.interval: must be at least 1000 ms, got "500ms"'],
  ['zero timeout', 'scan:\n  timeout: 0s\n', 'x.yml:2: scan.timeout: must be at least 1 ms, got "0s"'],
  ['absurd interval', 'scan:\n  interval: 99999999999w\n', 'x.yml:2: scan.interval: invalid duration "99999999999w" (too long)'],
  ['bad absent_after of a known device', 'known_devices:\n  - mac: aa:bb:cc:dd:ee:ff\n    name: nas\n    absent_after: soon\n', /^x\.yml:4: known_devices\[0\]\.absent_after: invalid duration "soon"/],
  ['negative retention', 'presence:\n  retention: -1d\n', /^x\.yml:2: presence\.retention: invalid duration "-1d"/],
  // numbers out of range, wrong types
  ['jitter too big', 'scan:\n  jitter: 2\n', /^x\.yml:2: scan\.jitter: .*0\.5/],
  ['negative rate', 'scan:\n  rate: -1\n', /^x\.yml:2: scan\.rate: .*0/],
  ['fractional retries', 'scan:\n  retries: 1.5\n', /^x\.yml:2: scan\.retries: .*int/],
  ['max_devices 0', 'presence:\n  max_devices: 0\n', /^x\.yml:2: presence\.max_devices: .*1/],
  ['boolean as string', 'scan:\n  passive: "yes"\n', 'x.yml:2: scan.passive: Invalid input: expected boolean, received string'],
  ['section is a scalar', 'scan: 5\n', 'x.yml:1: scan: Invalid input: expected object, received number'],
  ['list is a map', 'known_devices: {}\n', 'x.yml:1: known_devices: Invalid input: expected array, received object'],
  ['interface name too long', 'interfaces:\n  - name: a-very-long-interface-name\n', /^x\.yml:2: interfaces\[0\]\.name: .*15/],
  ['missing interface name', 'interfaces:\n  - cidrs: [198.18.0.0/24]\n', 'x.yml:2: interfaces[0].name: missing required key "name"'],
  ['bad OTLP endpoint', 'telemetry:\n  otlp_endpoint: not a url\n', /^x\.yml:2: telemetry\.otlp_endpoint: .*URL/i],
  ['duplicate interface', 'interfaces:\n  - name: eth0\n  - name: eth0\n', 'x.yml:3: interfaces[1].name: interface "eth0" is listed twice'],
  // known devices: bad and duplicate MACs
  ['MAC with bad hex', 'known_devices:\n  - mac: zz:bb:cc:dd:ee:ff\n    name: x\n', 'x.yml:2: known_devices[0].mac: must be a MAC address like aa:bb:cc:dd:ee:ff'],
  ['MAC too short', 'known_devices:\n  - mac: aa:bb:cc:dd:ee\n    name: x\n', 'x.yml:2: known_devices[0].mac: must be a MAC address like aa:bb:cc:dd:ee:ff'],
  ['MAC without separators', 'known_devices:\n  - mac: aabbccddeeff\n    name: x\n', 'x.yml:2: known_devices[0].mac: must be a MAC address like aa:bb:cc:dd:ee:ff'],
  ['MAC as a number', 'known_devices:\n  - mac: 123456\n    name: x\n', 'x.yml:2: known_devices[0].mac: Invalid input: expected string, received number'],
  ['known device without a name', 'known_devices:\n  - mac: aa:bb:cc:dd:ee:ff\n', 'x.yml:2: known_devices[0].name: missing required key "name"'],
  ['known device with an empty name', 'known_devices:\n  - mac: aa:bb:cc:dd:ee:ff\n    name: ""\n', /^x\.yml:3: known_devices\[0\]\.name: .+/],
  [
    'duplicate MAC (differently spelled)',
    'known_devices:\n  - mac: aa:bb:cc:dd:ee:ff\n    name: a\n  - mac: AA-BB-CC-DD-EE-FF\n    name: b\n',
    'x.yml:4: known_devices[1].mac: duplicate MAC aa:bb:cc:dd:ee:ff (also at known_devices[0])',
  ],
];

describe('parseConfig: bad config gives one clear line with file, line and key', () => {
  for (const [name, text, expected] of BAD) {
    it(name, () => {
      const message = errorOf(text);
      assert.equal(message.split('\n').length, 1, `expected one line, got:\n${message}`);
      if (typeof expected === 'string') assert.equal(message, expected);
      else assert.match(message, expected);
      assert.match(message, /^x\.yml(:\d+)?: /);
    });
  }

  it('several problems give one line each', () => {
    const message = errorOf('scan:\n  interval: -1m\n  bogus: 1\nknown_devices:\n  - mac: nope\n    name: x\n');
    assert.deepEqual(message.split('\n').sort(), [
      'x.yml:2: scan.interval: invalid duration "-1m" (use e.g. 500ms, 30s, 5m, 1h30m, 7d)',
      'x.yml:3: scan.bogus: unknown key "bogus"',
      'x.yml:5: known_devices[0].mac: must be a MAC address like aa:bb:cc:dd:ee:ff',
    ]);
  });
});

describe('parseConfig: cross-field checks do not repeat field errors', () => {
  for (const [name, text, expected] of [
    ['two invalid MACs are not also duplicates', 'known_devices:\n  - mac: nope\n    name: a\n  - mac: nope\n    name: b\n', [
      'x.yml:2: known_devices[0].mac: must be a MAC address like aa:bb:cc:dd:ee:ff',
      'x.yml:4: known_devices[1].mac: must be a MAC address like aa:bb:cc:dd:ee:ff',
    ]],
    ['an invalid max_addresses does not flag every CIDR', 'scan:\n  max_addresses: 0\ninterfaces:\n  - name: eth0\n    cidrs: [198.18.0.0/24]\n', [
      'x.yml:2: scan.max_addresses: Too small: expected number to be >=1',
    ]],
  ] as [string, string, string[]][]) {
    it(name, () => assert.deepEqual(errorOf(text).split('\n'), expected));
  }
});

describe('loadConfigFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('no file means the defaults', () => {
    assert.equal(loadConfigFile(undefined).scan.interval, 300_000);
  });

  it('errors name the real file', () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'scan:\n  interval: 5m\n  bogus: true\n');
    assert.throws(() => loadConfigFile(file), { name: 'Error', message: `${file}:3: scan.bogus: unknown key "bogus"` });
  });

  it('a missing file is a ConfigError naming it', () => {
    const file = join(dir, 'missing.yml');
    assert.throws(() => loadConfigFile(file), (err: Error) => err instanceof ConfigError && err.message === `${file}: cannot read config file: ENOENT`);
  });

  it('a directory is a ConfigError naming it', () => {
    assert.throws(() => loadConfigFile(dir), (err: Error) => err instanceof ConfigError && err.message === `${dir}: cannot read config file: EISDIR`);
  });
});
