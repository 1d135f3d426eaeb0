// `omni token` (docs/protocol.md, section 2): prints a JWT signed with the same secret `omni serve` uses.

import { resolve } from 'node:path';
import { TOKEN_ROLES, resolveSecret, signToken, type Role, type TokenClaims } from '../gateway/mod.ts';
import { pagePath, type PageName } from '../ui/mod.ts';
import { UsageError, choiceFlag, describeFlags, integerFlag, parseFlags, type FlagSpec } from '../flags/mod.ts';
import type { CliIO } from './io.ts';

const DEFAULT_TTL_S = 24 * 3600;

const FLAGS: FlagSpec[] = [
  { name: 'role', kind: 'value', valueName: 'ROLE', help: `one of ${TOKEN_ROLES.join(', ')} (required)` },
  { name: 'sub', kind: 'value', valueName: 'ID', help: 'customer, kiosk, staff or agent id the token speaks for (required)' },
  { name: 'loc', kind: 'value', valueName: 'LOCATION', help: "a kiosk's or a store associate's store (required for kiosk and associate tokens)" },
  { name: 'ttl', kind: 'value', valueName: 'SECONDS', help: `lifetime; 0 = never expires (default ${DEFAULT_TTL_S})` },
  { name: 'url', kind: 'switch', help: "print the URL of the role's page with the token in its fragment instead (customer: storefront, kiosk: kiosk, agent: desk, supervisor and admin: ops)" },
  { name: 'base', kind: 'value', valueName: 'URL', help: 'where the server is, for --url (default http://OMNI_HOST:OMNI_PORT, i.e. http://127.0.0.1:8080)' },
  { name: 'data', kind: 'value', env: 'OMNI_DATA', valueName: 'DIR', help: 'data dir whose secret to use (default ./data)' },
  { name: 'secret', kind: 'value', env: 'OMNI_SECRET', valueName: 'S', help: 'HS256 secret (default: the one in DIR/secret)' },
];

export const TOKEN_HELP = `Usage: omni token --role ROLE --sub ID [--loc LOCATION] [--ttl SECONDS] [--url [--base URL]]

Prints a token for Authorization: Bearer (HTTP) or ?token= (WebSocket). It is signed with
the secret omni serve uses: --secret/OMNI_SECRET, else the one kept in the data dir
(created there if the server has not run yet). With --url it prints a ready link to the
role's page instead, e.g. http://127.0.0.1:8080/ui/desk#token=… (the token rides in the
fragment, which browsers never send to the server).

Flags:
${describeFlags(FLAGS)}`;

export function token(argv: readonly string[], io: CliIO, nowMs = Date.now()): number {
  const flags = parseFlags(argv, FLAGS, io.env);
  if (flags.help) {
    io.out(TOKEN_HELP);
    return 0;
  }
  const roleFlag = flags.string('role');
  const subFlag = flags.string('sub');
  if (roleFlag === undefined) throw new UsageError('--role is required');
  if (subFlag === undefined || subFlag.value === '') throw new UsageError('--sub is required');
  const role: Role = choiceFlag(roleFlag, TOKEN_ROLES);
  const loc = flags.string('loc')?.value;
  if (role === 'kiosk' && (loc === undefined || loc === '')) throw new UsageError('kiosk tokens need --loc (the store the kiosk stands in)');
  if (role === 'associate' && (loc === undefined || loc === '')) throw new UsageError('associate tokens need --loc (the store the associate works at)');
  const ttlFlag = flags.string('ttl');
  const ttl = ttlFlag === undefined ? DEFAULT_TTL_S : integerFlag(ttlFlag, 0, 10 * 365 * 24 * 3600);

  const claims: TokenClaims = { sub: subFlag.value, role };
  if (loc !== undefined && loc !== '') claims.loc = loc;
  if (ttl > 0) claims.exp = Math.floor(nowMs / 1000) + ttl;

  const dataDir = resolve(flags.string('data')?.value ?? './data');
  const { secret, source, path } = resolveSecret(dataDir, flags.string('secret')?.value);
  if (source === 'generated') io.err(`omni: generated a token secret in ${path}`);
  const signed = signToken(claims, secret);
  io.out(flags.switch('url')?.value === true ? pageUrl(role, subFlag.value, signed, flags.string('base')?.value, io.env) : signed);
  return 0;
}

const PAGE_OF_ROLE: Partial<Record<Role, PageName>> = { customer: 'storefront', kiosk: 'kiosk', agent: 'desk', supervisor: 'ops', admin: 'ops' };

/** The role's page on the server at `base` (default: OMNI_HOST and OMNI_PORT as serve reads them). */
function pageUrl(role: Role, sub: string, token: string, base: string | undefined, env: NodeJS.ProcessEnv): string {
  const page = PAGE_OF_ROLE[role];
  if (page === undefined) throw new UsageError(`--url: there is no page for ${role} tokens (pages: customer, kiosk, agent, supervisor, admin)`);
  const server = base ?? `http://${env.OMNI_HOST || '127.0.0.1'}:${env.OMNI_PORT || '8080'}`;
  let url: URL;
  try {
    url = new URL(pagePath(page), server);
  } catch {
    throw new UsageError(`--base must be a URL such as http://127.0.0.1:8080 (got '${server}')`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--base must be an http or https URL (got '${server}')`);
  // A kiosk's screen follows kiosk/<its own id>: the token's sub.
  if (page === 'kiosk') url.searchParams.set('kiosk', sub);
  url.hash = `token=${token}`;
  return url.href;
}
