// The storefront page in real headless Chromium: live stock without reload, low and sold-out
// states, an omni serve process restarted on the same data dir and port shown as "reconnecting" and then the
// right numbers, and no console error or request to another host.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { scriptSizes } from '../ui/mod.ts';
import { builtPages, launchChromium, openPage, pageUrl, portOutsideEphemeralRange, postEvents, startServeChild, startUiServer, STORE_EVENTS, type UiServer } from './ui-harness.ts';

let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchChromium()]);
  await server.post([
    ...STORE_EVENTS,
    { id: 'recv-1', type: 'stock.received', sku: 'TSHIRT-M', location: 'berlin-1', qty: 20 },
    { id: 'recv-2', type: 'stock.received', sku: 'TSHIRT-M', location: 'hamburg-1', qty: 8 },
    { id: 'recv-3', type: 'stock.received', sku: 'JEANS-32', location: 'hamburg-1', qty: 2 },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const cell = (sku: string, location: string) => `[data-testid="available"][data-sku="${sku}"][data-location="${location}"]`;

describe('storefront', () => {
  it('shows every SKU at every store and follows stock moves live, with low and sold-out states', async () => {
    const { page, problems, context } = await openPage(browser, server, { width: 390, height: 844 });
    await page.goto(pageUrl(server, '/ui/storefront?sku=TSHIRT-M,JEANS-32'));
    await expect.poll(() => page.locator(cell('TSHIRT-M', 'berlin-1')).textContent()).toBe('20');
    expect(await page.locator(cell('TSHIRT-M', 'hamburg-1')).textContent()).toBe('8');
    expect(await page.locator(cell('JEANS-32', 'hamburg-1')).textContent()).toBe('2');
    // A marker on the window proves the later numbers arrive without a reload.
    await page.evaluate(() => ((globalThis as any).__sameLoad = true));

    await server.post([{ id: 'sold-1', type: 'stock.sold', sku: 'TSHIRT-M', location: 'berlin-1', qty: 16 }]);
    await page.locator(`${cell('TSHIRT-M', 'berlin-1')}:text-is("4")`).waitFor();
    const berlinRow = page.locator('tr', { has: page.locator(cell('TSHIRT-M', 'berlin-1')) });
    await expect.poll(() => berlinRow.textContent()).toContain('low');
    expect(await page.locator(cell('TSHIRT-M', 'berlin-1')).getAttribute('class')).toContain('changed');

    await server.post([{ id: 'sold-2', type: 'stock.sold', sku: 'TSHIRT-M', location: 'berlin-1', qty: 4 }]);
    await page.locator(`${cell('TSHIRT-M', 'berlin-1')}:text-is("0")`).waitFor();
    await expect.poll(() => berlinRow.textContent()).toContain('sold out');
    // A store that starts stocking a SKU appears as a new row.
    await server.post([{ id: 'recv-4', type: 'stock.received', sku: 'JEANS-32', location: 'berlin-1', qty: 9 }]);
    await page.locator(`${cell('JEANS-32', 'berlin-1')}:text-is("9")`).waitFor();
    expect(await page.evaluate(() => (globalThis as any).__sameLoad)).toBe(true);
    // Without a customer token the page says how to chat instead of offering it.
    await page.getByTestId('chat-unavailable').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows "reconnecting" while omni serve restarts on the same data dir and port, then the right numbers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'omni-ui-restart-'));
    const port = await portOutsideEphemeralRange();
    let serve = await startServeChild(dataDir, port);
    try {
      await postEvents(serve.url, [...STORE_EVENTS, { id: 'recv', type: 'stock.received', sku: 'CAP', location: 'hamburg-1', qty: 8 }]);
      const { page, problems, context } = await openPage(browser, serve);
      await page.goto(pageUrl(serve, '/ui/storefront?sku=CAP'));
      await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
      await page.locator(`${cell('CAP', 'hamburg-1')}:text-is("8")`).waitFor();

      await serve.stop();
      await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
      expect(await page.getByTestId('connection').textContent()).toContain('reconnecting');
      serve = await startServeChild(dataDir, port);
      expect(new URL(serve.url).port).toBe(String(port));
      // Moved while the page may not be connected yet: it must catch up either way (after a
      // restart the server keeps no history, so the SDK's resume gets a snapshot).
      await postEvents(serve.url, [{ id: 'recv-after-restart', type: 'stock.received', sku: 'CAP', location: 'hamburg-1', qty: 5 }]);
      await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
      await page.locator(`${cell('CAP', 'hamburg-1')}:text-is("13")`).waitFor();
      // And follows live again after that.
      await postEvents(serve.url, [{ id: 'sold-after-restart', type: 'stock.sold', sku: 'CAP', location: 'hamburg-1', qty: 1 }]);
      await page.locator(`${cell('CAP', 'hamburg-1')}:text-is("12")`).waitFor();
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await serve.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is served from the gateway alone, with a CSP that allows no other host', async () => {
    const response = await fetch(`${server.url}/ui/storefront?sku=A`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${server.url}/ui/nothing`)).status).toBe(404);
  });

  it('keeps every page within 100 KiB of gzipped JavaScript', async () => {
    for (const [page, size] of Object.entries(scriptSizes(await builtPages()))) {
      expect(size.gzipBytes, page).toBeGreaterThan(1000);
      expect(size.gzipBytes, page).toBeLessThanOrEqual(100 * 1024);
    }
  });
});
