// /ui/kiosk?kiosk=K — a store screen: the recommendations pushed to `kiosk/<K>` when a shopper
// is identified there (already filtered by the store's stock on the server), replaced by the
// next identification and cleared after a quiet while (`&idle=SECONDS`, default 60) so the next
// person at the screen does not see the last one's list.

import { el, mountPage, readClaims, readToken, showTokenNeeded, startClient } from './shared/page.ts';

interface KioskPush { type: string; customer: string; location: string; items: Array<{ sku: string; score: number }> }

const params = new URLSearchParams(location.search);
const token = readToken();
const claims = token === undefined ? undefined : readClaims(token);
const idleSeconds = Number(params.get('idle') ?? 60);
const idleMs = Number.isFinite(idleSeconds) && idleSeconds > 0 ? idleSeconds * 1000 : 60_000;

const { main, connection } = mountPage('For you');
if (token === undefined || claims?.role !== 'kiosk') {
  showTokenNeeded(main, 'kiosk', 'npx omni token --role kiosk --sub KIOSK --loc STORE --url');
} else {
  const kiosk = params.get('kiosk')?.trim() || claims.sub;
  const greeting = el('p', { class: 'greeting', 'data-testid': 'greeting', 'aria-live': 'polite' }, 'Welcome! Scan your app or card to see picks for you.');
  const list = el('ul', { class: 'recs', 'data-testid': 'recs', 'aria-label': 'Recommended for you' });
  main.append(greeting, list);
  let idle: ReturnType<typeof setTimeout> | undefined;

  const clear = () => {
    list.replaceChildren();
    delete list.dataset.customer;
    greeting.textContent = 'Welcome! Scan your app or card to see picks for you.';
  };
  const show = (push: KioskPush) => {
    clearTimeout(idle);
    greeting.textContent = push.items.length > 0 ? 'Picked for you, in stock here:' : 'Nothing to suggest right now — ask our staff!';
    list.dataset.customer = push.customer;
    list.replaceChildren(...push.items.map((item) => el('li', { 'data-testid': 'rec', 'data-sku': item.sku, tabindex: '0' }, item.sku)));
    idle = setTimeout(clear, idleMs);
  };
  const client = startClient(connection, token);
  client.subscribe(`kiosk/${kiosk}`, {
    onSnapshot: () => undefined, // an event topic: the screen waits for the next identification
    onUpdate: (data) => {
      const push = data as KioskPush;
      if (push?.type === 'recommendations' && Array.isArray(push.items)) show(push);
      // The shopper on screen was erased: nothing of theirs stays shown.
      else if ((push as { type?: string } | null)?.type === 'cleared') {
        clearTimeout(idle);
        clear();
      }
    },
    // Pushes were missed (an erasure restarts the topic's history, so it always comes as a gap):
    // what the screen shows may be gone, so it shows nobody until the next identification.
    onGap: () => {
      clearTimeout(idle);
      clear();
    },
    onError: (error) => main.append(el('p', { class: 'notice', role: 'alert' }, `This screen cannot follow kiosk ${kiosk}: ${error.message}`)),
  });
}
