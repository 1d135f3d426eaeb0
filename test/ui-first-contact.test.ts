// First contact in headless Chromium, with the bot answering first (`bot: 'first'`) from a few
// entries of fixtures/knowledge-base.json: the storefront's first words get the assistant's
// answer, marked and naming its FAQ entry; "Talk to a person" brings the offer to a desk with the
// exchange the agent should not repeat, and the chat opens with it; once the agent completes it
// the customer rates it. "This answered my question" ends a request without any agent, and a
// second rating is refused with the server's `already_rated`, said plainly. The ops page shows
// the service figures of a known mix of requests, as GET /v1/service/stats gives them. In
// overflow mode the assistant answers a customer waiting in line with no agent online, asking
// for a person keeps the place, the agent signing on later gets the offer with the exchange, and
// a resolution on the customer's word closes the chat on the desk (saying so) and the storefront.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, pageUrl, startUiServer, type UiServer } from './ui-harness.ts';
import { duration, percent } from '../ui/shared/figure-format.ts';

let server: UiServer;
let browser: Browser;
type Opened = Awaited<ReturnType<typeof openPage>>;

interface FaqEvent { type: string; id: string; faq: string; topic: string; questions: string[]; answer: string; language?: string }
const KB = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as FaqEvent[];
const entry = (faq: string) => KB.find((e) => e.faq === faq)!;
const LOADED = ['returns-window-en', 'refund-time-en', 'opening-hours-en', 'order-status-en', 'delivery-cost-en'];

