import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import type { ZodError } from 'zod';
import { configSchema, type Config, type KnownDeviceConfig } from './schema.js';

export class ConfigError extends Error {}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

/** Line of the deepest YAML node along `path` (the key itself for unknown keys). */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return null;
}

/** Key path of the map key that starts at `offset` (used to name a duplicate key). */
function keyPathAt(node: unknown, offset: number, path: PropertyKey[] = []): PropertyKey[] | null {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      if (isNode(key) && key.range && key.range[0] <= offset && offset < key.range[1]) {
        return [...path, isScalar(key) ? String(key.value) : String(key)];
      }
      const found = keyPathAt(pair.value, offset, [...path, isScalar(key) ? String(key.value) : String(key)]);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const found = keyPathAt(node.items[i], offset, [...path, i]);
      if (found) return found;
    }
  }
  return null;
}

function describeIssues(err: ZodError, doc: Document, counter: LineCounter, file: string): string {
  return err.issues
    .map((issue) => {
      let path = issue.path;
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        path = [...issue.path, issue.keys[0]];
        message = `unknown key "${issue.keys.join('", "')}"`;
        // Point at the key, not its value: find the pair in the parent map.
        const parent = doc.getIn(issue.path as unknown[], true) as { items?: { key: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
        const pair = parent?.items?.find((p) => p.key?.value === issue.keys[0]);
        if (pair?.key?.range) {
          return `${file}:${counter.linePos(pair.key.range[0]).line}: ${pathText(path)}: ${message}`;
        }
      }
      // A required key that is absent: say so instead of "expected string, received undefined".
      if (issue.code === 'invalid_type' && path.length > 0 && !doc.hasIn(path as unknown[])) {
        const parent = doc.getIn(path.slice(0, -1) as unknown[], true);
        if (isMap(parent)) message = `missing required key "${String(path[path.length - 1])}"`;
      }
      const line = lineOf(doc, counter, path);
      return `${file}${line ? `:${line}` : ''}: ${pathText(path) || '(top level)'}: ${message}`;
    })
    .join('\n');
}

/** YAML text → strictly validated, defaulted, deeply frozen config. Errors name file, line and key. */
export function parseConfig(text: string, file = '<config>'): Config {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    // prettyErrors appends " at line L, column C:" and a source excerpt; the line is printed up front.
    const what =
      e.code === 'MULTIPLE_DOCS' ? 'more than one YAML document (remove the "---" separator)' : e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    if (e.code === 'DUPLICATE_KEY') {
      const path = keyPathAt(parseDocument(text, { uniqueKeys: false }).contents, e.pos[0]);
      if (path) throw new ConfigError(`${file}${line ? `:${line}` : ''}: ${pathText(path)}: duplicate key "${String(path[path.length - 1])}"`);
    }
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${what}`);
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error, doc, counter, file));
  return deepFreeze(result.data);
}

export function loadConfigFile(file: string | undefined): Config {
  if (!file) return parseConfig('', '<defaults>');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfig(text, file);
}

const knownByConfig = new WeakMap<Config, ReadonlyMap<string, KnownDeviceConfig>>();

/** known_devices by MAC: one map per loaded configuration, so consumers can cache on its identity. */
export function knownDevicesByMac(cfg: Config): ReadonlyMap<string, KnownDeviceConfig> {
  let map = knownByConfig.get(cfg);
  if (!map) knownByConfig.set(cfg, (map = new Map(cfg.known_devices.map((k) => [k.mac, k]))));
  return map;
}
