import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
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
    if (!/^\$2[aby]\$\d\d\$/.test(hash)) throw new ConfigError(`${file}: basic_auth_users.${user}: must be a bcrypt hash (e.g. from \`htpasswd -nBC 10 "" | tr -d ':\\n'\`)`);
  }
  const t = cfg.tls_server_config;
  const clientAuth = t?.client_auth_type ?? 'NoClientCert';
  // Node's TLS server cannot "verify only if given" the way Go's can: it would accept an
  // untrusted certificate. Refuse the setting rather than serve weaker checks than asked for.
  if (clientAuth === 'VerifyClientCertIfGiven') {
    throw new ConfigError(`${file}: tls_server_config.client_auth_type: VerifyClientCertIfGiven is not supported; use RequireAndVerifyClientCert`);
  }
  return {
    headers: cfg.http_server_config?.headers ?? {},
    users,
    tls: t && {
      cert: read(t.cert_file, 'cert_file'),
      key: read(t.key_file, 'key_file'),
      ca: t.client_ca_file ? read(t.client_ca_file, 'client_ca_file') : undefined,
      minVersion: TLS_VERSIONS[t.min_version],
      maxVersion: t.max_version ? TLS_VERSIONS[t.max_version] : undefined,
      requestCert: clientAuth !== 'NoClientCert',
      rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert' || clientAuth === 'RequireAnyClientCert',
    },
  };
}

/**
 * Basic-auth check with bcrypt. Unknown users are compared against a dummy hash so that
 * a wrong user name costs as much as a wrong password; successful checks are cached by a
 * hash of the credentials, so a scrape every few seconds does not pay bcrypt each time.
 */
export class BasicAuth {
  private readonly cache = new Map<string, string>();
  private static readonly DUMMY = bcrypt.hashSync('ghost-hunter-dummy', 10);

  /** Compared against for unknown users: the costliest configured hash, so that a wrong user
   * name takes as long as a wrong password (a fixed cost-10 dummy would reveal which names exist
   * whenever the real hashes use another cost). Its result is never trusted for an unknown user. */
  private readonly decoy: string;

  constructor(private readonly users: Map<string, string>) {
    let decoy = BasicAuth.DUMMY;
    let rounds = -1;
    for (const hash of users.values()) {
      try {
        const r = bcrypt.getRounds(hash);
        if (r > rounds) [decoy, rounds] = [hash, r];
      } catch {
        // not a bcrypt hash (loadWebConfig refuses those); keep the dummy
      }
    }
    this.decoy = decoy;
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  async check(header: string | undefined): Promise<boolean> {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = createHash('sha256').update(decoded).digest('hex');
    const cached = this.cache.get(user);
    if (cached && timingSafeEqual(Buffer.from(cached), Buffer.from(key))) return true;
    const hash = this.users.get(user);
    const ok = await bcrypt.compare(password, hash ?? this.decoy);
    if (ok && hash) {
      this.cache.set(user, key);
      return true;
    }
    return false;
  }
}