beforeAll(async () => {
  [server, browser] = await Promise.all([startUiServer({ service: { bot: 'first' } }), launchChromium()]);
  await server.post(LOADED.map(entry));
  // Known customers (a new one's order list is 404 until its first order or profile).
  await server.post(['cust-1', 'cust-2'].map((customer) => ({ id: `profile-${customer}`, type: 'customer.profile', customer, tier: 'standard' })));
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function openDesk(agent: string, topics: string): Promise<Opened> {
  const watched = await openPage(browser, server);
  await watched.page.goto(pageUrl(server, '/ui/desk', server.token('agent', agent)));
  await watched.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await watched.page.getByTestId('signon-topics').fill(topics);
  await watched.page.getByTestId('signon').click();
  await watched.page.getByText(`Signed on for ${topics}.`).waitFor();
  return watched;
}

async function openStorefront(customer: string, topic: string): Promise<Opened> {
  const watched = await openPage(browser, server, { width: 390, height: 844 });
  await watched.page.goto(pageUrl(server, `/ui/storefront?sku=TSHIRT-M&topic=${topic}`, server.token('customer', customer)));
  await watched.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  return watched;
}

/** Types the first words and starts the chat; the request id the page raised. */
async function ask(page: Page, text: string): Promise<string> {
  await page.getByTestId('chat-text').fill(text);
  await page.getByTestId('chat-start').click();
  const answer = page.getByTestId('bot-message').first();
  await answer.waitFor();
  const saved = await page.evaluate(() => Object.entries((globalThis as any).sessionStorage as Record<string, string>).find(([key]) => key.startsWith('omni.chat.'))?.[1]);
  return JSON.parse(saved!).request as string;
}

describe('first contact on the storefront and the desk', () => {
  it("answers from the FAQ, hands over to a person with the exchange, and takes the customer's rating", async () => {
    const desk = await openDesk('ana', 'returns');
    const shopper = await openStorefront('cust-1', 'returns');
    const question = 'How many days do I have to send it back?';
    const request = await ask(shopper.page, question);

    // The assistant's answer, marked as such and naming the FAQ entry it came from.
    const answer = shopper.page.getByTestId('bot-message');
    expect(await answer.count()).toBe(1);
    expect(await answer.getAttribute('data-faq')).toBe('returns-window-en');
    expect(await answer.textContent()).toContain('Assistant: ');
    expect(await answer.textContent()).toContain(entry('returns-window-en').answer);
    expect(await answer.getByTestId('bot-source').textContent()).toBe('Automatic answer from FAQ “returns-window-en”');
    // The customer's own words come first; the bot took it, so no desk has an offer.
    expect(await shopper.page.getByTestId('chat-log').locator('li').first().textContent()).toBe(`You: ${question}`);
    await expect.poll(() => shopper.page.getByTestId('chat-status').textContent()).toContain('Our assistant answered');
    expect(await desk.page.getByTestId('offer').count()).toBe(0);
    expect(await shopper.page.getByTestId('bot-actions').isVisible()).toBe(true);

    // "Talk to a person": the desk is offered the request, with what was already said.
    await shopper.page.getByTestId('escalate').click();
    const offer = desk.page.locator(`[data-testid="offer"][data-request="${request}"]`);
    await offer.waitFor();
    const lines = offer.getByTestId('bot-exchange-line');
    expect(await lines.evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-from'), n.getAttribute('data-faq')]))).toEqual([['customer', null], ['bot', 'returns-window-en']]);
    expect(await lines.nth(0).textContent()).toBe(`Customer: ${question}`);
    expect(await lines.nth(1).textContent()).toContain(entry('returns-window-en').answer);
    expect(await lines.nth(1).textContent()).toMatch(/Automatic answer from FAQ “returns-window-en” · match \d+%/);
    await expect.poll(() => shopper.page.getByTestId('bot-actions-note').textContent()).toContain('A person will take over');

    // Accepted: the chat opens with the exchange, and a person answers.
    await offer.getByTestId('accept').click();
    const chat = desk.page.locator(`[data-testid="chat"][data-request="${request}"]`);
    await chat.waitFor();
    expect(await chat.getByTestId('bot-message').getAttribute('data-faq')).toBe('returns-window-en');
    await shopper.page.getByText('You are chatting with ana.').waitFor();
    expect(await shopper.page.getByTestId('bot-actions').isHidden()).toBe(true);
    await chat.getByTestId('chat-input').fill('Loyalty members have 60 days, and you are one.');
    await chat.getByTestId('chat-input').press('Enter');
    await expect.poll(() => shopper.page.getByTestId('chat-log').locator('li').last().textContent()).toBe('Agent: Loyalty members have 60 days, and you are one.');

    // Completed: the customer rates it, and the server's answer is shown.
    await chat.getByTestId('complete').click();
    const rating = shopper.page.locator(`[data-testid="rating"][data-request="${request}"]`);
    await rating.waitFor();
    await rating.getByTestId('rating-comment').fill('Quick and clear');
    await rating.locator('[data-testid="rate"][data-score="4"]').click();
    await rating.and(shopper.page.locator('[data-state="rated"]')).waitFor();
    expect(await rating.getByTestId('rating-result').textContent()).toBe('Thank you: you rated this chat 4 of 5.');
    for (const watched of [desk, shopper]) expect(watched.problems).toEqual([]);
    await Promise.all([desk.context.close(), shopper.context.close()]);
  });

  it('"This answered my question" ends the request without an agent; a second rating is refused as already rated', async () => {
    const desk = await openDesk('ben', 'refunds');
    const shopper = await openStorefront('cust-2', 'refunds');
    const request = await ask(shopper.page, 'When will I get my money back?');
    expect(await shopper.page.getByTestId('bot-message').getAttribute('data-faq')).toBe('refund-time-en');

    await shopper.page.getByTestId('bot-resolved').click();
    await expect.poll(() => shopper.page.getByTestId('chat-status').textContent()).toContain('Glad we could help');
    const rating = shopper.page.locator(`[data-testid="rating"][data-request="${request}"]`);
    await rating.waitFor();
    expect(await shopper.page.getByTestId('chat-input').isDisabled()).toBe(true);
    expect(await shopper.page.getByTestId('chat-start').isEnabled()).toBe(true);
    const status = await fetch(`${server.url}/v1/requests/${request}`, { headers: { authorization: `Bearer ${server.token('customer', 'cust-2')}` } }).then((r) => r.json() as Promise<{ status: string }>);
    expect(status.status).toBe('resolved');

    // The rating is still offered after a reload.
    await shopper.page.reload();
    await rating.waitFor();
    // Rated meanwhile elsewhere (say, from the app): the page says so plainly.
    await server.post([{ id: `rated-elsewhere-${request}`, type: 'service.rated', request, score: 5 }]);
    await rating.locator('[data-testid="rate"][data-score="2"]').click();
    await rating.and(shopper.page.locator('[data-state="already_rated"]')).waitFor();
    expect(await rating.getByTestId('rating-result').textContent()).toBe('This chat has already been rated, thank you.');
    // Settled: nothing more to rate, not even after another reload.
    await shopper.page.reload();
    await shopper.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await shopper.page.getByTestId('rating').count()).toBe(0);
    expect(await desk.page.getByTestId('offer').count()).toBe(0);
    for (const watched of [desk, shopper]) expect(watched.problems).toEqual([]);
    await Promise.all([desk.context.close(), shopper.context.close()]);
  });
});

describe('ops: service figures', () => {
  it('shows the figures of a known mix of requests by topic, as the server counts them, live', async () => {
    const { page, problems, context } = await openPage(browser, server);
    await page.goto(pageUrl(server, '/ui/ops', server.token('supervisor', 'boss')));
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const row = '[data-testid="service-group"][data-key="mix"]';
    const figure = (name: string) => page.locator(`${row} [data-figure="${name}"]`);
    expect(await page.locator(row).count()).toBe(0);

    // Three customers on topic "mix": one answered by the bot and resolved by it (rated 5); one
    // answered, escalated, and ended by an agent without a word (rated 2); one ended before any
    // answer at all (abandoned). No agent took any of them: no handle time.
    const asked = (request: string, customer: string, text?: string) => ({ id: `ask-${request}`, type: 'service.requested', request, subject: customer, channel: 'chat', topic: 'mix', ...(text ? { text } : {}) });
    await server.post([
      asked('mix-1', 'mixer-1', 'When will I get my refund?'),
      asked('mix-2', 'mixer-2', 'What are your opening hours?'),
      asked('mix-3', 'mixer-3'),
      { id: 'res-1', type: 'service.resolved', request: 'mix-1', by: 'bot' },
      { id: 'esc-2', type: 'service.escalated', request: 'mix-2' },
      { id: 'end-2', type: 'service.completed', request: 'mix-2' },
      { id: 'end-3', type: 'service.completed', request: 'mix-3' },
      { id: 'rate-1', type: 'service.rated', request: 'mix-1', score: 5 },
      { id: 'rate-2', type: 'service.rated', request: 'mix-2', score: 2 },
    ]);
    await expect.poll(() => figure('ratings').textContent(), { timeout: 10_000 }).toBe('2');
    expect(await figure('requests').textContent()).toBe('3');
    expect(await figure('containment').textContent()).toBe('50.0%');
    expect(await figure('csat').textContent()).toBe('50.0%');
    expect(await figure('abandonment').textContent()).toBe('33.3%');
    expect(await figure('fcr').textContent()).toBe('100.0%');
    expect(await figure('handleP50').textContent()).toBe('—');

    // Every cell is the server's figure (GET /v1/service/stats), as the page writes it.
    const response = await fetch(`${server.url}/v1/service/stats?window=1h&by=topic`, { headers: { authorization: `Bearer ${server.token('supervisor', 'boss')}` } });
    const stats = (await response.json()) as { groups: Array<{ key: string; firstResponseMs: { p50: number | null; p90: number | null }; handleMs: { p50: number | null }; fcr: number | null }> };
    const mix = stats.groups.find((g) => g.key === 'mix')!;
    expect(await figure('firstResponseP50').textContent()).toBe(duration(mix.firstResponseMs.p50));
    expect(await figure('firstResponseP90').textContent()).toBe(duration(mix.firstResponseMs.p90));
    expect(mix.handleMs.p50).toBeNull();
    expect(await page.getByTestId('service-window').textContent()).toBe('Service requests raised in the last 1h, by topic.');
    // The total row counts every topic, the first-contact tests' requests too.
    expect(Number(await page.locator('[data-testid="service-total"] [data-figure="requests"]').textContent())).toBeGreaterThanOrEqual(3);
    expect(percent(null)).toBe('—');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('overflow: the assistant answers while the customer waits in line', () => {
  let overflow: UiServer;
  beforeAll(async () => {
    // No agent is online when the request comes: its predicted wait is unknown, so the bot answers.
    overflow = await startUiServer({ service: { bot: 'overflow', targetWaitMs: 1 } });
    await overflow.post([entry('delivery-cost-en'), { id: 'profile-cust-3', type: 'customer.profile', customer: 'cust-3', tier: 'standard' }]);
  });
  afterAll(() => overflow?.dispose());

  it('says how long the wait for a person is predicted to be, beside the answer', async () => {
    // One agent on "returns", busy with one chat at its capacity of one: the next customer waits
    // one mean handle time (180 s before any completion), past the target, so the bot answers too.
    await overflow.post([
      entry('returns-window-en'),
      { id: 'on-dan', type: 'agent.online', agent: 'dan', skills: { returns: 5 }, capacity: { chat: 1 } },
      { id: 'ask-busy', type: 'service.requested', request: 'busy-1', subject: 'someone', channel: 'chat', topic: 'returns' },
      { id: 'take-busy', type: 'service.accepted', request: 'busy-1', agent: 'dan' },
    ]);
    const shopper = await openPage(browser, overflow, { width: 390, height: 844 });
    await shopper.page.goto(pageUrl(overflow, '/ui/storefront?sku=TSHIRT-M&topic=returns', overflow.token('customer', 'cust-3')));
    await shopper.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await ask(shopper.page, 'How long do I have to return an item?');
    expect(await shopper.page.getByTestId('bot-message').getAttribute('data-faq')).toBe('returns-window-en');
    await expect.poll(() => shopper.page.getByTestId('chat-status').textContent()).toBe('Waiting for an agent — you are number 1 in line (about 3 min).');
    expect(shopper.problems).toEqual([]);
    await shopper.context.close();
  });

  it('keeps the place in line; the agent signing on later is offered it with the exchange; a resolution closes the chat on both sides', async () => {
    const shopper = await openPage(browser, overflow, { width: 390, height: 844 });
    await shopper.page.goto(pageUrl(overflow, '/ui/storefront?sku=TSHIRT-M&topic=delivery', overflow.token('customer', 'cust-3')));
    await shopper.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const request = await ask(shopper.page, 'How much does shipping cost?');
    expect(await shopper.page.getByTestId('bot-message').getAttribute('data-faq')).toBe('delivery-cost-en');
    await expect.poll(() => shopper.page.getByTestId('chat-status').textContent()).toContain('you are number 1 in line');

    // Already in line: asking for a person keeps the place.
    await shopper.page.getByTestId('escalate').click();
    await expect.poll(() => shopper.page.getByTestId('bot-actions-note').textContent()).toBe('A person will take over: you are in line.');

    const desk = await openPage(browser, overflow);
    await desk.page.goto(pageUrl(overflow, '/ui/desk', overflow.token('agent', 'cleo')));
    await desk.page.getByTestId('signon-topics').fill('delivery');
    await desk.page.getByTestId('signon').click();
    const offer = desk.page.locator(`[data-testid="offer"][data-request="${request}"]`);
    await offer.waitFor();
    expect(await offer.getByTestId('bot-exchange-line').evaluateAll((nodes) => nodes.map((n) => n.textContent))).toEqual([
      'Customer: How much does shipping cost?',
      expect.stringContaining(`Assistant: ${entry('delivery-cost-en').answer}Automatic answer from FAQ “delivery-cost-en” · match `),
    ]);
    await offer.getByTestId('accept').click();
    await shopper.page.getByText('You are chatting with cleo.').waitFor();

    // Resolved on the customer's word (say, told on the phone): the desk says why the chat closed.
    await overflow.post([{ id: `resolved-${request}`, type: 'service.resolved', request, by: 'agent' }]);
    await desk.page.getByText('The customer says the question is answered: chat closed.').waitFor();
    await shopper.page.locator(`[data-testid="rating"][data-request="${request}"]`).waitFor();
    for (const watched of [desk, shopper]) expect(watched.problems).toEqual([]);
    await Promise.all([desk.context.close(), shopper.context.close()]);
  });
});
