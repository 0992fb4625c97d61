import { readFileSync } from 'node:fs';

function readPackage(): { name: string; version: string } {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
    } catch {
      // try the next layout (dist/ vs src/)
    }
  }
  return { name: 'ghost-hunter', version: '0.0.0' };
}

const pkg = readPackage();
export const VERSION: string = pkg.version;
export const REVISION: string = process.env.GHOSTHUNTER_REVISION ?? 'unknown';
