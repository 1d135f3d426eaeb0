// The storefront's stores in real headless Chromium: named from GET /v1/locations (a store declared
// after the page opened too), listed nearest first when the browser gives a position, and in id
// order with no console error when it does not.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, pageUrl, startUiServer, type UiServer } from './ui-harness.ts';

let server: UiServer;
let browser: Browser;

const store = (location: string, lat: number, lon: number, name?: string) => ({ id: `loc-${location}-${name ?? ''}`, type: 'location.upserted', location, kind: 'store', lat, lon, ...(name ? { name } : {}) });
const HAMBURG = { latitude: 53.55, longitude: 9.99 };

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchChromium()]);
  await server.post([
    store('berlin-1', 52.52, 13.4, 'Berlin Mitte'),
    store('hamburg-1', 53.55, 9.99, 'Hamburg Hafen'),
    // No name: the page shows its id.
    store('munich-1', 48.14, 11.58),
    ...['berlin-1', 'hamburg-1', 'munich-1'].map((location, i) => ({ id: `recv-${location}`, type: 'stock.received', sku: 'TEE', location, qty: 5 + i })),
    // A store with a threshold of its own, and CAP at it and at a store on the server's (5).
    { ...store('dresden-1', 51.05, 13.74, 'Dresden Altmarkt'), lowStock: 10 },
    ...['berlin-1', 'dresden-1'].map((location) => ({ id: `recv-cap-${location}`, type: 'stock.received', sku: 'CAP', location, qty: 7 })),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

/** The store column of a SKU's card, top to bottom. */
const storesOf = (page: Page, sku: string) => page.locator(`section[aria-label="Stock of ${sku}"] [data-testid="store"]`).allTextContents();

describe('storefront stores', () => {
  it('names the stores, in id order without a position, and names a store declared later', async () => {
    const { page, problems, context } = await openPage(browser, server, { width: 390, height: 844 });
    await page.goto(pageUrl(server, '/ui/storefront?sku=TEE'));
    await expect.poll(() => storesOf(page, 'TEE')).toEqual(['Berlin Mitte', 'Hamburg Hafen', 'munich-1']);
    // Not asked for unbidden: the shopper is offered the choice.
    await page.getByTestId('nearest-first').waitFor();

    await server.post([store('aachen-1', 50.77, 6.08, 'Aachen Dom'), { id: 'recv-aachen', type: 'stock.received', sku: 'TEE', location: 'aachen-1', qty: 1 }]);
    await expect.poll(() => storesOf(page, 'TEE')).toEqual(['Aachen Dom', 'Berlin Mitte', 'Hamburg Hafen', 'munich-1']);
    expect(await page.locator('[data-testid="available"][data-location="aachen-1"]').textContent()).toBe('1');

    // Refused (no permission in this context): said plainly, order unchanged, no error.
    await page.getByTestId('nearest-first').click();
    await page.getByText('Your position is not available').waitFor();
    expect(await storesOf(page, 'TEE')).toEqual(['Aachen Dom', 'Berlin Mitte', 'Hamburg Hafen', 'munich-1']);
    expect(await page.getByTestId('nearest-first').isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("marks 'low' at each store's own threshold", async () => {
    const { page, problems, context } = await openPage(browser, server, { width: 390, height: 844 });
    await page.goto(pageUrl(server, '/ui/storefront?sku=CAP'));
    await expect.poll(() => storesOf(page, 'CAP')).toEqual(['Berlin Mitte', 'Dresden Altmarkt']);
    const rowAt = (location: string) => page.locator('tr', { has: page.locator(`[data-testid="store"][data-location="${location}"]`) });
    // 7 available: low where the threshold is 10, in stock where it is the server's 5.
    await expect.poll(() => rowAt('dresden-1').textContent()).toContain('low');
    expect(await rowAt('berlin-1').textContent()).toContain('in stock');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('lists the nearest store first when the browser may give the position', async () => {
    const { page, problems, context } = await openPage(browser, server, { width: 390, height: 844 });
    await context.setGeolocation(HAMBURG);
    await context.grantPermissions(['geolocation'], { origin: server.url });
    await page.goto(pageUrl(server, '/ui/storefront?sku=TEE'));
    // Hamburg, then Berlin (~255 km), Aachen (~360 km), Munich (~610 km).
    await expect.poll(() => storesOf(page, 'TEE')).toEqual(['Hamburg Hafen', 'Berlin Mitte', 'Aachen Dom', 'munich-1']);
    expect(await page.getByTestId('store-order').textContent()).toBe('Nearest stores first.');
    const hamburgRow = page.locator('tr', { has: page.locator('[data-testid="store"][data-location="hamburg-1"]') });
    expect(await hamburgRow.textContent()).toContain('0.0 km');
    // Granted already, so nothing to press.
    expect(await page.getByTestId('nearest-first').isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });
});
