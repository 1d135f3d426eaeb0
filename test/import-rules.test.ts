// The import rules (.dependency-cruiser.cjs, run by `npm test` on the real folders) catch what
// they are for: each rule is tried on a small tree laid out like the repository that breaks it,
// and a tree that keeps them passes. Without this, a rule with a wrong path pattern would pass
// everything and nobody would notice.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const FOLDERS = ['flags', 'engine', 'cluster', 'gateway', 'client', 'loadgen', 'bench', 'cli', 'bin', 'ui'];

/** Files that keep every rule: each folder's entry, importing only downward through entries. */
const CLEAN: Record<string, string> = {
  'engine/mod.ts': "export const engine = 1;\n",
  'engine/stock/mod.ts': "export const stock = 1;\n",
  'engine/inner.ts': "export const inner = 1;\n",
  'cluster/mod.ts': "import { engine } from '../engine/mod.ts';\nimport { flag } from '../flags/mod.ts';\nexport const cluster = engine + flag;\n",
  'cluster/inner.ts': "export const inner = 1;\n",
  'gateway/mod.ts': "import { engine } from '../engine/mod.ts';\nimport { cluster } from '../cluster/mod.ts';\nexport const gateway = engine + cluster;\n",
  'client/mod.ts': "export const client = 1;\n",
  'loadgen/mod.ts': "import { gateway } from '../gateway/mod.ts';\nimport { client } from '../client/mod.ts';\nimport { flag } from '../flags/mod.ts';\nimport type { Shared } from './types.ts';\nexport const loadgen: Shared = gateway + client + flag;\n",
  'loadgen/types.ts': "export type Shared = number;\n",
  'bench/mod.ts': "import { loadgen } from '../loadgen/mod.ts';\nimport { stock } from '../engine/stock/mod.ts';\nexport const bench = loadgen + stock;\n",
  'flags/mod.ts': "export const flag = 1;\n",
  'cli/mod.ts': "import { bench } from '../bench/mod.ts';\nexport const cli = bench;\n",
  'ui/mod.ts': "import { client } from '../client/mod.ts';\nexport const ui = client;\n",
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Lays out CLEAN with `changes` on top and returns the names of the rules depcruise reports. */
async function violations(changes: Record<string, string>): Promise<string[]> {
  dir = mkdtempSync(join(tmpdir(), 'omni-import-rules-'));
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }));
  const present = FOLDERS.filter((f) => Object.keys({ ...CLEAN, ...changes }).some((p) => p.startsWith(`${f}/`)));
  const args = [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...present];
  // depcruise exits non-zero when it finds a violation; the JSON on stdout says which.
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: dir, maxBuffer: 16 << 20 }).catch((e: { stdout: string }) => e);
  const result = JSON.parse(stdout) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> } };
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe('import rules', () => {
  it('pass a tree whose imports run one way through entries', async () => {
    expect(await violations({})).toEqual([]);
  });

  it('refuse an upward import, naming the layer', async () => {
    expect(await violations({ 'engine/mod.ts': "import { gateway } from '../gateway/mod.ts';\nexport const engine = gateway;\n" })).toContain(
      'no-upward-from-engine: engine/mod.ts → gateway/mod.ts',
    );
    expect(await violations({ 'loadgen/extra.ts': "import { bench } from '../bench/mod.ts';\nexport const x = bench;\n" })).toContain(
      'no-upward-from-loadgen: loadgen/extra.ts → bench/mod.ts',
    );
    expect(await violations({ 'client/mod.ts': "import { engine } from '../engine/mod.ts';\nexport const client = engine;\n" })).toContain(
      'no-upward-from-client: client/mod.ts → engine/mod.ts',
    );
    expect(await violations({ 'cluster/up.ts': "import { gateway } from '../gateway/mod.ts';\nexport const x = gateway;\n" })).toContain(
      'no-upward-from-cluster: cluster/up.ts → gateway/mod.ts',
    );
    expect(await violations({ 'engine/down.ts': "import { cluster } from '../cluster/mod.ts';\nexport const x = cluster;\n" })).toContain(
      'no-upward-from-engine: engine/down.ts → cluster/mod.ts',
    );
  });

  it('refuse a deep import into another folder, and allow a domain entry', async () => {
    expect(await violations({ 'bench/deep.ts': "import { inner } from '../engine/inner.ts';\nexport const x = inner;\n" })).toEqual([
      'public-entries-only: bench/deep.ts → engine/inner.ts',
    ]);
    expect(await violations({ 'gateway/deep.ts': "import { inner } from '../cluster/inner.ts';\nexport const x = inner;\n" })).toEqual([
      'public-entries-only: gateway/deep.ts → cluster/inner.ts',
    ]);
  });

  it('let ui import the client only', async () => {
    expect(await violations({ 'ui/mod.ts': "import { engine } from '../engine/mod.ts';\nexport const ui = engine;\n" })).toContain('ui-only-client: ui/mod.ts → engine/mod.ts');
  });

  it('refuse an import circle, type-only imports included', async () => {
    const found = await violations({
      'loadgen/a.ts': "import type { B } from './b.ts';\nexport type A = { b?: B };\n",
      'loadgen/b.ts': "import type { A } from './a.ts';\nexport type B = { a?: A };\n",
    });
    expect(found.filter((v) => v.startsWith('no-circular:')).length).toBeGreaterThan(0);
  });
});
