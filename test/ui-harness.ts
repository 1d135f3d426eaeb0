// Shared set-up for the page tests (test/ui-*.test.ts) and the screenshot script: a real engine
// and gateway serving the pages built from the current sources (ui/mod.ts, in memory, so a test
// never sees stale pages), and headless Debian Chromium (/usr/bin/chromium, CHROMIUM=… for
// another; never a downloaded browser) driven by playwright-core. Every page a test opens is
// watched: a console error, an uncaught exception or a request to any other host fails the test
// in checkPage().

import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { defaultProcessors, openEngine, type Engine } from '../engine/mod.ts';
import { signToken, startGateway, type Gateway, type Role } from '../gateway/mod.ts';
import { buildPages, type PageAsset } from '../ui/mod.ts';

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
  engine: Engine;
  token(role: Role, sub: string, loc?: string): string;
  post(events: unknown[]): Promise<any>;
  /** Stops gateway and engine, keeping the data dir (for a restart). */
  stop(): Promise<void>;
  /** A new engine and gateway on the same data dir, behind the same port. */
  restart(): Promise<void>;
  /** Stops and removes the data dir. */
  dispose(): Promise<void>;
}

export async function startUiServer(options: { offerTimeoutMs?: number } = {}): Promise<UiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omni-ui-test-'));
  const assets = await builtPages();
  let engine!: Engine;
  let gateway: Gateway | undefined;
  const front = await startFront();
  const port = front.port;
  const open = async () => {
    engine = await openEngine({ path: dataDir, processors: defaultProcessors({ service: { offerTimeoutMs: options.offerTimeoutMs ?? 60_000 } }), durability: 'commit' });
    gateway = await startGateway({ engine, secret: UI_SECRET, host: '127.0.0.1', port: 0, pages: assets });
    front.target = gateway.port;
  };
  const stop = async () => {
    await gateway?.close();
    gateway = undefined;
    front.target = undefined;
    await engine.close();
  };
  await open();
  const server: UiServer = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get engine() {
      return engine;
    },
    dataDir,
    token: (role, sub, loc) => signToken(loc === undefined ? { role, sub } : { role, sub, loc }, UI_SECRET),
    async post(events) {
      const response = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('ingest', 'ui-test')}` },
        body: JSON.stringify(events),
      });
      const body = (await response.json()) as any;
      const failed = (body.results ?? []).filter((r: any) => !r.ok);
      if (response.status !== 200 || failed.length > 0) throw new Error(`events refused: ${response.status} ${JSON.stringify(body)}`);
      return body;
    },
    stop,
    restart: open,
    async dispose() {
      if (gateway !== undefined) await stop();
      front.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * A TCP forwarder whose port stays while the gateway behind it restarts: the pages keep one
 * origin across a restart, as with a server restarted in place. (Within one process a new
 * gateway could not bind the old one's port while that port's closed connections sat in
 * TIME_WAIT — a new `omni serve` process can — so the restart here changes the port behind the
 * forwarder instead.) Nothing is buffered or changed on the way.
 */
async function startFront(): Promise<{ server: Server; port: number; target: number | undefined }> {
  const front = { server: createServer(), port: 0, target: undefined as number | undefined };
  front.server.on('connection', (client) => {
    if (front.target === undefined) return void client.destroy();
    const upstream = connect(front.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
  front.port = (front.server.address() as AddressInfo).port;
  return front;
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
export async function openPage(browser: Browser, server: UiServer, viewport = { width: 1100, height: 800 }): Promise<WatchedPage & { context: BrowserContext }> {
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
export function pageUrl(server: UiServer, path: string, token?: string): string {
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
