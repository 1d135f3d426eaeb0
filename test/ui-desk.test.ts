// The chat across browser contexts: a customer starts a chat on the storefront; the first
// agent's desk gets the offer with the customer's context and declines, which moves it to the
// second agent's desk; that agent accepts, messages go both ways, the customer's conversation
// survives a reload, and completing ends it on both sides. Keyboard only for the key controls.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, pageUrl, startUiServer, STORE_EVENTS, tabTo, type UiServer, type WatchedPage } from './ui-harness.ts';

let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer(), launchChromium()]);
  await server.post([
    ...STORE_EVENTS,
    { id: 'profile', type: 'customer.profile', customer: 'c42', tier: 'vip' },
    { id: 'seen', type: 'activity.viewed', subject: 'c42', sku: 'TSHIRT-M', channel: 'web' },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function openDesk(agent: string): Promise<WatchedPage> {
  const watched = await openPage(browser, server);
  await watched.page.goto(pageUrl(server, '/ui/desk', server.token('agent', agent)));
  await watched.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await watched.page.getByTestId('signon-topics').fill('general');
  await watched.page.getByTestId('signon').click();
  await watched.page.getByText('Signed on for general.').waitFor();
  return watched;
}

const lastMessage = (page: Page) => page.getByTestId('chat-log').locator('li').last();

describe('desk and storefront chat', () => {
  it('offers with context, decline to the next desk, accept, messages both ways, reload, complete', async () => {
    // a1 signs on first, so it has been idle longest and gets the first offer.
    const desk1 = await openDesk('a1');
    const desk2 = await openDesk('a2');

    const shopper = await openPage(browser, server, { width: 390, height: 844 });
    const customerToken = server.token('customer', 'c42');
    await shopper.page.goto(pageUrl(server, '/ui/storefront?sku=TSHIRT-M&topic=general', customerToken));
    await shopper.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await tabTo(shopper.page, 'chat-start');
    await shopper.page.keyboard.press('Enter');

    const offer1 = desk1.page.getByTestId('offer');
    await offer1.waitFor();
    const request = await offer1.getAttribute('data-request');
    expect(request).toMatch(/^chat-/);
    const context = await offer1.getByTestId('customer-context').textContent();
    expect(context).toContain('c42');
    expect(context).toContain('VIP');
    expect(context).toContain('TSHIRT-M');
    await expect.poll(() => offer1.locator('.countdown').textContent()).toMatch(/\d+ s/);
    await tabTo(desk1.page, 'decline');
    await desk1.page.keyboard.press('Enter');
    await offer1.waitFor({ state: 'detached' });

    const offer2 = desk2.page.locator(`[data-testid="offer"][data-request="${request}"]`);
    await offer2.waitFor();
    await tabTo(desk2.page, 'accept');
    await desk2.page.keyboard.press('Enter');
    await shopper.page.getByText('You are chatting with a2.').waitFor();

    await desk2.page.getByTestId('chat-input').fill('Hello, how can I help?');
    await desk2.page.getByTestId('chat-input').press('Enter');
    await expect.poll(() => lastMessage(shopper.page).textContent()).toContain('Hello, how can I help?');

    await tabTo(shopper.page, 'chat-input');
    await shopper.page.keyboard.type('Is TSHIRT-M in Berlin?');
    await shopper.page.keyboard.press('Enter');
    await expect.poll(() => lastMessage(desk2.page).textContent()).toContain('Is TSHIRT-M in Berlin?');

    // A reload keeps the conversation and goes on receiving it.
    await shopper.page.reload();
    await expect.poll(() => shopper.page.getByTestId('chat-log').textContent()).toContain('Hello, how can I help?');
    await shopper.page.getByText('You are chatting with a2.').waitFor();
    await desk2.page.getByTestId('chat-input').fill('Yes, 20 of them.');
    await desk2.page.getByTestId('chat-input').press('Enter');
    await expect.poll(() => lastMessage(shopper.page).textContent()).toContain('Yes, 20 of them.');

    await tabTo(desk2.page, 'complete');
    await desk2.page.keyboard.press('Enter');
    await desk2.page.getByText('Chat completed.').waitFor();
    await shopper.page.getByText('This chat has ended.').waitFor();
    expect(await shopper.page.getByTestId('chat-start').isEnabled()).toBe(true);

    // The status control works by keyboard too.
    await tabTo(desk2.page, 'status');
    await desk2.page.keyboard.press('ArrowDown');
    await desk2.page.getByText('You are away.').waitFor();

    for (const watched of [desk1, desk2, shopper]) expect(watched.problems).toEqual([]);
  });

  it('says plainly when the desk has no agent token', async () => {
    const { page, problems } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/desk'));
    await page.getByTestId('token-needed').waitFor();
    expect(await page.getByTestId('token-needed').textContent()).toContain('agent token');
    expect(problems).toEqual([]);
  });
});
