#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point for `npm start` and `npx omni`: loads the TypeScript sources through tsx, so
// there is no build step, then hands the arguments to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/mod.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Every command has finished its work when main resolves; if some stray handle would keep the
// process alive, do not let it hang a supervisor or a script waiting for us.
setTimeout(() => process.exit(code), 2000).unref();
