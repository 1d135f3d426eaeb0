#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point for `npm start` and `npx omni`. Runs the JavaScript build in dist/ (made by
// `npm run build`, which `npm ci` runs) when it was compiled from the sources as they are now;
// otherwise — no build yet, or a source edited since — loads the TypeScript sources through tsx,
// so development needs no build step and never runs a stale one. OMNI_RUN=dist or OMNI_RUN=tsx
// picks one explicitly (dist refuses to run a missing or stale build).
import { fileURLToPath } from 'node:url';
import { distState } from './build-state.mjs';

const root = new URL('..', import.meta.url);
const wanted = process.env.OMNI_RUN ?? '';
if (wanted !== '' && wanted !== 'dist' && wanted !== 'tsx') {
  console.error(`omni: OMNI_RUN must be dist or tsx, not '${wanted}'`);
  process.exit(2);
}
const state = wanted === 'tsx' ? 'skipped' : distState(fileURLToPath(root));
if (wanted === 'dist' && state !== 'current') {
  console.error(`omni: OMNI_RUN=dist but dist/ is ${state === 'missing' ? 'missing' : 'older than the sources'}; run npm run build`);
  process.exit(1);
}
let main;
if (state === 'current') {
  ({ main } = await import(new URL('dist/cli/mod.js', root).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('cli/mod.ts', root).href));
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Every command has finished its work when main resolves; if some stray handle would keep the
// process alive, do not let it hang a supervisor or a script waiting for us.
setTimeout(() => process.exit(code), 2000).unref();
