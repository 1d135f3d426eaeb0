// Shared set-up for the page tests (test/ui-*.test.ts) and the screenshot script: a real engine
// and gateway serving the pages built from the current sources (ui/mod.ts, in memory, so a test
// never sees stale pages), and headless Debian Chromium (/usr/bin/chromium, CHROMIUM=… for
// another; never a downloaded browser) driven by playwright-core. Every page a test opens is
// watched: a console error, an uncaught exception or a request to any other host fails the test
// in checkPage().

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openTestEngine, type TestEngine } from './engine-under-test.ts';
import type { ServiceOptions } from '../engine/mod.ts';
import { signToken, startGateway, type Role } from '../gateway/mod.ts';
import { buildPages, type PageAsset } from '../ui/mod.ts';
import { BIN } from './fixtures/omni-process.ts';

export const UI_SECRET = 'ui-test-secret';

let pages: Promise<Map<string, PageAsset>> | undefined;
/** Built once per test file (~150 ms); the sources cannot change during a run. */
export function builtPages(): Promise<Map<string, PageAsset>> {
  return (pages ??= buildPages());
}

export interface UiServer {
  url: string;
  port: number;
  dataDir: string;
  engine: TestEngine;
  token(role: Role, sub: string, loc?: string): string;
  post(events: unknown[]): Promise<any>;
  /** Stops and removes the data dir. */
  dispose(): Promise<void>;
}

/** `service`: further service options, e.g. the bot's mode (`bot`, `targetWaitMs`). */
export async function startUiServer(options: { offerTimeoutMs?: number; service?: Partial<ServiceOptions> } = {}): Promise<UiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omni-ui-test-'));
  const assets = await builtPages();
  const engine = await openTestEngine({ path: dataDir, domains: { service: { ...options.service, offerTimeoutMs: options.offerTimeoutMs ?? 60_000 } }, durability: 'commit' });
  const gateway = await startGateway({ engine, secret: UI_SECRET, host: '127.0.0.1', port: 0, pages: assets });
  const server: UiServer = {
    url: gateway.url,
    port: gateway.port,
    engine,
    dataDir,
    token: (role, sub, loc) => signToken(loc === undefined ? { role, sub } : { role, sub, loc }, UI_SECRET),
    post: (events) => postEvents(server.url, events),
    async dispose() {
      await gateway.close();
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface ServeChild {
  url: string;
  /** SIGTERM, and wait for the exit (the server drains and closes WebSockets with 1001). */
  stop(): Promise<void>;
}

/**
 * A real `omni serve` process (bin/omni.mjs, which builds the pages as it starts) on `port`
 * (0: any) and `dataDir`, for restarts in place: a new process takes the same port and data dir.
 */
export function startServeChild(dataDir: string, port: number): Promise<ServeChild> {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir, '--secret', UI_SECRET, '--durability', 'commit'], {
    env: { ...process.env, OMNI_PORT: '', OMNI_HOST: '', OMNI_DATA: '', OMNI_SECRET: '', OMNI_DURABILITY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return new Promise<ServeChild>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /omni listening on (http:\/\/\S+)/.exec(out);
      if (match !== null) resolve({ url: match[1], stop: () => (child.kill('SIGTERM'), exited) });
    });
    void exited.then(() => reject(new Error(`omni serve exited before listening: ${err}`)));
  });
}

/** POSTs events with an ingest token; throws unless every one was applied. */
export async function postEvents(url: string, events: unknown[]): Promise<unknown> {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${signToken({ role: 'ingest', sub: 'ui-test' }, UI_SECRET)}` },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as { results?: Array<{ ok: boolean }> };
  const failed = (body.results ?? []).filter((r) => !r.ok);
  if (response.status !== 200 || failed.length > 0) throw new Error(`events refused: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * A free port below the kernel's ephemeral range, for a server that restarts in place. A port
 * from `--port 0` lies inside that range, and while the server is down the page's reconnect
 * attempts may be given that very port as their own source port (a TCP self-connect to
 * 127.0.0.1:P), which then holds it and the restarted server cannot listen.
 */
export async function portOutsideEphemeralRange(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, Math.min(low, 32_768) - 10_000));
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, page exceptions and requests to other hosts seen so far. */
  problems: string[];
}

/**
 * A page in its own browser context (own storage: a second person), every request outside the
 * server's origin recorded and refused before it leaves.
 */
export async function openPage(browser: Browser, server: { url: string }, viewport = { width: 1100, height: 800 }): Promise<WatchedPage & { context: BrowserContext }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  const origin = new URL(server.url).host;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === origin) return route.continue();
    problems.push(`request to another host: ${url.href}`);
    return route.abort();
  });
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).host !== origin) problems.push(`websocket to another host: ${ws.url()}`);
  });
  page.on('console', (message) => {
    // The browser's own line for a WebSocket dropped by a server restart is expected there.
    if (message.type() === 'error' && !message.text().includes('WebSocket connection')) problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { page, problems, context };
}

/** The URL of a page with its token in the fragment. */
export function pageUrl(server: { url: string }, path: string, token?: string): string {
  return `${server.url}${path}${token === undefined ? '' : `#token=${encodeURIComponent(token)}`}`;
}

export const STORE_EVENTS = [
  { id: 'loc-berlin', type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.52, lon: 13.4 },
  { id: 'loc-hamburg', type: 'location.upserted', location: 'hamburg-1', kind: 'store', lat: 53.55, lon: 9.99 },
];

/**
 * Presses Tab until the element with `testid` has the focus (at most `max` presses), proving it
 * is reachable by keyboard in the page's order.
 */
export async function tabTo(page: Page, testid: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => (globalThis as any).document.activeElement?.getAttribute('data-testid') === id, testid)) return;
  }
  throw new Error(`${testid} not reached with ${max} Tab presses`);
}
