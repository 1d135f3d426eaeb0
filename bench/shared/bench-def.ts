// What one `omni bench <name>` is: the folder of each question exports one (its mod.ts), and
// bench/mod.ts lists them.

import type { FlagSpec } from './flags.ts';
import type { Spread } from './report.ts';

export interface BenchDef {
  title: string;
  help: string;
  flags: FlagSpec[];
  /** Runs once (run number `runNo`), printing as it goes; returns its result and headline figures. */
  prepare(argv: readonly string[]): 'help' | { options: unknown; run(runNo: number): Promise<{ result: unknown; headline: Record<string, number> }> };
  /** Extra lines after the spread over runs. */
  derived?(spreads: Record<string, Spread>): Record<string, number>;
  /** Prints what the spread over several runs means for this benchmark. */
  conclude?(spreads: Record<string, Spread>): void;
}

/** A benchmark made of its steps: read the flags, run once, pick the headline figures. */
export interface BenchSteps<O, R> {
  title: string;
  help: string;
  flags: FlagSpec[];
  /** The options from the command line, or 'help' when --help was asked for. */
  read(argv: readonly string[]): O | 'help';
  /** Run number `runNo` (0-based) of --runs K. */
  run(options: O, runNo: number): Promise<R>;
  headline(result: R): Record<string, number>;
  derived?: BenchDef['derived'];
  conclude?: BenchDef['conclude'];
}

export function defineBench<O, R>(steps: BenchSteps<O, R>): BenchDef {
  const { title, help, flags, derived, conclude } = steps;
  return {
    title,
    help,
    flags,
    derived,
    conclude,
    prepare(argv) {
      const options = steps.read(argv);
      if (options === 'help') return 'help';
      return {
        options,
        run: async (runNo) => {
          const result = await steps.run(options, runNo);
          return { result, headline: steps.headline(result) };
        },
      };
    },
  };
}
