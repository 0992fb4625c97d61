// Rewrites the golden /metrics file from scenario.ts (`npm run test:golden:update`). Review the
// diff: every changed line is a change users' dashboards, alerts and scrapes will see.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { GOLDEN_FILE, goldenExposition } from './scenario.js';

const text = await goldenExposition();
mkdirSync(dirname(GOLDEN_FILE), { recursive: true });
writeFileSync(GOLDEN_FILE, text);
console.log(`wrote ${relative(process.cwd(), GOLDEN_FILE)} (${text.split('\n').length - 1} lines)`);
