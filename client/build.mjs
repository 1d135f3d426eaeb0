// `npm run build` in client/ (and `npm pack`, through prepack): the SDK as ESM JavaScript and
// .d.ts in client/dist/ (tsconfig.build.json). tsc rewrites `./x.ts` to `./x.js` in the
// JavaScript but leaves the declarations importing `./x.ts`; TypeScript accepts that, other
// tools reading the types do not, so the declarations get `.js` too.

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { cwd: here, stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error(`client build: tsc failed (${compiled.status ?? compiled.signal})`);
  process.exit(1);
}
for (const name of readdirSync(dist)) {
  if (!name.endsWith('.d.ts')) continue;
  const path = join(dist, name);
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.replace(/((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1.js$2'));
}
