/**
 * Builds the map page into web/dist/ (index.html, app.js, app.css) with esbuild: Leaflet,
 * its CSS and images, uPlot, socket.io-client and the world outline are all bundled, so the
 * page works with no internet (docs/contract.md §8). Run by `npm install` (prepare) or `npm run build:web`.
 *
 *   tsx web/build.ts            one build (minified)
 *   tsx web/build.ts --watch    rebuild on change, for working on the page
 */

import { build, context, type BuildOptions } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const outdir = here('./dist/');

const options: BuildOptions = {
  entryPoints: { app: here('./client/main.ts') },
  bundle: true,
  outdir,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: !process.argv.includes('--watch'),
  sourcemap: true,
  // Leaflet's CSS refers to its layer and marker images: inline them (a few KB).
  loader: { '.png': 'dataurl', '.svg': 'dataurl' },
  legalComments: 'linked',
  logLevel: 'warning',
};

export async function buildWeb(): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  copyFileSync(here('./client/index.html'), `${outdir}/index.html`);
  await build(options);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--watch')) {
    mkdirSync(outdir, { recursive: true });
    copyFileSync(here('./client/index.html'), `${outdir}/index.html`);
    const ctx = await context(options);
    await ctx.watch();
    console.log(`watching web/client → ${outdir}`);
  } else {
    const t = Date.now();
    await buildWeb();
    console.log(`web/dist built in ${Date.now() - t} ms`);
  }
}
