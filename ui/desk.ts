// /ui/desk — an agent's desk: sign on, status (available / away), offers arriving on
// `agent/<sub>` with the customer's 360 context and a countdown, accept / decline, several chats
// at once (each on `request/<id>`, which the server ends with `ended` once the request is
// completed or taken away: the SDK's onEnd), complete, and the queues of the agent's topics.
// An offer the assistant already answered shows that exchange, and the chat opens with it.
// Open chats are remembered in sessionStorage, so a reload subscribes to them again.

import type { OmniClient } from '../client/mod.ts';
import { botExchange, botExchangeOf } from './shared/bot-exchange.ts';
import { conversationLine } from './shared/bot-message.ts';
import { chatView, type ChatMessage } from './shared/chat-view.ts';
import { customerContext, type CustomerContext } from './shared/customer-context.ts';
import { signOnForm, type SignOn } from './shared/desk-signon.ts';
import { el, mountPage, readClaims, readToken, showTokenNeeded, startClient } from './shared/page.ts';

// An offer's `customer` is the 360 context; an assignment's is the customer's id alone.
interface AgentPush { type: 'offer' | 'assigned' | 'revoked'; request: string; topic?: string; channel?: string; customer?: CustomerContext | string; context?: { bot?: unknown }; expiresAt?: number; reason?: string }

const customerId = (push: AgentPush) => (typeof push.customer === 'string' ? push.customer : push.customer?.id);
interface QueueState { topic: string; waiting: number; offered: number; longestWaitMs: number; agentsAvailable: number }
interface OpenChat { request: string; customer?: string; log: ChatMessage[] }

const token = readToken();
const claims = token === undefined ? undefined : readClaims(token);
const { main, connection } = mountPage('Service desk');

if (token === undefined || claims?.role !== 'agent') {
  showTokenNeeded(main, 'agent', 'npx omni token --role agent --sub AGENT --url');
} else {
  startDesk(startClient(connection, token), claims.sub);
}

