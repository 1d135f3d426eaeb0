// `omni token --url`: a ready link to the role's page, with the token in the fragment (never in
// the path or query the server sees), on the server named by --base or OMNI_HOST/OMNI_PORT.

import { describe, expect, it } from 'vitest';
import { token } from '../cli/token.ts';
import { UsageError } from '../flags/mod.ts';
import { verifyToken } from '../gateway/mod.ts';

const SECRET = 'token-url-secret';

function run(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const out: string[] = [];
  token(argv, { env: { OMNI_SECRET: SECRET, ...env }, out: (line) => out.push(line), err: () => undefined });
  return out.join('\n');
}

describe('omni token --url', () => {
  it("prints each role's page with a token that verifies", () => {
    const cases: Array<[string[], string]> = [
      [['--role', 'customer', '--sub', 'c42'], 'http://127.0.0.1:8080/ui/storefront'],
      [['--role', 'kiosk', '--sub', 'k1', '--loc', 'berlin-1'], 'http://127.0.0.1:8080/ui/kiosk?kiosk=k1'],
      [['--role', 'agent', '--sub', 'a1'], 'http://127.0.0.1:8080/ui/desk'],
      [['--role', 'supervisor', '--sub', 's1'], 'http://127.0.0.1:8080/ui/ops'],
      [['--role', 'admin', '--sub', 'root'], 'http://127.0.0.1:8080/ui/ops'],
    ];
    for (const [flags, page] of cases) {
      const url = new URL(run([...flags, '--url']));
      expect(`${url.origin}${url.pathname}${url.search}`).toBe(page);
      const jwt = url.hash.replace(/^#token=/, '');
      expect(verifyToken(jwt, SECRET).ok).toBe(true);
    }
  });

  it('uses --base, else OMNI_HOST and OMNI_PORT', () => {
    expect(run(['--role', 'agent', '--sub', 'a1', '--url', '--base', 'https://shop.example:9443'])).toMatch(/^https:\/\/shop\.example:9443\/ui\/desk#token=/);
    expect(run(['--role', 'agent', '--sub', 'a1', '--url'], { OMNI_HOST: '10.0.0.5', OMNI_PORT: '9090' })).toMatch(/^http:\/\/10\.0\.0\.5:9090\/ui\/desk#token=/);
    // Without --url the plain token, as before.
    expect(run(['--role', 'agent', '--sub', 'a1'])).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('refuses a role without a page and a base that is not an http URL', () => {
    expect(() => run(['--role', 'ingest', '--sub', 'x', '--url'])).toThrow(UsageError);
    expect(() => run(['--role', 'agent', '--sub', 'x', '--url', '--base', 'nope'])).toThrow(UsageError);
    expect(() => run(['--role', 'agent', '--sub', 'x', '--url', '--base', 'ftp://host'])).toThrow(UsageError);
  });
});
