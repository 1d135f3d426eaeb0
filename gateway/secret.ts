// The HS256 secret (docs/protocol.md, section 1): given explicitly, or generated once and kept in the data dir
// so tokens minted by `omni token` keep verifying across restarts of `omni serve`.

import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRET_FILE = 'secret';

export interface ResolvedSecret {
  secret: string;
  source: 'explicit' | 'generated' | 'file';
  /** The file it was read from or written to, when it came from the data dir. */
  path?: string;
}

/**
 * `explicit` is the --secret flag or OMNI_SECRET, already merged by the caller (an empty string
 * counts as unset, so `OMNI_SECRET=` does not silently switch to an empty key).
 */
export function resolveSecret(dataDir: string, explicit?: string): ResolvedSecret {
  if (explicit !== undefined && explicit !== '') return { secret: explicit, source: 'explicit' };
  const path = join(dataDir, SECRET_FILE);
  const existing = readSecretFile(path);
  if (existing !== undefined) return { secret: existing, source: 'file', path };
  mkdirSync(dataDir, { recursive: true });
  // Written to a private temp name and hard-linked into place: the link fails if another process
  // (a concurrent `omni token`) won the race, and readers never see a half-written file.
  const candidate = randomBytes(32).toString('base64url');
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${candidate}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
    return { secret: candidate, source: 'generated', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readSecretFile(path);
    if (winner === undefined) throw new Error(`${path} exists but holds no secret; delete it or pass --secret`);
    return { secret: winner, source: 'file', path };
  } finally {
    unlinkSync(temp);
  }
}

function readSecretFile(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret === '') throw new Error(`${path} is empty; delete it to generate a new secret or pass --secret`);
  return secret;
}
