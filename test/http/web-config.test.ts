// The exporter-toolkit web config (TLS files, basic-auth users) and the bcrypt basic-auth check.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../../src/config/load.js';
import { BasicAuth, loadWebConfig } from '../../src/http/web-config.js';

let dir: string;
let n = 0;
function webConfig(text: string): string {
  const file = join(dir, `web-${++n}.yml`);
  writeFileSync(file, text);
  return file;
}
function configError(file: string): string {
  try {
    loadWebConfig(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.message.split('\n').length, 1);
    return err.message;
  }
  assert.fail('web config accepted');
}

const HASH = bcrypt.hashSync('s3cret', 4);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-webcfg-'));
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'server.crt'), 'CERT');
  writeFileSync(join(dir, 'tls', 'server.key'), 'KEY');
  writeFileSync(join(dir, 'tls', 'ca.crt'), 'CA');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('loadWebConfig', () => {
  it('an empty file means plain HTTP without auth', () => {
    const cfg = loadWebConfig(webConfig(''));
    assert.equal(cfg.tls, undefined);
    assert.equal(cfg.users.size, 0);
    assert.deepEqual(cfg.headers, {});
  });

  it('reads TLS files relative to the web config file, with versions and client auth', () => {
    const cfg = loadWebConfig(
      webConfig(
        [
          'tls_server_config:',
          '  cert_file: tls/server.crt',
          `  key_file: ${join(dir, 'tls', 'server.key')}`,
          '  client_ca_file: tls/ca.crt',
          '  client_auth_type: RequireAndVerifyClientCert',
          '  min_version: TLS13',
          'http_server_config:',
          '  headers:',
          '    X-Frame-Options: deny',
          'basic_auth_users:',
          `  prometheus: '${HASH}'`,
        ].join('\n'),
      ),
    );
    assert.ok(cfg.tls);
    assert.equal(cfg.tls.cert.toString(), 'CERT');
    assert.equal(cfg.tls.key.toString(), 'KEY');
    assert.equal(cfg.tls.ca?.toString(), 'CA');
    assert.equal(cfg.tls.minVersion, 'TLSv1.3');
    assert.equal(cfg.tls.maxVersion, undefined);
    assert.equal(cfg.tls.requestCert, true);
    assert.equal(cfg.tls.rejectUnauthorized, true);
    assert.deepEqual(cfg.headers, { 'X-Frame-Options': 'deny' });
    assert.deepEqual([...cfg.users.keys()], ['prometheus']);
  });

  it('defaults to TLS 1.2+ without client certificates', () => {
    const cfg = loadWebConfig(webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  max_version: TLS13\n'));
    assert.equal(cfg.tls?.minVersion, 'TLSv1.2');
    assert.equal(cfg.tls?.maxVersion, 'TLSv1.3');
    assert.equal(cfg.tls?.requestCert, false);
    assert.equal(cfg.tls?.rejectUnauthorized, false);
    assert.equal(cfg.tls?.ca, undefined);
  });

  it('errors name the file and the key', () => {
    const missing = join(dir, 'nope.yml');
    assert.equal(configError(missing), `${missing}: cannot read web config: ENOENT`);
    let f = webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/missing.key\n');
    assert.equal(configError(f), `${f}: tls_server_config.key_file: cannot read tls/missing.key: ENOENT`);
    f = webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  bogus: 1\n');
    assert.equal(configError(f), `${f}: tls_server_config.bogus: unknown key`);
    f = webConfig('basic_auth_users:\n  alice: plaintext\n');
    assert.match(configError(f), new RegExp(`^${f}: basic_auth_users\\.alice: must be a bcrypt hash`));
    f = webConfig('tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n');
    assert.match(configError(f), new RegExp(`^${f}: tls_server_config\\.min_version: `));
    f = webConfig('tls_server_config:\n  cert_file: a\n');
    assert.match(configError(f), new RegExp(`^${f}: tls_server_config\\.key_file: `));
    f = webConfig('basic_auth_users: [\n');
    assert.match(configError(f), new RegExp(`^${f}: invalid YAML: `));
    f = webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  client_auth_type: VerifyClientCertIfGiven\n');
    assert.equal(configError(f), `${f}: tls_server_config.client_auth_type: VerifyClientCertIfGiven is not supported; use RequireAndVerifyClientCert`);
    f = webConfig(`basic_auth_users:\n  alice: '${HASH}'\n  alice: '${HASH}'\n`);
    assert.match(configError(f), new RegExp(`^${f}: invalid YAML: Map keys must be unique`));
  });
});

describe('BasicAuth', () => {
  const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const realCompare = bcrypt.compare;
  let compared: string[] = [];
  const spy = () => {
    compared = [];
    (bcrypt as { compare: unknown }).compare = (password: string, hash: string) => {
      compared.push(hash);
      return realCompare(password, hash);
    };
  };
  afterEach(() => {
    (bcrypt as { compare: unknown }).compare = realCompare;
  });

  it('is enabled only with users', () => {
    assert.equal(new BasicAuth(new Map()).enabled, false);
    assert.equal(new BasicAuth(new Map([['a', HASH]])).enabled, true);
  });

  it('accepts the right password and refuses wrong ones', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    assert.equal(await auth.check(header('prometheus', 's3cret')), true);
    assert.equal(await auth.check(header('prometheus', 'wrong')), false);
    assert.equal(await auth.check(header('prometheus', '')), false);
    assert.equal(await auth.check(header('Prometheus', 's3cret')), false);
  });

  it('refuses malformed or missing credentials without throwing', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    for (const h of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      assert.equal(await auth.check(h), false, String(h));
    }
  });

  it('a password containing colons works (only the first colon separates)', async () => {
    const auth = new BasicAuth(new Map([['u', bcrypt.hashSync('a:b:c', 4)]]));
    assert.equal(await auth.check(header('u', 'a:b:c')), true);
  });

  it('an unknown user still costs a bcrypt comparison at the cost of the real hashes', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    spy();
    assert.equal(await auth.check(header('mallory', 's3cret')), false, "another user's password does not open an unknown name");
    assert.equal(compared.length, 1);
    assert.equal(bcrypt.getRounds(compared[0]), bcrypt.getRounds(HASH));
  });

  it('successful checks are cached; wrong passwords are not', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    spy();
    assert.equal(await auth.check(header('prometheus', 's3cret')), true);
    assert.equal(await auth.check(header('prometheus', 's3cret')), true);
    assert.equal(compared.length, 1, 'the second check is served from the cache');
    assert.equal(await auth.check(header('prometheus', 'wrong')), false);
    assert.equal(await auth.check(header('prometheus', 'wrong')), false);
    assert.equal(compared.length, 3, 'failures always pay bcrypt');
    assert.equal(await auth.check(header('prometheus', 's3cret')), true, 'a failure does not evict the good entry');
    assert.equal(compared.length, 3);
  });
});
