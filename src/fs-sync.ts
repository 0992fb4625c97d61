import { createRequire } from 'node:module';

// The synchronous node:fs calls of the one-shot sweep path, taken from the CommonJS module: an
// ESM `import ... from 'node:fs'` builds a namespace of every export of node:fs, and reading its
// getters loads the fs stream classes (~1 MB of RSS) that a sweep never uses.
export const { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } = createRequire(import.meta.url)(
  'node:fs',
) as typeof import('node:fs');
