import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../cli/mod.ts';
import { readServeConfig } from '../cli/serve.ts';
import { resolveSecret, verifyToken } from '../gateway/mod.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'omni.mjs');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'omni-cli-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function capture(env: NodeJS.ProcessEnv = {}): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { env, stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('omni serve configuration', () => {
  it('has the contract defaults', () => {
    expect(readServeConfig([], {})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      dataDir: resolve('./data'),
      secret: undefined,
      nats: undefined,
      publicStock: true,
      durability: 'fsync',
      lowStock: 5,
      orders: {},
      service: {},
      customers: {},
      limits: {},
      wsLimits: {},
      partitions: undefined,
      workers: availableParallelism(),
    });
  });

  it('reads --scrub-delay-ms (the wait before the store rewrite after an erasure): whole milliseconds up to a week', () => {
    expect(readServeConfig(['--scrub-delay-ms', '5000'], {})).toMatchObject({ scrubDelayMs: 5000 });
    expect(readServeConfig([], { OMNI_SCRUB_DELAY_MS: '0' })).toMatchObject({ scrubDelayMs: 0 });
    expect(() => readServeConfig(['--scrub-delay-ms', '-1'], {})).toThrow(/--scrub-delay-ms/);
    expect(() => readServeConfig(['--scrub-delay-ms', 'soon'], {})).toThrow(/--scrub-delay-ms/);
  });

  it('reads --workers: 1 keeps the engine on the request thread; 0, past 16 and non-numbers are refused', () => {
    expect(readServeConfig(['--workers', '1'], {})).toMatchObject({ workers: 1 });
    expect(readServeConfig([], { OMNI_WORKERS: '4' })).toMatchObject({ workers: 4 });
    expect(readServeConfig(['--workers', '16'], {})).toMatchObject({ workers: 16 });
    expect(() => readServeConfig(['--workers', '0'], {})).toThrow(/--workers must be an integer from 1 to 16/);
    expect(() => readServeConfig(['--workers', '17'], {})).toThrow(/--workers must be an integer from 1 to 16/);
    expect(() => readServeConfig([], { OMNI_WORKERS: 'many' })).toThrow(/OMNI_WORKERS must be an integer/);
  });

  it('reads the server-wide budgets', () => {
    const env = { OMNI_MAX_BODY_MEMORY: '1048576', OMNI_MAX_ANONYMOUS_CONNECTIONS: '0' };
    expect(readServeConfig(['--max-subscriptions', '5000', '--max-anonymous-subscriptions=100'], env)).toMatchObject({
      limits: { maxBodyMemoryBytes: 1048576 },
      wsLimits: { maxTotalSubscriptions: 5000, maxAnonymousSubscriptions: 100, maxAnonymousConnections: 0 },
    });
    expect(() => readServeConfig(['--max-body-memory', '0'], {})).toThrow(/--max-body-memory must be an integer from 1/);
    expect(() => readServeConfig([], { OMNI_MAX_SUBSCRIPTIONS: '-1' })).toThrow(/OMNI_MAX_SUBSCRIPTIONS must be an integer/);
  });

  it('reads the customer settings: session gap and identity rules', () => {
    const env = { OMNI_SESSION_GAP_MS: '600000', OMNI_IDENTITY_BLOCKED: 'guest, test ,' };
    expect(readServeConfig(['--identity-limits', 'phone=1,Email=5,*=3', '--identity-shared-after=device=1'], env)).toMatchObject({
      customers: { sessionGapMs: 600000, identity: { limits: { phone: 1, email: 5, '*': 3 }, sharedAfter: { device: 1 }, blocked: ['guest', 'test'] } },
    });
    expect(() => readServeConfig(['--identity-limits', 'phone'], {})).toThrow(/KIND=N pairs/);
    expect(() => readServeConfig(['--identity-limits', 'ph one=2'], {})).toThrow(/KIND=N pairs/);
    expect(() => readServeConfig(['--identity-shared-after', 'device=0'], {})).toThrow(/device must be an integer from 1/);
    expect(() => readServeConfig(['--session-gap-ms', '0'], {})).toThrow(/--session-gap-ms must be an integer/);
  });

  it('reads the service timeouts from flags and the environment', () => {
    const env = { OMNI_OFFER_TIMEOUT_MS: '5000', OMNI_SLA_MS: '60000', OMNI_PRESENCE_GRACE_MS: '2000' };
    expect(readServeConfig([], env)).toMatchObject({ service: { offerTimeoutMs: 5000, slaMs: 60000, graceMs: 2000 } });
    expect(readServeConfig(['--offer-timeout-ms', '100', '--presence-grace-ms=0'], env)).toMatchObject({ service: { offerTimeoutMs: 100, slaMs: 60000, graceMs: 0 } });
    expect(() => readServeConfig(['--sla-ms', '0'], {})).toThrow(/--sla-ms must be an integer/);
    expect(() => readServeConfig([], { OMNI_OFFER_TIMEOUT_MS: 'soon' })).toThrow(/OMNI_OFFER_TIMEOUT_MS must be an integer/);
  });

  it('reads the environment, and flags win over it', () => {
    const env = { OMNI_PORT: '9000', OMNI_HOST: '0.0.0.0', OMNI_DATA: '/tmp/x', OMNI_SECRET: 's', OMNI_NATS: 'nats://n', OMNI_PUBLIC_STOCK: 'false', OMNI_DURABILITY: 'commit', OMNI_LOW_STOCK: '2' };
    expect(readServeConfig([], env)).toMatchObject({ port: 9000, host: '0.0.0.0', dataDir: '/tmp/x', secret: 's', nats: 'nats://n', publicStock: false, durability: 'commit', lowStock: 2 });
    expect(readServeConfig(['--low-stock', '0'], env)).toMatchObject({ lowStock: 0 });
    expect(readServeConfig(['--pickup-hold-ms', '60000'], { OMNI_RETURN_WINDOW_MS: '0' })).toMatchObject({ orders: { pickupHoldMs: 60000, returnWindowMs: 0 } });
    expect(() => readServeConfig(['--pickup-hold-ms', '0'], {})).toThrow(/pickup-hold-ms/);
    expect(readServeConfig(['--port', '0', '--host=::1', '--public-stock', '--durability', 'none'], env)).toMatchObject({
      port: 0,
      host: '::1',
      publicStock: true,
      durability: 'none',
    });
    expect(readServeConfig(['--no-public-stock'], {})).toMatchObject({ publicStock: false });
  });

  it('refuses bad flags with a message naming the culprit', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--port', '70000'], {}, /--port must be an integer from 0 to 65535/],
      [['--port'], {}, /--port needs a value/],
      [[], { OMNI_PORT: 'eighty' }, /OMNI_PORT must be an integer/],
      [[], { OMNI_PUBLIC_STOCK: 'maybe' }, /OMNI_PUBLIC_STOCK must be true or false/],
      [['--durability', 'sometimes'], {}, /--durability must be one of fsync, commit, none/],
      [['--low-stock', '-1'], {}, /--low-stock must be an integer/],
      [['--bogus'], {}, /unknown flag '--bogus'/],
      [['extra'], {}, /unexpected argument 'extra'/],
    ];
    for (const [argv, env, message] of cases) {
      const io = capture(env);
      expect(await main(['serve', ...argv], io), argv.join(' ')).toBe(2);
      expect(io.stderr.join('\n')).toMatch(message);
    }
  });
});

