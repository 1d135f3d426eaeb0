// TypeScript entry points bundled once per test file, for tests that start a process or an engine
// many times: each start then loads plain JavaScript instead of having every module compiled
// through tsx again, in the process and in each of its engine threads. The engine thread's own
// file is always bundled alongside, named as the compiled build names it, because a compiled
// engine starts its threads from the file next to its own (engine/engine-thread-link.ts).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');

export interface Bundle {
  readonly dir: string;
  /** The bundled file of an entry, for `node FILE`. */
  file(entry: string): string;
  /** Imports an entry's bundle in this process. */
  load<T>(entry: string): Promise<T>;
  remove(): void;
}

/**
 * Bundles `entries` (name → source path under the repository) with engine/engine-thread.ts.
 * Under node_modules, so the packages left out of the bundle (lmdb, msgpackr: native code)
 * resolve from there as they do for the sources.
 */
export async function bundle(entries: Record<string, string>): Promise<Bundle> {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'omni-test-bundle-'));
  const entryPoints = { ...Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(ROOT, path)])), 'engine-thread': join(ROOT, 'engine', 'engine-thread.ts') };
  try {
    await build({ entryPoints, outdir: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
  } catch (error) {
    rmSync(out, { recursive: true, force: true });
    throw error;
  }
  const file = (entry: string) => join(out, `${entry}.js`);
  return {
    dir: out,
    file,
    load: <T>(entry: string) => import(pathToFileURL(file(entry)).href) as Promise<T>,
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

/**
 * engine/engine-thread.ts bundled from the engine's sources as they are now, kept under
 * node_modules/.cache by their hash (the engine imports nothing outside engine/): built by the
 * first test file that needs it, then shared by every other file and run until a source changes.
 */
export async function engineThreadFile(): Promise<string> {
  const hash = createHash('sha256');
  const sources = readdirSync(join(ROOT, 'engine'), { recursive: true }).map(String).filter((path) => path.endsWith('.ts')).sort();
  for (const path of sources) hash.update(path).update('\0').update(readFileSync(join(ROOT, 'engine', path))).update('\0');
  const dir = join(ROOT, 'node_modules', '.cache', `omni-engine-thread-${hash.digest('hex').slice(0, 16)}`);
  const file = join(dir, 'engine-thread.js');
  if (existsSync(file)) return file;
  const built = await bundle({});
  try {
    renameSync(built.dir, dir);
  } catch {
    // Another test file renamed its own build there first: the same sources, so the same file.
    built.remove();
  }
  return file;
}
