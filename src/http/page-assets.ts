// The live page's static files, served by the exporter itself (no CDN: the page works on an
// offline LAN): the built client in dist/web/ (`npm run build`) and uPlot from its npm package.
// Only these files exist; nothing is looked up on disk from a request's path.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The page loads nothing but its own files and talks to nothing but its own origin; no inline
 * script or style can run (strings from the network are rendered as text, and this is the net
 * under that).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The package root, from src/http/ (run through tsx) and from dist/http/ alike. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class PageAssets {
  private constructor(private readonly files: ReadonlyMap<string, Asset>) {}

  /** Reads the built page (dist/web) and the vendored chart library; throws when the page is not built. */
  static load(webDir = join(PACKAGE_ROOT, 'dist', 'web')): PageAssets {
    const files = new Map<string, Asset>();
    const add = (path: string, file: string) => {
      const body = readFileSync(file);
      files.set(path, { body, type: TYPES[extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
    };
    let names: string[];
    try {
      names = readdirSync(webDir);
    } catch {
      throw new Error(`the live page is not built (${webDir} is missing); run \`npm run build\``);
    }
    for (const name of names) {
      if (!(extname(name) in TYPES)) continue;
      add(name === 'index.html' ? '/' : `/assets/${name}`, join(webDir, name));
    }
    if (!files.has('/')) throw new Error(`the live page is not built (${webDir}/index.html is missing); run \`npm run build\``);
    const require = createRequire(import.meta.url);
    add('/assets/vendor/uplot.js', require.resolve('uplot/dist/uPlot.esm.js'));
    add('/assets/vendor/uplot.css', require.resolve('uplot/dist/uPlot.min.css'));
    return new PageAssets(files);
  }

  get(path: string): Asset | undefined {
    return this.files.get(path);
  }
}