describe('omni command line', () => {
  it('prints usage; unknown or missing commands exit 2', async () => {
    const help = capture();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/Usage: omni <command>/);
    const serveHelp = capture();
    expect(await main(['serve', '--help'], serveHelp)).toBe(0);
    expect(serveHelp.stdout.join('\n')).toMatch(/OMNI_PUBLIC_STOCK/);
    expect(await main([], capture())).toBe(2);
    const unknown = capture();
    expect(await main(['frobnicate'], unknown)).toBe(2);
    expect(unknown.stderr.join('\n')).toMatch(/unknown command 'frobnicate'/);
  });

  it('token signs with the data dir secret, creating it if needed', async () => {
    const dataDir = tempDir();
    const io = capture();
    const now = Date.now();
    expect(await main(['token', '--role', 'kiosk', '--sub', 'k1', '--loc', 'S1', '--ttl', '60', '--data', dataDir], io)).toBe(0);
    const token = io.stdout[0];
    const verified = verifyToken(token, resolveSecret(dataDir).secret);
    expect(verified).toMatchObject({ ok: true, claims: { role: 'kiosk', sub: 'k1', loc: 'S1' } });
    if (verified.ok) expect(verified.claims.exp! - now / 1000).toBeCloseTo(60, -1);
  });

  it('token uses OMNI_SECRET, and --ttl 0 mints a token without expiry', async () => {
    const io = capture({ OMNI_SECRET: 'from-env', OMNI_DATA: tempDir() });
    expect(await main(['token', '--role', 'admin', '--sub', 'ops', '--ttl', '0'], io)).toBe(0);
    expect(verifyToken(io.stdout[0], 'from-env')).toEqual({ ok: true, claims: { role: 'admin', sub: 'ops' } });
  });

  it('token mints a store associate with its store', async () => {
    const io = capture({ OMNI_SECRET: 'from-env', OMNI_DATA: tempDir() });
    expect(await main(['token', '--role', 'associate', '--sub', 's1', '--loc', 'store-1', '--ttl', '0'], io)).toBe(0);
    expect(verifyToken(io.stdout[0], 'from-env')).toEqual({ ok: true, claims: { role: 'associate', sub: 's1', loc: 'store-1' } });
  });

  it('token refuses unusable claims', async () => {
    for (const argv of [['--sub', 'x'], ['--role', 'admin'], ['--role', 'anonymous', '--sub', 'x'], ['--role', 'kiosk', '--sub', 'k1'], ['--role', 'associate', '--sub', 's1'], ['--role', 'agent', '--sub', 'a', '--ttl', '-5']]) {
      expect(await main(['token', ...argv, '--secret', 's'], capture()), argv.join(' ')).toBe(2);
    }
  });
});

describe('omni serve as a process', () => {
  it('prints the listening line, serves, and exits 0 on SIGTERM', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], {
      cwd: ROOT,
      env: { ...process.env, OMNI_SECRET: '', OMNI_PORT: '', OMNI_DATA: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    try {
      const line = await new Promise<string>((resolveLine, reject) => {
        let stdout = '';
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
          const newline = stdout.indexOf('\n');
          if (newline >= 0) resolveLine(stdout.slice(0, newline));
        });
        void exited.then((code) => reject(new Error(`omni serve exited with ${code} before listening: ${stderr}`)));
      });
      expect(line).toMatch(/^omni listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = line.slice('omni listening on '.length);
      expect(Number(new URL(url).port)).toBeGreaterThan(0);

      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      // A token from `omni token` on the same data dir verifies on the running server.
      const { stdout: token } = await promisify(execFile)(process.execPath, [BIN, 'token', '--role', 'ingest', '--sub', 'feed', '--data', dataDir], { cwd: ROOT });
      const posted = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'cli-1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 0, lon: 0 }),
      });
      expect(await posted.json()).toEqual({ results: [{ id: 'cli-1', ok: true }] });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/SIGTERM received/);
      expect(stderr).toMatch(/stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 20_000);
});