function startDesk(client: OmniClient, agent: string): void {
  const status = el('select', { 'data-testid': 'status', id: 'status' }, el('option', { value: 'available' }, 'Available'), el('option', { value: 'away' }, 'Away'));
  const statusNote = el('span', { class: 'muted', role: 'status' });
  status.addEventListener('change', () => {
    client.op({ op: 'status', status: status.value }).then(
      () => (statusNote.textContent = `You are ${status.value}.`),
      (error: Error) => (statusNote.textContent = error.message.includes('not_found') || (error as { code?: string }).code === 'not_found' ? 'Sign on first.' : `Status not changed: ${error.message}`),
    );
  });
  const queues = el('ul', { class: 'queues', 'aria-label': 'Your queues' });
  const offers = el('div', { class: 'grid', 'aria-live': 'assertive' });
  const chats = el('div', { class: 'grid' });
  const watchedQueues = new Map<string, HTMLElement>();
  const watchQueues = (signOn: SignOn) => {
    for (const topic of signOn.topics) {
      if (watchedQueues.has(topic)) continue;
      const item = el('li', { 'data-testid': 'desk-queue', 'data-topic': topic }, `${topic}: …`);
      watchedQueues.set(topic, item);
      queues.append(item);
      const draw = (data: unknown) => {
        const q = data as QueueState | null;
        item.textContent = q === null ? `${topic}: 0 waiting` : `${topic}: ${q.waiting} waiting, ${q.offered} offered`;
      };
      client.subscribe(`queue/${topic}`, { onSnapshot: draw, onUpdate: draw });
    }
  };
  const signOn = signOnForm(client, agent, watchQueues);
  if (signOn.remembered !== undefined) watchQueues(signOn.remembered);
  main.append(
    el('section', { 'aria-label': 'Status' }, el('h2', {}, `Agent ${agent}`), el('label', { for: 'status' }, 'Status'), status, ' ', statusNote, el('h2', {}, 'Queues'), queues),
    signOn.root,
    el('h2', {}, 'Offers'), offers,
    el('h2', {}, 'Chats'), chats,
  );

  // Chats: one card per assigned request, remembered across reloads.
  const chatKey = `omni.desk.${agent}.chats`;
  const open = new Map<string, OpenChat>();
  const persist = () => sessionStorage.setItem(chatKey, JSON.stringify([...open.values()]));
  const openChat = (chat: OpenChat, focus = false) => {
    if (open.has(chat.request)) return;
    open.set(chat.request, chat);
    persist();
    const view = chatView('agent', `Chat ${chat.request}`, (text) => client.op({ op: 'message', request: chat.request, text }).then(() => undefined));
    const complete = el('button', { type: 'button', 'data-testid': 'complete', class: 'secondary' }, 'Complete');
    const card = el('section', { class: 'card', 'data-request': chat.request, 'data-testid': 'chat' },
      el('h2', {}, `Chat with ${chat.customer ?? 'customer'}`), el('p', { class: 'muted' }, chat.request), view.root, complete);
    for (const message of chat.log) view.add(message);
    const finish = (note: string) => {
      view.note(note);
      view.setOpen(false);
      complete.disabled = true;
      open.delete(chat.request);
      persist();
    };
    complete.addEventListener('click', () => {
      complete.disabled = true;
      client.op({ op: 'complete', request: chat.request }).catch((error: Error) => {
        complete.disabled = false;
        view.note(`Not completed: ${error.message}`);
      });
    });
    // A resolved request ends the subscription as "unassigned"; its last status says why.
    let resolved = false;
    client.subscribe(`request/${chat.request}`, {
      onSnapshot: () => undefined,
      onUpdate(data) {
        const update = data as { type: string; status?: string };
        if (update.type === 'status' && update.status === 'resolved') resolved = true;
        const message = conversationLine(update);
        if (message !== undefined) {
          view.add(message);
          chat.log.push(message);
          persist();
        }
      },
      onEnd: (reason) => finish(reason === 'completed' ? 'Chat completed.' : resolved ? 'The customer says the question is answered: chat closed.' : 'This chat went to someone else.'),
      onError: (error) => finish(`Chat closed: ${error.message}`),
    });
    chats.prepend(card);
    if (focus) view.input.focus();
  };
  try {
    for (const chat of JSON.parse(sessionStorage.getItem(chatKey) ?? '[]') as OpenChat[]) openChat(chat);
  } catch {
    sessionStorage.removeItem(chatKey);
  }

  // Offers: a card each, with a countdown to its expiry.
  const offerCards = new Map<string, { card: HTMLElement; expiresAt: number; clock: HTMLElement }>();
  // What the assistant and the customer said before, by request: the chat opens with it, whether
  // the accept's answer or the `assigned` push comes first.
  const saidBefore = new Map<string, ChatMessage[]>();
  const dropOffer = (request: string) => {
    offerCards.get(request)?.card.remove();
    offerCards.delete(request);
  };
  const openAccepted = (push: AgentPush, focus: boolean) => {
    openChat({ request: push.request, customer: customerId(push), log: saidBefore.get(push.request) ?? [] }, focus);
    saidBefore.delete(push.request);
  };
  const showOffer = (push: AgentPush) => {
    dropOffer(push.request);
    const clock = el('span', { class: 'countdown' });
    const accept = el('button', { type: 'button', 'data-testid': 'accept' }, 'Accept');
    const decline = el('button', { type: 'button', 'data-testid': 'decline', class: 'secondary' }, 'Decline');
    const said = botExchangeOf(push) ?? [];
    saidBefore.set(push.request, said);
    const card = el('section', { class: 'card offer', 'data-testid': 'offer', 'data-request': push.request, 'aria-label': `Offer ${push.request}` },
      el('h2', {}, `${push.topic ?? ''} · ${push.channel ?? ''}`), el('p', {}, 'Expires in ', clock), botExchange(said),
      customerContext(typeof push.customer === 'string' ? undefined : push.customer), accept, ' ', decline);
    const act = (op: 'accept' | 'decline') => {
      accept.disabled = decline.disabled = true;
      client.op({ op, request: push.request }).then(
        () => {
          dropOffer(push.request);
          if (op === 'accept') openAccepted(push, true);
        },
        (error: Error) => {
          card.append(el('p', { class: 'notice', role: 'alert' }, `${op} failed: ${error.message}`));
        },
      );
    };
    accept.addEventListener('click', () => act('accept'));
    decline.addEventListener('click', () => act('decline'));
    offerCards.set(push.request, { card, expiresAt: push.expiresAt ?? Date.now(), clock });
    offers.append(card);
    tick(); // no focus change: the agent may be typing in a chat
  };
  const tick = () => {
    for (const { expiresAt, clock } of offerCards.values()) {
      const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
      clock.textContent = left > 0 ? `${left} s` : 'expired';
    }
  };
  setInterval(tick, 500);

  client.subscribe(`agent/${agent}`, {
    onSnapshot: () => undefined,
    onUpdate(data) {
      const push = data as AgentPush;
      if (push.type === 'offer') showOffer(push);
      else if (push.type === 'assigned') {
        dropOffer(push.request);
        openAccepted(push, false);
      } else if (push.type === 'revoked') {
        dropOffer(push.request);
        saidBefore.delete(push.request);
      }
    },
    onError: (error) => main.prepend(el('p', { class: 'notice', role: 'alert' }, `Offers cannot be followed: ${error.message}`)),
  });
}
