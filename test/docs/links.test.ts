// The documentation's links resolve: every alert's runbook_url names a heading of docs/runbooks.md,
// and every relative link in README.md and docs/*.md names a file of the repository (and a heading
// of it, where the link has an anchor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { headingAnchors, linkTargets } from '../helpers/markdown.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULES = join(ROOT, 'prometheus', 'rules');
const RUNBOOKS = 'docs/runbooks.md';
const REPO_URL = 'https://github.com/ghost-hunter/ghost-hunter/blob/main/';

const read = (file: string) => readFileSync(file, 'utf8');
const anchorsOf = new Map<string, Set<string>>();
function anchors(file: string): Set<string> {
  if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(read(file)));
  return anchorsOf.get(file)!;
}

interface Alert {
  alert?: string;
  annotations?: Record<string, string>;
}
function alerts(): Alert[] {
  return readdirSync(RULES)
    .filter((f) => f.endsWith('.yml'))
    .flatMap((f) => (parse(read(join(RULES, f))) as { groups: { rules: Alert[] }[] }).groups.flatMap((g) => g.rules))
    .filter((r) => r.alert);
}

const docs = () => [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];

test('every alert has a runbook_url that names a heading of docs/runbooks.md', () => {
  const list = alerts();
  assert.ok(list.length >= 10, 'alerts found in prometheus/rules');
  for (const a of list) {
    const url = a.annotations?.runbook_url ?? '';
    assert.ok(url.startsWith(`${REPO_URL}${RUNBOOKS}#`), `${a.alert}: runbook_url ${url} is not ${REPO_URL}${RUNBOOKS}#...`);
    const anchor = url.slice(url.indexOf('#') + 1);
    assert.ok(anchors(join(ROOT, RUNBOOKS)).has(anchor), `${RUNBOOKS} has no heading for #${anchor} (${a.alert})`);
  }
});

test('every relative link in README.md and docs/*.md names an existing file and heading', () => {
  const files = docs();
  assert.ok(files.length >= 8, 'README.md and the docs/ pages');
  let checked = 0;
  for (const file of files) {
    for (const target of linkTargets(read(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
      const where = `${relative(ROOT, file)}: link ${target}`;
      assert.ok(resolved.startsWith(ROOT), `${where} leaves the repository`);
      assert.ok(existsSync(resolved), `${where}: ${relative(ROOT, resolved)} does not exist`);
      if (anchor !== undefined) {
        assert.ok(resolved.endsWith('.md'), `${where}: an anchor into a file that is not Markdown`);
        assert.ok(anchors(resolved).has(anchor), `${where}: ${relative(ROOT, resolved)} has no heading for #${anchor}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 30, `links found (${checked})`);
});

test('the Markdown helpers anchor headings and find links as GitHub does', () => {
  const md = [
    '# Ghost Hunter',
    '## Detectors (`ghosthunter_anomaly_detector_score{detector}`)',
    '## Port 9736',
    '## Port 9736',
    '```sh',
    '# not a heading',
    'see [no link](nowhere.md)',
    '```',
    'See [the stack](stack.md#run-it), `[code](not-a-link.md)` and ![img](a.png "title").',
    '[ref]: docs/x.md#y',
  ].join('\n');
  assert.deepEqual([...headingAnchors(md)], ['ghost-hunter', 'detectors-ghosthunter_anomaly_detector_scoredetector', 'port-9736', 'port-9736-1']);
  assert.deepEqual(linkTargets(md), ['stack.md#run-it', 'a.png', 'docs/x.md#y']);
});
