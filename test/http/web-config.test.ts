// The exporter-toolkit web config (TLS files, basic-auth users). The basic-auth check itself:
// test/http/basic-auth.test.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../../src/config/load.js';
import { loadWebConfig } from '../../src/http/web-config.js';

/** Self-signed test certificates (P-256, valid until 2126): a and b, each with its key. */
const TLS_FIXTURES = join(import.meta.dirname, '../fixtures/tls');

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
  copyFileSync(join(TLS_FIXTURES, 'cert-a.pem'), join(dir, 'tls', 'server.crt'));
  copyFileSync(join(TLS_FIXTURES, 'key-a.pem'), join(dir, 'tls', 'server.key'));
  copyFileSync(join(TLS_FIXTURES, 'cert-b.pem'), join(dir, 'tls', 'ca.crt'));
  copyFileSync(join(TLS_FIXTURES, 'key-b.pem'), join(dir, 'tls', 'other.key'));
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
    assert.deepEqual(cfg.tls.cert, readFileSync(join(TLS_FIXTURES, 'cert-a.pem')));
    assert.deepEqual(cfg.tls.key, readFileSync(join(TLS_FIXTURES, 'key-a.pem')));
    assert.deepEqual(cfg.tls.ca, readFileSync(join(TLS_FIXTURES, 'cert-b.pem')));
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
    assert.match(configError(f), new RegExp(`^${f}: basic_auth_users\\.alice: must be a whole bcrypt hash`));
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

describe('loadWebConfig refuses what would fail later', () => {
  it('a truncated or malformed bcrypt hash (it would refuse every password)', () => {
    for (const bad of [HASH.slice(0, -1), HASH.slice(0, 29), `${HASH}x`, HASH.replace(/^\$2.\$04/, '$2a$03'), HASH.replace(/^\$2.\$04/, '$2a$32'), HASH.replace(/^\$2./, '$2c'), HASH.replace(/.$/, '!')]) {
      const f = webConfig(`basic_auth_users:\n  alice: '${bad}'\n`);
      assert.match(configError(f), new RegExp(`^${f}: basic_auth_users\\.alice: must be a whole bcrypt hash`), bad);
    }
    for (const good of [HASH, bcrypt.hashSync('x', 10).replace(/^\$2b/, '$2y')]) {
      assert.equal(loadWebConfig(webConfig(`basic_auth_users:\n  alice: '${good}'\n`)).users.get('alice'), good);
    }
  });

  it('swapped certificate and key: the error names the certificate file', () => {
    const f = webConfig('tls_server_config:\n  cert_file: tls/server.key\n  key_file: tls/server.crt\n');
    assert.match(configError(f), new RegExp(`^${f}: tls_server_config\\.cert_file: tls/server\\.key is not a PEM certificate`));
  });

  it('a key that is no private key, or the key of another certificate, names the key file', () => {
    let f = webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/ca.crt\n');
    assert.match(configError(f), new RegExp(`^${f}: tls_server_config\\.key_file: tls/ca\\.crt is not a PEM private key`));
    f = webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/other.key\n');
    assert.equal(configError(f), `${f}: tls_server_config.key_file: tls/other.key is not the key of the certificate in tls/server.crt`);
  });

  it('a client CA file that holds no certificate names that file', () => {
    const f = webConfig('tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  client_ca_file: tls/server.key\n  client_auth_type: RequireAndVerifyClientCert\n');
    assert.match(configError(f), new RegExp(`^${f}: tls_server_config\\.client_ca_file: tls/server\\.key is not a PEM certificate`));
  });
});
