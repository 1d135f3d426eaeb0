#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` builds): compiles the TypeScript sources into
// dist/ with tsc (tsconfig.build.json) and stamps the result with the hash of the sources it was
// compiled from, once it has bundled the pages' scripts into dist/ui/pages/ (a start from dist/
// reads them rather than running esbuild). The hash is taken before compiling, so a file edited
// during the build leaves dist/ stale rather than wrongly current; dist/ is emptied first, so a
// deleted source leaves no JavaScript behind.

import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { STAMP_FILE, sourceHash } from './build-state.mjs';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const hash = sourceHash(root);
rmSync(dist, { recursive: true, force: true });
// The compiler package's own launcher, run by this node: no shell, no PATH lookup.
let tsc;
try {
  tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  // An install without devDependencies (npm ci --omit=dev) has no compiler; it must not fail for
  // that: without dist/ the sources run through tsx, a dependency.
  console.error('omni build: typescript is not installed, so there is no dist/; bin/omni.mjs runs the sources through tsx');
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
}
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error(`omni build: tsc failed (${compiled.status ?? compiled.signal}); dist/ left without a stamp, so bin/omni.mjs keeps running the sources through tsx`);
  process.exit(1);
}
try {
  const { writePrebuiltPages } = await import(pathToFileURL(join(dist, 'ui', 'mod.js')).href);
  await writePrebuiltPages();
} catch (error) {
  console.error(`omni build: the pages under /ui/ could not be bundled (${error.message}); dist/ left without a stamp, so bin/omni.mjs keeps running the sources through tsx`);
  process.exit(1);
}
writeFileSync(join(dist, STAMP_FILE), `${hash}\n`);
