// Shared set-up for the gateway tests: a real engine in a temp dir behind a real gateway on a
// free port, and small HTTP helpers.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken, startGateway, type Gateway, type GatewayOptions, type Role } from '../gateway/mod.ts';
import { openTestEngine, type TestEngine } from './engine-under-test.ts';

export const TEST_SECRET = 'gateway-test-secret';

export interface TestServer {
  engine: TestEngine;
  gateway: Gateway;
  url: string;
  dataDir: string;
  token(role: Role, sub?: string, loc?: string): string;
  /** Closes gateway then engine, and removes the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startTestServer(options: Partial<Omit<GatewayOptions, 'engine' | 'secret'>> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omni-gw-test-'));
  const engine = await openTestEngine({ path: dataDir, durability: 'none' });
  let gateway: Gateway;
  try {
    gateway = await startGateway({ engine, secret: TEST_SECRET, host: '127.0.0.1', port: 0, ...options });
  } catch (error) {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    engine,
    gateway,
    url: gateway.url,
    dataDir,
    token: (role, sub = `${role}-1`, loc) => signToken(loc === undefined ? { role, sub } : { role, sub, loc }, TEST_SECRET),
    stop: () =>
      (stopped ??= (async () => {
        await gateway.close();
        await engine.close();
        rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

export async function getJson(url: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

export const location = (id: string, location: string) => ({ id, type: 'location.upserted', location, kind: 'store', lat: 31.2, lon: 121.5 });
export const received = (id: string, sku: string, location: string, qty: number) => ({ id, type: 'stock.received', sku, location, qty });
