// The package as npm installs it: `npm run build` (also run by `npm ci` through `prepare`) leaves
// an executable bin, so `npx ghost-hunter` keeps working after a rebuild.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

test('npm run build leaves the bin executable, and it runs by its shebang', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  const bin = join(ROOT, pkg.bin['ghost-hunter']);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  assert.equal(statSync(bin).mode & 0o111, 0o111, `${bin} is executable by everyone`);
  assert.equal(readFileSync(bin, 'utf8').split('\n')[0], '#!/usr/bin/env node');
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
  assert.match(out, new RegExp(`^ghost-hunter ${pkg.version.replace(/\./g, '\\.')} `));
});
