// `docker-compose config` of a compose file in the repository (Debian's docker-compose
// validates and normalises it; no Docker engine needed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { ROOT } from './stack.js';

export interface ComposeService {
  image?: string;
  build?: unknown;
  profiles?: string[];
  network_mode?: string;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  volumes?: string[];
  command?: string[];
}

export function composeServices(file: string): Record<string, ComposeService> {
  const r = spawnSync('docker-compose', ['-f', file, 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, GHOST_HUNTER_CONFIG: './ghost-hunter.yml' },
  });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return (parse(r.stdout) as { services: Record<string, ComposeService> }).services;
}
