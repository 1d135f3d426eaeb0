// `omni loadgen`: a bounded, open-loop load against a running server on this
// machine. Progress goes to stderr, the summary to stdout, the reports to --report / --html.
// Exit codes: 0 done, 1 failed, 2 invoked wrongly (cli/mod.ts turns a UsageError into 2).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderHtml } from './html.ts';
import { HELP, readOptions, type LoadgenOptions } from './options.ts';
import { summaryTable } from './report.ts';
import { runLoadgen, type RunOutput } from './run.ts';

export { readOptions, loopbackUrl, isLoopback, type LoadgenOptions } from './options.ts';
export { runLoadgen, type RunOutput } from './run.ts';
export type { LoadgenReport } from './report.ts';

export async function main(argv: string[]): Promise<number> {
  const options = readOptions(argv);
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const out = await runLoadgen(options);
  writeOutputs(options, out, (line) => process.stdout.write(`${line}\n`));
  return 0;
}

/** Prints the summary and writes the JSON and HTML reports asked for. */
export function writeOutputs(options: LoadgenOptions, out: RunOutput, print: (line: string) => void): void {
  print(`\nomni loadgen summary\n${summaryTable(out.report)}`);
  if (options.report) {
    write(options.report, JSON.stringify(out.report, null, 2) + '\n');
    print(`report written to ${options.report}`);
  }
  if (options.html) {
    write(options.html, renderHtml(out.report));
    print(`HTML report written to ${options.html}`);
  }
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
