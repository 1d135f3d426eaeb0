// Whether dist/ holds the JavaScript of the TypeScript sources as they are now. bin/omni.mjs
// runs dist/ only then, so an edited checkout never runs yesterday's build: the build records a
// hash of every compiled source's path and content (plus the compiler settings), and a start
// compares it with the sources it finds (10–30 ms for the whole tree).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** The folders tsconfig.build.json compiles; their .ts files (not .d.ts) are the sources. */
export const SOURCE_FOLDERS = ['flags', 'engine', 'cluster', 'gateway', 'client', 'cli', 'bench', 'loadgen', 'ui'];
const SETTINGS_FILES = ['tsconfig.json', 'tsconfig.build.json'];
/** Where the build writes the hash, inside the output folder. */
export const STAMP_FILE = '.source-hash';

function sourceFiles(root) {
  const files = [];
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
      const path = relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
      // Build outputs and installed packages inside a source folder (client/dist) are not sources.
      if (/(^|\/)(dist|node_modules)\//.test(path)) continue;
      files.push(path);
    }
  }
  return [...files.sort(), ...SETTINGS_FILES];
}

/** A hash of every source's path and content, in a fixed order. */
export function sourceHash(root) {
  const hash = createHash('sha256');
  for (const path of sourceFiles(root)) {
    hash.update(path).update('\0');
    if (existsSync(join(root, path))) hash.update(readFileSync(join(root, path)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** 'current' (dist/ was built from these very sources), 'stale' (they changed since) or 'missing'. */
export function distState(root) {
  let built;
  try {
    built = readFileSync(join(root, 'dist', STAMP_FILE), 'utf8').trim();
  } catch {
    return 'missing';
  }
  return built === sourceHash(root) ? 'current' : 'stale';
}
