#!/usr/bin/env node
// Compacts oui-data's 5.6 MB JSON (with postal addresses) into dist/oui.tsv:
// one "PREFIX<TAB>Organisation" line per MA-L/MA-M/MA-S block, so a sweep loads ~1.5 MB.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const source = require.resolve('oui-data');
const data = JSON.parse(readFileSync(source, 'utf8'));
const lines = Object.keys(data)
  .sort()
  .map((prefix) => `${prefix}\t${String(data[prefix]).split('\n')[0].trim()}`);
mkdirSync('dist', { recursive: true });
writeFileSync('dist/oui.tsv', lines.join('\n') + '\n');
console.error(`dist/oui.tsv: ${lines.length} vendor prefixes`);
