// The order panels in headless Chromium: a signed-in customer's storefront lists its orders
// from every channel and follows each one live (ready, picked up, an order placed elsewhere
// appearing without a reload; other customers' orders never shown), and the ops page shows the
// last hour's order figures by channel from `stats/commerce`, updated as orders come and go.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, pageUrl, startUiServer, STORE_EVENTS, type UiServer } from './ui-harness.ts';

let server: UiServer;
let browser: Browser;

const placed = (order: string, customer: string, channel: string, where: Record<string, unknown>, lines: Array<{ sku: string; qty: number; price: number }>) => ({
  id: `place-${order}`,
  type: 'order.placed',
  order,
  customer,
  channel,
  currency: 'EUR',
  lines,
  ...where,
});

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchChromium()]);
  const answer = await server.post([
    ...STORE_EVENTS,
    { id: 'loc-berlin-named', type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.52, lon: 13.4, name: 'Berlin Mitte' },
    { id: 'r-1', type: 'stock.received', sku: 'BOOTS', location: 'berlin-1', qty: 20 },
    { id: 'r-2', type: 'stock.received', sku: 'SCARF', location: 'hamburg-1', qty: 20 },
    placed('o-app', 'cust-ui', 'app', { pickup: 'berlin-1' }, [{ sku: 'BOOTS', qty: 2, price: 4999 }]),
    placed('o-other', 'cust-else', 'web', { pickup: 'berlin-1' }, [{ sku: 'BOOTS', qty: 1, price: 4999 }]),
  ]);
  for (const r of answer.results) expect(r.ok, JSON.stringify(r)).toBe(true);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const order = (id: string) => `[data-testid="order"][data-order="${id}"]`;

describe('storefront: your orders', () => {
  it("lists the customer's own orders and follows each live, an order from another channel appearing without a reload", async () => {
    const { page, problems, context } = await openPage(browser, server, { width: 390, height: 844 });
    await page.goto(pageUrl(server, '/ui/storefront?sku=BOOTS', server.token('customer', 'cust-ui')));
    const app = page.locator(order('o-app'));
    await app.waitFor();
    expect(await app.getAttribute('data-status')).toBe('placed');
    expect(await app.getByTestId('order-status').textContent()).toBe('Placed');
    expect(await app.textContent()).toContain('2 × BOOTS');
    // The pickup store by its name, once the page has read the stores.
    await page.locator(order('o-app'), { hasText: 'pickup at Berlin Mitte' }).waitFor();
    await page.evaluate(() => ((globalThis as any).__sameLoad = true));

    // Picked and waiting at the store: the page shows it live.
    await server.post([{ id: 'ready-app', type: 'order.ready', order: 'o-app' }]);
    await page.locator(`${order('o-app')}[data-status="ready"]`).waitFor();
    expect(await app.getByTestId('order-status').textContent()).toBe('Ready for pickup');

    // Ordered at a store's counter for delivery: found by the list's next read, then live.
    await server.post([placed('o-store', 'cust-ui', 'store', { ship: { lat: 53.5, lon: 10 } }, [{ sku: 'SCARF', qty: 1, price: 1999 }])]);
    await page.locator(order('o-store')).waitFor();
    await server.post([
      { id: 'pick-app', type: 'order.picked_up', order: 'o-app' },
      { id: 'ship-store', type: 'order.shipped', order: 'o-store', carrier: 'dhl' },
    ]);
    await page.locator(`${order('o-app')}[data-status="completed"]`).waitFor();
    await page.locator(`${order('o-store')}[data-status="shipped"]`).waitFor();
    // Newest first; another customer's order is not there.
    expect(await page.getByTestId('order').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-order')))).toEqual(['o-store', 'o-app']);
    expect(await page.evaluate(() => (globalThis as any).__sameLoad)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows no orders panel without a customer token', async () => {
    const { page, problems, context } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/storefront?sku=BOOTS'));
    await page.getByTestId('chat-unavailable').waitFor();
    expect(await page.getByTestId('orders').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('ops: order figures', () => {
  it("shows the last hour's orders by channel and their total, updated live", async () => {
    const { page, problems, context } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/ops', server.token('supervisor', 'boss')));
    const total = page.locator('[data-testid="commerce-total"]');
    const figure = (row: string, name: string) => page.locator(`${row} [data-figure="${name}"]`);
    const web = '[data-testid="commerce-group"][data-key="web"]';
    await page.locator(web).waitFor();
    const ordersNow = Number(await figure('[data-testid="commerce-total"]', 'orders').textContent());
    expect(ordersNow).toBeGreaterThanOrEqual(2);
    expect(await total.count()).toBe(1);

    // A web order and its cancellation show up in the web row without a reload.
    await server.post([placed('o-web', 'cust-ops', 'web', { pickup: 'berlin-1' }, [{ sku: 'BOOTS', qty: 1, price: 2500 }])]);
    await expect.poll(() => figure(web, 'orders').textContent(), { timeout: 10_000 }).toBe('2');
    await server.post([{ id: 'cancel-web', type: 'order.cancelled', order: 'o-web' }]);
    await expect.poll(() => figure(web, 'cancelRate').textContent(), { timeout: 10_000 }).toBe('50.0%');
    expect(await figure(web, 'pickupShare').textContent()).toBe('100.0%');
    expect(await figure(web, 'revenue').textContent()).toMatch(/^74\.99$/);
    expect(problems).toEqual([]);
    await context.close();
  });
});
