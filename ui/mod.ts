// The pages for people (storefront, kiosk, desk, ops), built for the gateway to serve under /ui/.
// `omni serve` calls buildPages() at every start. Run from dist/, it reads the scripts
// bin/build.mjs bundled into dist/ui/pages/ (dist/ only runs when built from the current
// sources, so they match); run from the sources, esbuild bundles each page with the client SDK
// in memory (~150 ms), so a running server never serves pages older than its own sources. The
// gateway gets the result as plain bytes (GatewayOptions.pages) and never imports this folder.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { PAGE_CSS } from './shared/style.ts';

export interface PageAsset {
  contentType: string;
  body: Buffer;
}

/** The pages, by name: `/ui/<name>` serves its HTML, `/ui/<name>.js` its script. */
export const PAGE_NAMES = ['storefront', 'kiosk', 'desk', 'ops'] as const;
export type PageName = (typeof PAGE_NAMES)[number];

const TITLES: Record<PageName, string> = {
  storefront: 'Store stock',
  kiosk: 'For you',
  desk: 'Service desk',
  ops: 'Operations',
};

/** The gateway path of a page, as `omni token --url` prints it. */
export function pagePath(name: PageName): string {
  return `/ui/${name}`;
}

function shell(name: PageName): string {
  // No inline script or style: the CSP the gateway sends allows only files from itself.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TITLES[name]} · omnistream</title>
<link rel="stylesheet" href="/ui/ui.css">
<script type="module" src="/ui/${name}.js"></script>
</head>
<body class="page-${name}">
<noscript>This page needs JavaScript.</noscript>
</body>
</html>
`;
}

/** Run from dist/ (compiled .js) or from the TypeScript sources through tsx. */
const EXT = new URL(import.meta.url).pathname.endsWith('.js') ? '.js' : '.ts';
/** Where bin/build.mjs writes the bundled scripts: beside the compiled dist/ui/mod.js. */
const PREBUILT = new URL('./pages/', import.meta.url);

/**
 * Each page's script bundled with the client SDK. The entries are this module's siblings with its
 * own extension, so it bundles the TypeScript sources when run through tsx and the compiled
 * dist/ui/*.js when run from dist/.
 */
async function bundleScripts(): Promise<Map<PageName, Uint8Array>> {
  const entries = Object.fromEntries(PAGE_NAMES.map((name) => [name, new URL(`./${name}${EXT}`, import.meta.url).pathname]));
  const result = await build({
    entryPoints: entries,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outdir: '/ui',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const scripts = new Map<PageName, Uint8Array>();
  for (const file of result.outputFiles) {
    scripts.set(file.path.slice(file.path.lastIndexOf('/') + 1, -'.js'.length) as PageName, file.contents);
  }
  return scripts;
}

/** The scripts bin/build.mjs bundled, when run from a dist/ that has them all. */
function prebuiltScripts(): Map<PageName, Uint8Array> | undefined {
  if (EXT !== '.js') return undefined;
  try {
    return new Map(PAGE_NAMES.map((name) => [name, readFileSync(new URL(`${name}.js`, PREBUILT))]));
  } catch {
    return undefined;
  }
}

/** For bin/build.mjs, run on the freshly compiled dist/: bundles the scripts once, into dist/ui/pages/. */
export async function writePrebuiltPages(): Promise<void> {
  const scripts = await bundleScripts();
  mkdirSync(PREBUILT, { recursive: true });
  for (const [name, body] of scripts) writeFileSync(new URL(`${name}.js`, PREBUILT), body);
}

/** Every asset under /ui/: one HTML shell and one bundled script per page, and the shared CSS. */
export async function buildPages(): Promise<Map<string, PageAsset>> {
  const scripts = prebuiltScripts() ?? (await bundleScripts());
  const assets = new Map<string, PageAsset>();
  const js = 'text/javascript; charset=utf-8';
  for (const [name, body] of scripts) {
    assets.set(`/ui/${name}.js`, { contentType: js, body: Buffer.from(body) });
  }
  for (const name of PAGE_NAMES) {
    assets.set(pagePath(name), { contentType: 'text/html; charset=utf-8', body: Buffer.from(shell(name)) });
  }
  assets.set('/ui/ui.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(PAGE_CSS) });
  return assets;
}

/** Gzipped size of each page's script, for the benchmark and the size budget test. */
export function scriptSizes(assets: Map<string, PageAsset>): Record<PageName, { bytes: number; gzipBytes: number }> {
  const sizes = {} as Record<PageName, { bytes: number; gzipBytes: number }>;
  for (const name of PAGE_NAMES) {
    const body = assets.get(`/ui/${name}.js`)?.body ?? Buffer.alloc(0);
    sizes[name] = { bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
  }
  return sizes;
}
