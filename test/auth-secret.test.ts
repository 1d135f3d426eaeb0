import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSecret } from '../gateway/mod.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'omni-secret-test-'));
  dirs.push(dir);
  return dir;
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('resolveSecret', () => {
  it('prefers an explicit secret and writes nothing', () => {
    const dir = tempDir();
    expect(resolveSecret(dir, 'given')).toEqual({ secret: 'given', source: 'explicit' });
    expect(() => statSync(join(dir, 'secret'))).toThrow();
  });

  it('generates a 32-byte secret once, private to the owner, and reuses it', () => {
    const dataDir = join(tempDir(), 'not', 'yet', 'there');
    const first = resolveSecret(dataDir);
    expect(first.source).toBe('generated');
    expect(Buffer.from(first.secret, 'base64url')).toHaveLength(32);
    expect(statSync(join(dataDir, 'secret')).mode & 0o777).toBe(0o600);

    const again = resolveSecret(dataDir);
    expect(again).toEqual({ secret: first.secret, source: 'file', path: join(dataDir, 'secret') });
  });

  it('treats an empty explicit secret as unset', () => {
    const dir = tempDir();
    expect(resolveSecret(dir, '').source).toBe('generated');
  });

  it('reads a secret written by hand, trimming the newline', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'secret'), 'hand-made\n');
    expect(resolveSecret(dir).secret).toBe('hand-made');
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('hand-made\n');
  });

  it('refuses an empty secret file instead of signing with an empty key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'secret'), '\n');
    expect(() => resolveSecret(dir)).toThrow(/empty/);
  });
});
