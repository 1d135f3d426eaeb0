// The kiosk and ops pages in headless Chromium: an identified shopper's in-stock
// recommendations on the kiosk screen, replaced on the next identification, cleared when that
// shopper is erased; a waiting request in
// its queue and alerts as they come on the ops page; plain notices without the needed token.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, pageUrl, startUiServer, STORE_EVENTS, tabTo, type UiServer } from './ui-harness.ts';

let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchChromium()]);
  const viewed = (id: string, subject: string, sku: string) => ({ id, type: 'activity.viewed', subject, sku, channel: 'web' });
  await server.post([
    ...STORE_EVENTS,
    { id: 'r-a', type: 'stock.received', sku: 'BOOTS', location: 'berlin-1', qty: 10 },
    { id: 'r-b', type: 'stock.received', sku: 'SCARF', location: 'berlin-1', qty: 10 },
    // Stocked in Hamburg only: never on a Berlin kiosk.
    { id: 'r-c', type: 'stock.received', sku: 'GLOVES', location: 'hamburg-1', qty: 10 },
    viewed('v1', 's1', 'BOOTS'), viewed('v2', 's1', 'SCARF'),
    viewed('v3', 's2', 'BOOTS'), viewed('v4', 's2', 'GLOVES'), viewed('v5', 's2', 'SCARF'),
    viewed('v6', 'shopper-9', 'BOOTS'),
    viewed('v7', 'shopper-7', 'GLOVES'),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('kiosk', () => {
  it("shows the identified shopper's recommendations in stock at its store, replaced by the next one and cleared after a quiet while", async () => {
    const { page, problems } = await openPage(browser, server, { width: 800, height: 1280 });
    await page.goto(pageUrl(server, '/ui/kiosk?kiosk=k1&idle=5', server.token('kiosk', 'k1', 'berlin-1')));
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await server.post([{ id: 'id-1', type: 'kiosk.identified', kiosk: 'k1', location: 'berlin-1', subject: 'shopper-9' }]);
    await page.locator('[data-testid="recs"][data-customer="shopper-9"] [data-testid="rec"][data-sku="SCARF"]').waitFor();
    const skus = await page.getByTestId('rec').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-sku')));
    expect(skus).not.toContain('GLOVES');
    // The recommendations can be walked through by keyboard.
    await tabTo(page, 'rec');

    await server.post([{ id: 'id-2', type: 'kiosk.identified', kiosk: 'k1', location: 'berlin-1', subject: 'shopper-7' }]);
    await page.locator('[data-testid="recs"][data-customer="shopper-7"]').waitFor();
    expect(await page.getByTestId('rec').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-sku')))).not.toContain('GLOVES');
    // After a quiet while (here &idle=5 seconds) the screen is cleared for the next person.
    await page.locator('[data-testid="recs"]:not([data-customer])').waitFor({ state: 'attached' });
    expect(await page.getByTestId('rec').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('clears the screen at once when the shopper on it is erased', async () => {
    const { page, problems } = await openPage(browser, server, { width: 800, height: 1280 });
    // A quiet while far longer than the test: only the erasure can clear it.
    await page.goto(pageUrl(server, '/ui/kiosk?kiosk=k2&idle=600', server.token('kiosk', 'k2', 'berlin-1')));
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await server.post([{ id: 'id-s1', type: 'kiosk.identified', kiosk: 'k2', location: 'berlin-1', subject: 's1' }]);
    await page.locator('[data-testid="recs"][data-customer="s1"] [data-testid="rec"]').first().waitFor();
    await server.post([{ id: 'erase-s1', type: 'customer.erased', customer: 's1' }]);
    await page.locator('[data-testid="recs"]:not([data-customer])').waitFor({ state: 'attached' });
    expect(await page.getByTestId('rec').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('says plainly when there is no kiosk token', async () => {
    const { page, problems } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/kiosk?kiosk=k1', server.token('customer', 'c1')));
    await page.getByTestId('token-needed').waitFor();
    expect(problems).toEqual([]);
  });
});

describe('ops', () => {
  it('shows a waiting request in its queue and alerts as they come', async () => {
    await server.post([{ id: 'req-1', type: 'service.requested', request: 'q1', subject: 'c9', channel: 'chat', topic: 'returns' }]);
    const { page, problems } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/ops', server.token('supervisor', 'boss')));
    const queue = page.locator('[data-testid="queue"][data-topic="returns"]');
    await expect.poll(() => queue.textContent()).toContain('1 waiting');
    await server.post([{ id: 'req-2', type: 'service.requested', request: 'q2', subject: 'c8', channel: 'chat', topic: 'returns' }]);
    await expect.poll(() => queue.textContent()).toContain('2 waiting');

    await server.post([{ id: 'sold-low', type: 'stock.sold', sku: 'BOOTS', location: 'berlin-1', qty: 7 }]);
    const alert = page.locator('[data-testid="alert"][data-type="low_stock"]');
    await expect.poll(() => alert.first().textContent()).toContain('BOOTS at berlin-1');
    // The charts fill from /metrics: the connections chart shows at least this page.
    await expect.poll(async () => Number(await page.getByTestId('chart-connections-now').textContent())).toBeGreaterThanOrEqual(1);
    expect(problems).toEqual([]);
  });

  it('says plainly when the token is not a supervisor or admin one', async () => {
    const { page, problems } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/ops', server.token('agent', 'a1')));
    await page.getByTestId('token-needed').waitFor();
    expect(await page.getByTestId('token-needed').textContent()).toContain('supervisor or admin');
    expect(problems).toEqual([]);
  });
});
