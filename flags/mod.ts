// Flag parsing for the omni commands: `--flag value`, `--flag=value`, `--switch`/`--no-switch`,
// each flag optionally backed by an environment variable (the flag wins). node:util parseArgs
// splits the command line into tokens; the rest is ours because parseArgs on Node 20 has no
// negated switches (`allowNegative` came in Node 22), no environment fallback, and errors that
// name neither the flag nor the variable the way these commands report them (the tests pin the
// texts). So it runs non-strict and every token is judged here, left to right.

import { parseArgs } from 'node:util';

/** A mistake in how the command was invoked: reported with a hint and exit code 2. */
export class UsageError extends Error {}

export interface FlagSpec {
  /** Without the leading dashes, e.g. 'port'. */
  name: string;
  kind: 'value' | 'switch';
  env?: string;
  /** Shown in help, e.g. 'N' for `--port N`. */
  valueName?: string;
  help: string;
}

/** A flag's raw value and where it came from, so errors can name the flag or the variable. */
export interface FlagValue<T> {
  value: T;
  origin: string;
}

export interface ParsedFlags {
  help: boolean;
  string(name: string): FlagValue<string> | undefined;
  switch(name: string): FlagValue<boolean> | undefined;
}

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], env: NodeJS.ProcessEnv): ParsedFlags {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const given = new Map<string, FlagValue<string | boolean>>();
  let help = false;
  const options = Object.fromEntries(specs.map((spec) => [spec.name, { type: spec.kind === 'value' ? ('string' as const) : ('boolean' as const) }]));
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });

  for (const token of tokens) {
    // The argument as typed: `-abc` is one argument, though parseArgs makes three tokens of it.
    const arg = argv[token.index];
    if (token.kind !== 'option' || !token.rawName.startsWith('--')) {
      if (arg === '-h') help = true;
      else throw new UsageError(`unexpected argument '${arg}'`);
      continue;
    }
    const name = token.name;
    const inline = token.inlineValue === true ? token.value : undefined;
    if (name === 'help' && !token.inlineValue && !byName.has(name)) {
      help = true;
      continue;
    }

    const spec = byName.get(name);
    if (spec?.kind === 'value') {
      // parseArgs takes the next argument whatever it is: a following flag means the value was
      // forgotten (values that really start with dashes can still be given as --flag=value).
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      given.set(name, { value: token.value, origin: `--${name}` });
      continue;
    }
    if (spec?.kind === 'switch') {
      given.set(name, { value: inline === undefined ? true : parseBoolean(inline, `--${name}`), origin: `--${name}` });
      continue;
    }
    const negated = name.startsWith('no-') ? byName.get(name.slice(3)) : undefined;
    if (negated?.kind === 'switch' && inline === undefined) {
      given.set(negated.name, { value: false, origin: arg });
      continue;
    }
    throw new UsageError(`unknown flag '${arg}'`);
  }

  const lookup = (name: string): FlagValue<string | boolean> | undefined => {
    const spec = byName.get(name);
    if (spec === undefined) throw new Error(`flag --${name} is not declared`);
    const fromFlag = given.get(name);
    if (fromFlag !== undefined) return fromFlag;
    const raw = spec.env === undefined ? undefined : env[spec.env];
    // An empty variable counts as unset, as `OMNI_X= omni serve` is how one clears it.
    if (raw === undefined || raw === '') return undefined;
    return { value: spec.kind === 'switch' ? parseBoolean(raw, spec.env!) : raw, origin: spec.env! };
  };

  return {
    help,
    string: (name) => lookup(name) as FlagValue<string> | undefined,
    switch: (name) => lookup(name) as FlagValue<boolean> | undefined,
  };
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function parseBoolean(raw: string, origin: string): boolean {
  const normalized = raw.trim().toLowerCase();
  if (TRUE.has(normalized)) return true;
  if (FALSE.has(normalized)) return false;
  throw new UsageError(`${origin} must be true or false (got '${raw}')`);
}

export function integerFlag(flag: FlagValue<string>, min: number, max: number): number {
  const text = flag.value.trim();
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag.origin} must be an integer from ${min} to ${max} (got '${flag.value}')`);
  }
  return Number(text);
}

export function choiceFlag<T extends string>(flag: FlagValue<string>, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(flag.value)) return flag.value as T;
  throw new UsageError(`${flag.origin} must be one of ${choices.join(', ')} (got '${flag.value}')`);
}

/** Help text for a command's flags, one line each, aligned. */
export function describeFlags(specs: readonly FlagSpec[]): string {
  const rows = specs.map((spec) => {
    const left = spec.kind === 'switch' ? `--${spec.name} / --no-${spec.name}` : `--${spec.name} ${spec.valueName ?? 'VALUE'}`;
    return [left, spec.env === undefined ? spec.help : `${spec.help} [${spec.env}]`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
