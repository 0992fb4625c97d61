#!/usr/bin/env node
// Runs test suites with Node's own test runner. Node 20 cannot find *.test.ts files by itself, so
// this lists each suite's files and hands them to `node --test` with tsx loaded. A suite that
// cannot run here (not root, a program missing) fails, naming what is missing; it never skips.
//
//   node test/run.mjs unit                      one suite
//   node test/run.mjs unit lab e2e stack        several, then the totals of all of them
//   node test/run.mjs lab test/integration      one suite, narrowed to files or folders
//   node test/run.mjs unit --no-coverage
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARALLEL = Math.max(2, availableParallelism());
const LAB_TOOLS = ['ip', 'tc', 'nft', 'sysctl', 'arp-scan', 'setpriv', 'curl'];

/** Each suite: where its files are, how many files run at once, and what it needs. */
const SUITES = {
  // No root, no network: plain unit and property tests, in parallel, with coverage.
  unit: { roots: ['test'], exclude: ['test/lab', 'test/integration', 'test/e2e', 'test/stack', 'test/browser'], concurrency: PARALLEL, coverage: true },
  // The unit suite again under Node 24, in a copy of the checkout built for it.
  'unit:node24': { node24: true },
  // Network-namespace labs and tests that need root; one file at a time (they share lab names and ports).
  lab: { roots: ['test/lab', 'test/integration'], concurrency: 1, root: true, tools: LAB_TOOLS },
  e2e: {
    roots: ['test/e2e'],
    concurrency: 1,
    root: true,
    tools: [...LAB_TOOLS, 'openssl', 'mkfs.ext4', 'e2fsck', 'losetup', 'mount', 'umount', 'findmnt', 'nsenter', 'systemd-analyze', 'prometheus', 'promtool', 'prometheus-alertmanager', 'victoria-metrics'],
  },
  // The live page in Debian's headless Chromium, against labs (needs root for the namespaces).
  browser: { roots: ['test/browser'], concurrency: 1, root: true, tools: [...LAB_TOOLS, 'chromium', 'openssl'] },
  // Prometheus, Alertmanager, Grafana and compose files checked with the real tools.
  stack: { roots: ['test/stack'], concurrency: PARALLEL, tools: ['promtool', 'amtool', 'docker-compose'] },
};

const args = process.argv.slice(2);
const coverage = !args.includes('--no-coverage');
const suites = args.filter((a) => a in SUITES);
const paths = args.filter((a) => !(a in SUITES) && !a.startsWith('--'));
const unknown = paths.filter((p) => !existsSync(join(ROOT, p)));
if (!suites.length || unknown.length || (paths.length && suites.length > 1)) {
  console.error(`usage: node test/run.mjs SUITE... | SUITE [FILE|FOLDER...]  (suites: ${Object.keys(SUITES).join(', ')})`);
  if (unknown.length) console.error(`not found: ${unknown.join(' ')}`);
  process.exit(2);
}

function listTests(path, exclude, out = []) {
  if (exclude.includes(relative(ROOT, path))) return out;
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) listTests(join(path, entry), exclude, out);
  } else if (path.endsWith('.test.ts')) {
    out.push(relative(ROOT, path));
  }
  return out;
}

function onPath(tool) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What keeps `suite` from running here, or [] when nothing does. */
function missing(suite) {
  const out = [];
  if (suite.root && process.getuid?.() !== 0) out.push('root (it builds network namespaces and switches users)');
  const tools = (suite.tools ?? []).filter((t) => !onPath(t));
  if (tools.length) out.push(`${tools.join(', ')} (run scripts/install-test-deps.sh as root)`);
  return out;
}

const SUMMARY = /^(?:# |ℹ )(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;

/** Runs a command with its output passed through, and returns its exit code and the test runner's last summary. */
function runAndSummarise(cmd, cmdArgs, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { ...opts, stdio: ['ignore', 'pipe', 'inherit'] });
    const summary = {};
    let partial = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const m = SUMMARY.exec(stripVTControlCharacters(line));
        if (m) summary[m[1]] = Number(m[2]);
      }
    });
    child.on('error', (err) => {
      console.error(`${cmd}: ${err.message}`);
      resolve({ code: 1, summary });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), summary }));
  });
}

async function runSuite(name) {
  const suite = SUITES[name];
  const problems = missing(suite);
  if (problems.length) {
    console.log(`not ok - suite ${name} cannot run here: it needs ${problems.join('; ')}`);
    return { code: 1, summary: { tests: 1, fail: 1 } };
  }
  if (suite.node24) {
    // Prepares (or reuses) .tmp/node24: Node 24 and a copy of this checkout built for it.
    let env;
    try {
      env = JSON.parse(execFileSync(join(ROOT, 'scripts/node24-checkout.sh'), { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }));
    } catch (err) {
      console.log(`not ok - suite ${name} cannot run here: preparing Node 24 failed (${err.message.split('\n')[0]})`);
      return { code: 1, summary: { tests: 1, fail: 1 } };
    }
    console.log(`# suite ${name}: ${env.node} in ${env.checkout}`);
    return runAndSummarise(env.node, ['test/run.mjs', 'unit', '--no-coverage'], {
      cwd: env.checkout,
      env: { ...process.env, PATH: `${env.bin}${delimiter}${process.env.PATH}` },
    });
  }
  const files = (paths.length ? paths : suite.roots).flatMap((p) => listTests(join(ROOT, p), paths.length ? [] : suite.exclude ?? []));
  if (!files.length) {
    console.log(`not ok - suite ${name}: no test files under ${(paths.length ? paths : suite.roots).join(' ')}`);
    return { code: 1, summary: { tests: 1, fail: 1 } };
  }
  const withCoverage = suite.coverage && coverage;
  console.log(`# suite ${name}: ${files.length} files, ${suite.concurrency} at a time${withCoverage ? ', coverage of src/ by c8' : ''} (node ${process.version})`);
  const nodeArgs = ['--import', 'tsx', '--test', `--test-concurrency=${suite.concurrency}`];
  if (process.stdout.isTTY) nodeArgs.push('--test-reporter=spec');
  const command = withCoverage
    ? [join(ROOT, 'node_modules/c8/bin/c8.js'), '--all', '--include=src/**', '--exclude=src/**/*.d.ts', '--reporter=text', '--reporter=text-summary', process.execPath, ...nodeArgs, ...files]
    : [...nodeArgs, ...files];
  return runAndSummarise(process.execPath, command, { cwd: ROOT, env: process.env });
}

const total = {};
const failed = [];
for (const name of suites) {
  const { code, summary } = await runSuite(name);
  if (code !== 0 || !summary.tests) failed.push(name);
  for (const [k, v] of Object.entries(summary)) total[k] = (total[k] ?? 0) + v;
}
if (suites.length > 1) {
  console.log(`# all suites: ${suites.join(', ')}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
  for (const k of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms']) console.log(`# ${k} ${Math.round((total[k] ?? 0) * 1000) / 1000}`);
}
process.exit(failed.length ? 1 : 0);
