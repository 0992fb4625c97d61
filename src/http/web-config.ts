import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { parseDocument } from 'yaml';
import { ConfigError } from '../config/load.js';

// The exporter-toolkit web configuration file (the same file node_exporter accepts).
const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

const schema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string(),
      key_file: z.string(),
      min_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS12'),
      max_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).optional(),
      client_auth_type: z.enum(['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']).default('NoClientCert'),
      client_ca_file: z.string().optional(),
      cipher_suites: z.array(z.string()).optional(),
      prefer_server_cipher_suites: z.boolean().optional(),
      curve_preferences: z.array(z.string()).optional(),
    })
    .optional(),
  http_server_config: z.strictObject({ http2: z.boolean().optional(), headers: z.record(z.string(), z.string()).optional() }).optional(),
  basic_auth_users: z.record(z.string(), z.string()).optional(),
});

/** A whole bcrypt hash: version, cost 04-31, 22 characters of salt and 31 of hash. A truncated one would refuse every password. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export interface WebConfig {
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; minVersion: string; maxVersion?: string; requestCert: boolean; rejectUnauthorized: boolean };
  headers: Record<string, string>;
  users: Map<string, string>;
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read web config: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(`${file}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const path = [...i.path, ...(i.code === 'unrecognized_keys' ? i.keys : [])].join('.');
    throw new ConfigError(`${file}: ${path}: ${i.code === 'unrecognized_keys' ? 'unknown key' : i.message}`);
  }
  const cfg = parsed.data;
  const base = dirname(resolve(file));
  const read = (p: string, what: string) => {
    try {
      return readFileSync(resolve(base, p));
    } catch (err) {
      throw new ConfigError(`${file}: tls_server_config.${what}: cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const users = new Map(Object.entries(cfg.basic_auth_users ?? {}));
  for (const [user, hash] of users) {
    if (!BCRYPT_HASH.test(hash)) {
      throw new ConfigError(`${file}: basic_auth_users.${user}: must be a whole bcrypt hash: "$2y$", the cost, "$" and 53 characters (e.g. from \`htpasswd -nBC 10 "" | tr -d ':\\n'\`)`);
    }
  }
  const t = cfg.tls_server_config;
  const clientAuth = t?.client_auth_type ?? 'NoClientCert';
  // Node's TLS server cannot "verify only if given" the way Go's can: it would accept an
  // untrusted certificate. Refuse the setting rather than serve weaker checks than asked for.
  if (clientAuth === 'VerifyClientCertIfGiven') {
    throw new ConfigError(`${file}: tls_server_config.client_auth_type: VerifyClientCertIfGiven is not supported; use RequireAndVerifyClientCert`);
  }
  const tls = t && {
    cert: read(t.cert_file, 'cert_file'),
    key: read(t.key_file, 'key_file'),
    ca: t.client_ca_file ? read(t.client_ca_file, 'client_ca_file') : undefined,
    minVersion: TLS_VERSIONS[t.min_version],
    maxVersion: t.max_version ? TLS_VERSIONS[t.max_version] : undefined,
    requestCert: clientAuth !== 'NoClientCert',
    rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert' || clientAuth === 'RequireAnyClientCert',
  };
  if (t && tls) checkTlsFiles(file, t, tls);
  return { headers: cfg.http_server_config?.headers ?? {}, users, tls };
}

/**
 * What the TLS server would only find out at start-up (or never, on a reload): the certificate and
 * key parse, belong together, and make a secure context. Errors name the file at fault.
 */
function checkTlsFiles(file: string, t: { cert_file: string; key_file: string; client_ca_file?: string }, tls: NonNullable<WebConfig['tls']>): void {
  const reason = (err: unknown) => ((err as Error).message || String(err)).split('\n')[0];
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.cert);
  } catch (err) {
    throw new ConfigError(`${file}: tls_server_config.cert_file: ${t.cert_file} is not a PEM certificate (${reason(err)})`);
  }
  let key;
  try {
    key = createPrivateKey(tls.key);
  } catch (err) {
    throw new ConfigError(`${file}: tls_server_config.key_file: ${t.key_file} is not a PEM private key (${reason(err)})`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new ConfigError(`${file}: tls_server_config.key_file: ${t.key_file} is not the key of the certificate in ${t.cert_file}`);
  }
  if (tls.ca) {
    try {
      new X509Certificate(tls.ca);
    } catch (err) {
      throw new ConfigError(`${file}: tls_server_config.client_ca_file: ${t.client_ca_file} is not a PEM certificate (${reason(err)})`);
    }
  }
  try {
    createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: tls.minVersion as 'TLSv1.2', maxVersion: tls.maxVersion as 'TLSv1.3' | undefined });
  } catch (err) {
    throw new ConfigError(`${file}: tls_server_config: ${reason(err)}`);
  }
}
