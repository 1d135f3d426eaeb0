// `npm run screenshots`: fills a fresh server with a little of everything and saves a screenshot
// of each page as docs/ui-storefront.png, docs/ui-kiosk.png, docs/ui-desk.png and docs/ui-ops.png
// (the images the README shows). Headless Debian Chromium, as in the page tests.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { launchChromium, openPage, pageUrl, startUiServer, STORE_EVENTS } from './ui-harness.ts';

const out = (name: string) => resolve(import.meta.dirname, '..', 'docs', `ui-${name}.png`);
const server = await startUiServer();
const browser = await launchChromium();
try {
  const viewed = (id: string, subject: string, sku: string) => ({ id, type: 'activity.viewed', subject, sku, channel: 'web' });
  await server.post([
    ...STORE_EVENTS,
    { id: 'loc-munich', type: 'location.upserted', location: 'munich-1', kind: 'store', lat: 48.14, lon: 11.58, name: 'Munich Marienplatz' },
    // Declared again with the names the storefront shows.
    { id: 'name-berlin', type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.52, lon: 13.4, name: 'Berlin Mitte' },
    { id: 'name-hamburg', type: 'location.upserted', location: 'hamburg-1', kind: 'store', lat: 53.55, lon: 9.99, name: 'Hamburg Jungfernstieg' },
    { id: 'r1', type: 'stock.received', sku: 'TSHIRT-M', location: 'berlin-1', qty: 24 },
    { id: 'r2', type: 'stock.received', sku: 'TSHIRT-M', location: 'hamburg-1', qty: 3 },
    { id: 'r3', type: 'stock.received', sku: 'TSHIRT-M', location: 'munich-1', qty: 11 },
    { id: 'r4', type: 'stock.received', sku: 'JEANS-32', location: 'berlin-1', qty: 1 },
    { id: 'r5', type: 'stock.received', sku: 'JEANS-32', location: 'munich-1', qty: 7 },
    { id: 'r6', type: 'stock.received', sku: 'SNEAKER-42', location: 'berlin-1', qty: 9 },
    { id: 'r7', type: 'stock.received', sku: 'CAP', location: 'berlin-1', qty: 30 },
    { id: 'r8', type: 'stock.received', sku: 'SOCKS-3PACK', location: 'berlin-1', qty: 40 },
    { id: 'p1', type: 'customer.profile', customer: 'c42', tier: 'vip', language: 'en' },
    { id: 'l1', type: 'identity.linked', ids: ['email:ana@example.com', 'device:app-77'], customer: 'c42' },
    viewed('v1', 'c42', 'TSHIRT-M'), viewed('v2', 'c42', 'JEANS-32'),
    viewed('v3', 's1', 'TSHIRT-M'), viewed('v4', 's1', 'SNEAKER-42'), viewed('v5', 's1', 'CAP'),
    viewed('v6', 's2', 'JEANS-32'), viewed('v7', 's2', 'SOCKS-3PACK'), viewed('v8', 's2', 'SNEAKER-42'),
  ]);
  await server.post([{ id: 'sold-out', type: 'stock.sold', sku: 'JEANS-32', location: 'berlin-1', qty: 1 }]);
  // A few knowledge-base entries: with no agent online yet, the assistant answers the shopper.
  const kb = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'fixtures', 'knowledge-base.json'), 'utf8')) as Array<{ faq: string }>;
  await server.post(kb.filter((e) => ['click-collect-how-en', 'returns-window-en', 'delivery-cost-en'].includes(e.faq)));

  const shopper = await openPage(browser, server, { width: 390, height: 844 });
  // A shopper in Leipzig who lets the page know it: stores nearest first.
  await shopper.context.setGeolocation({ latitude: 51.34, longitude: 12.37 });
  await shopper.context.grantPermissions(['geolocation'], { origin: server.url });
  await shopper.page.goto(pageUrl(server, '/ui/storefront?sku=TSHIRT-M,JEANS-32', server.token('customer', 'c42')));
  await shopper.page.getByTestId('available').first().waitFor();
  await shopper.page.getByText('Nearest stores first.').waitFor();
  await shopper.page.getByTestId('chat-text').fill('How does click & collect work?');
  await shopper.page.getByTestId('chat-start').click();
  await shopper.page.getByText('in line').waitFor();
  await shopper.page.getByTestId('bot-message').waitFor();
  await server.post([{ id: 'sold-tee', type: 'stock.sold', sku: 'TSHIRT-M', location: 'munich-1', qty: 2 }]);
  await shopper.page.screenshot({ path: out('storefront'), fullPage: true });

  const kiosk = await openPage(browser, server, { width: 800, height: 1000 });
  await kiosk.page.goto(pageUrl(server, '/ui/kiosk?kiosk=k1', server.token('kiosk', 'k1', 'berlin-1')));
  await kiosk.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await server.post([{ id: 'k-id', type: 'kiosk.identified', kiosk: 'k1', location: 'berlin-1', subject: 'device:app-77' }]);
  await kiosk.page.getByTestId('rec').first().waitFor();
  await kiosk.page.screenshot({ path: out('kiosk') });

  const desk = await openPage(browser, server, { width: 1280, height: 900 });
  await desk.page.goto(pageUrl(server, '/ui/desk', server.token('agent', 'ana')));
  await desk.page.getByTestId('signon-topics').fill('general, returns');
  await desk.page.getByTestId('signon').click();
  await desk.page.getByTestId('offer').waitFor();
  await desk.page.getByTestId('accept').click();
  await desk.page.getByTestId('chat-input').fill('Hi! The medium tee is in Berlin, 24 left.');
  await desk.page.getByTestId('chat-input').press('Enter');
  await shopper.page.getByTestId('chat-input').fill('Great, can I pick it up today?');
  await shopper.page.getByTestId('chat-input').press('Enter');
  await desk.page.getByText('pick it up today').waitFor();
  await server.post([viewed('v9', 'c7', 'CAP'), { id: 'q2', type: 'service.requested', request: 'ret-7', subject: 'c7', channel: 'chat', topic: 'returns' }]);
  await desk.page.locator('[data-testid="offer"][data-request="ret-7"]').waitFor();
  await desk.page.screenshot({ path: out('desk'), fullPage: true });

  await server.post([
    { id: 'q3', type: 'service.requested', request: 'ret-8', subject: 'c8', channel: 'chat', topic: 'returns' },
    { id: 'q4', type: 'service.requested', request: 'bill-1', subject: 'c9', channel: 'email', topic: 'billing' },
    { id: 'low', type: 'stock.sold', sku: 'SNEAKER-42', location: 'berlin-1', qty: 6 },
  ]);
  const ops = await openPage(browser, server, { width: 1280, height: 900 });
  await ops.page.goto(pageUrl(server, '/ui/ops', server.token('supervisor', 'sam')));
  // A few rounds of traffic, so the charts have lines to draw.
  for (let round = 0; round < 8; round++) {
    const events = Array.from({ length: 20 * (round + 1) }, (_, i) => ({ id: `load-${round}-${i}`, type: 'stock.received', sku: 'CAP', location: 'berlin-1', qty: 1 }));
    await server.post(events);
    await ops.page.waitForTimeout(2000); // the page polls /metrics every 2 s: let it take a point
  }
  await server.post([{ id: 'low-2', type: 'stock.sold', sku: 'TSHIRT-M', location: 'munich-1', qty: 6 }]);
  await ops.page.getByTestId('alert').first().waitFor();
  await ops.page.screenshot({ path: out('ops'), fullPage: true });
  for (const watched of [shopper, kiosk, desk, ops]) if (watched.problems.length > 0) console.error(watched.problems);
  console.log(`saved ${['storefront', 'kiosk', 'desk', 'ops'].map(out).join(', ')}`);
} finally {
  await browser.close();
  await server.dispose();
}
