// The omni commands' flag parser (flags/mod.ts) at its edges: what node:util parseArgs splits
// differently from how the commands read a command line (short groups, a value that looks like a
// flag, negated switches, inline values) must still come out as the commands' own answers.

import { describe, expect, it } from 'vitest';
import { UsageError, parseFlags, type FlagSpec } from '../flags/mod.ts';

const SPECS: FlagSpec[] = [
  { name: 'port', kind: 'value', env: 'T_PORT', help: '' },
  { name: 'public-stock', kind: 'switch', env: 'T_PUBLIC', help: '' },
];

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const f = parseFlags(argv, SPECS, env);
  return { help: f.help, port: f.string('port'), publicStock: f.switch('public-stock') };
};

describe('parseFlags', () => {
  it('reads values separate and inline, the last one winning, and a dash-led value after a value flag', () => {
    expect(parse(['--port', '5', '--port=6']).port).toEqual({ value: '6', origin: '--port' });
    expect(parse(['--port', '-5']).port).toEqual({ value: '-5', origin: '--port' });
    expect(parse(['--port=']).port).toEqual({ value: '', origin: '--port' });
    expect(parse(['--port=--x']).port).toEqual({ value: '--x', origin: '--port' });
  });

  it('reads switches, --no- switches and --switch=BOOL, over the environment, which fills in the rest', () => {
    expect(parse(['--no-public-stock'], { T_PUBLIC: 'yes' }).publicStock).toEqual({ value: false, origin: '--no-public-stock' });
    expect(parse(['--public-stock=off']).publicStock).toEqual({ value: false, origin: '--public-stock' });
    expect(parse(['--public-stock']).publicStock).toEqual({ value: true, origin: '--public-stock' });
    expect(parse([], { T_PUBLIC: 'no', T_PORT: '9' })).toEqual({ help: false, port: { value: '9', origin: 'T_PORT' }, publicStock: { value: false, origin: 'T_PUBLIC' } });
    expect(parse([], { T_PORT: '' }).port).toBeUndefined();
  });

  it('takes -h and --help, nothing else of their kind', () => {
    expect(parse(['-h']).help).toBe(true);
    expect(parse(['--port', '1', '--help']).help).toBe(true);
  });

  it.each([
    [['--port'], '--port needs a value'],
    [['--port', '--public-stock'], '--port needs a value'],
    [['--port', '--'], '--port needs a value'],
    [['-x'], "unexpected argument '-x'"],
    [['-abc'], "unexpected argument '-abc'"],
    [['-hx'], "unexpected argument '-hx'"],
    [['--'], "unexpected argument '--'"],
    [['serve'], "unexpected argument 'serve'"],
    [['--public-stock', 'yes'], "unexpected argument 'yes'"],
    [['--bogus', 'v'], "unknown flag '--bogus'"],
    [['--help=1'], "unknown flag '--help=1'"],
    [['--no-port'], "unknown flag '--no-port'"],
    [['--no-public-stock=1'], "unknown flag '--no-public-stock=1'"],
    [['--public-stock=maybe'], "--public-stock must be true or false (got 'maybe')"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parse(argv)).toThrow(new UsageError(message));
  });

  it('names the variable that holds a bad switch value', () => {
    expect(() => parse([], { T_PUBLIC: 'maybe' })).toThrow("T_PUBLIC must be true or false (got 'maybe')");
  });
});
