// Flag reading for the bench subcommands, on top of the CLI's own parser (flags/mod.ts), so
// `omni bench` reports mistakes the same way as every other omni command (exit code 2).

import { UsageError, choiceFlag, describeFlags, parseFlags, type FlagSpec } from '../../flags/mod.ts';

export { UsageError, describeFlags, type FlagSpec };

export interface BenchFlags {
  help: boolean;
  int(name: string, fallback: number, min: number, max: number): number;
  num(name: string, fallback: number, min: number, max: number): number;
  choice<T extends string>(name: string, fallback: T, choices: readonly T[]): T;
  string(name: string): string | undefined;
  switch(name: string): boolean;
}

/** The flags every benchmark takes. */
export const COMMON_FLAGS: FlagSpec[] = [
  { name: 'runs', kind: 'value', valueName: 'K', help: 'repeat the whole measurement K times; report median, min and max (default 1)' },
  { name: 'json', kind: 'value', valueName: 'FILE', help: 'also write the results as JSON to FILE' },
];

/** Bench flags come from the command line only: no environment fallbacks. */
export function readFlags(argv: readonly string[], specs: readonly FlagSpec[]): BenchFlags {
  const flags = parseFlags(argv, [...specs, ...COMMON_FLAGS], {});
  const raw = (name: string) => flags.string(name);
  return {
    help: flags.help,
    int(name, fallback, min, max) {
      const f = raw(name);
      if (f === undefined) return fallback;
      const text = f.value.trim().replace(/_/g, '');
      if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
        throw new UsageError(`${f.origin} must be an integer from ${min} to ${max} (got '${f.value}')`);
      }
      return Number(text);
    },
    num(name, fallback, min, max) {
      const f = raw(name);
      if (f === undefined) return fallback;
      const v = Number(f.value);
      if (f.value.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
        throw new UsageError(`${f.origin} must be a number from ${min} to ${max} (got '${f.value}')`);
      }
      return v;
    },
    choice(name, fallback, choices) {
      const f = raw(name);
      return f === undefined ? fallback : choiceFlag(f, choices);
    },
    string(name) {
      return raw(name)?.value;
    },
    switch(name) {
      return flags.switch(name)?.value ?? false;
    },
  };
}

/**
 * `--workers 1,2`: the thread counts to compare (1: everything on one thread; 2: the engine on a
 * thread of its own). More are refused: the engine does not spread over more threads yet.
 */
export function readWorkerList(text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const list = text.split(',').map((s) => s.trim());
  for (const w of list) if (w !== '1' && w !== '2') throw new UsageError(`--workers: each count must be 1 or 2 (got '${w}')`);
  return [...new Set(list.map(Number))];
}

/** Run `runNo` starts at another variant, so over runs each comes first as often (ABBA for two). */
export function rotated<T>(list: readonly T[], runNo: number): T[] {
  return list.map((_, i) => list[(i + runNo) % list.length]);
}
