// The omni command line: `omni serve | token | loadgen | bench`. Resolves to the exit code:
// 0 done, 1 failed, 2 invoked wrongly.

import { UsageError } from '../flags/mod.ts';
import { processIO, type CliIO } from './io.ts';
import { SCHEMAS_HELP, schemas } from './schemas.ts';
import { SERVE_HELP, serve } from './serve.ts';
import { TOKEN_HELP, token } from './token.ts';

export type { CliIO } from './io.ts';
export { UsageError } from '../flags/mod.ts';

type Command = (argv: readonly string[], io: CliIO) => number | Promise<number>;

const COMMANDS: Record<string, { summary: string; help?: string; run: Command }> = {
  serve: { summary: 'run the engine and the gateway', help: SERVE_HELP, run: serve },
  token: { summary: 'print a signed access token', help: TOKEN_HELP, run: (argv, io) => token(argv, io) },
  loadgen: { summary: 'drive load against a running server', run: (argv) => runElsewhere('../loadgen/mod.ts', argv) },
  bench: { summary: 'run the benchmarks', run: (argv) => runElsewhere('../bench/mod.ts', argv) },
  schemas: { summary: 'print the JSON Schema of the events, or the OpenAPI document', help: SCHEMAS_HELP, run: schemas },
};

const USAGE = `Usage: omni <command> [flags]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(8)} ${summary}`)
  .join('\n')}

Run "omni <command> --help" for a command's flags.`;

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(USAGE);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0] === undefined || !Object.hasOwn(COMMANDS, rest[0]) ? undefined : COMMANDS[rest[0]];
    // Commands that live in their own folder (loadgen, bench) print their own help.
    if (topic && topic.help === undefined) return topic.run(['--help'], io);
    io.out(topic?.help ?? USAGE);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err(`omni: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`omni ${name}: ${error.message}\nRun "omni ${name} --help" for usage.`);
      return 2;
    }
    io.err(`omni ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/**
 * Runs a command that lives in another folder. Imported only when asked for, so `serve` does
 * not load the load generator, and through a variable so the type checker does not require the
 * module. The build (tsconfig.build.json) rewrites a relative `.ts` specifier to `.js` at run
 * time, so the same call loads dist/loadgen/mod.js from the build.
 */
async function runElsewhere(relativePath: string, argv: readonly string[]): Promise<number> {
  let module: { main?: (argv: string[]) => unknown };
  try {
    module = await import(relativePath);
  } catch (error) {
    const folder = relativePath.slice(3).replace(/\.ts$/, '');
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(folder);
    if (missing) throw new Error(`not available in this build (${relativePath.slice(3)} is missing)`);
    throw error;
  }
  if (typeof module.main !== 'function') throw new Error(`${relativePath} exports no main(argv)`);
  const code = await module.main([...argv]);
  return typeof code === 'number' ? code : 0;
}
