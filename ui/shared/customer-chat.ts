// The storefront's chat: a `service.requested` on the chosen topic (channel chat) carrying the
// customer's first words, then the request's own topic `request/<id>` for status, queue position,
// the agent and messages — the assistant's answers among them (marked, with their FAQ entry, and
// the choice of a person or "answered": bot-actions.ts). An ended chat (completed or resolved)
// offers its rating (chat-rating.ts).
// The request id and the messages so far are kept in sessionStorage, so a reload (or a second
// look after a crash of the tab) picks the same conversation up and subscribes again; the SDK
// resumes across reconnects, and sessionStorage bridges the reload, which the SDK cannot. An
// ended chat not rated yet is kept there too, so its rating survives a reload.

import type { OmniClient } from '../../client/mod.ts';
import { botActions } from './bot-actions.ts';
import { conversationLine } from './bot-message.ts';
import { chatRating } from './chat-rating.ts';
import { chatView, type ChatMessage } from './chat-view.ts';
import { el, getJson, newId } from './page.ts';

interface Saved { request: string; log: ChatMessage[] }
interface RequestStatus { status: string; agent?: string; position?: number; predictedWaitMs?: number }

const ENDED = new Set(['completed', 'resolved']);

/** One message's identity: every message carries its time, and none repeats all three. */
const sameMessage = (m: ChatMessage) => `${m.from}\u0000${m.at}\u0000${m.text}`;

/** A predicted wait as the customer reads it. */
export function waitText(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 60_000) return ' (less than a minute)';
  return ` (about ${Math.round(ms / 60_000)} min)`;
}

export function mountChat(section: HTMLElement, client: OmniClient, customer: string, topic: string, token: string): void {
  const key = `omni.chat.${customer}.${topic}`;
  const rateKey = `omni.rate.${customer}.${topic}`;
  const load = (): Saved | undefined => {
    try {
      return JSON.parse(sessionStorage.getItem(key) ?? 'null') ?? undefined;
    } catch {
      return undefined;
    }
  };
  let saved = load();
  const save = () => (saved === undefined ? sessionStorage.removeItem(key) : sessionStorage.setItem(key, JSON.stringify(saved)));

  const status = el('p', { class: 'muted', 'data-testid': 'chat-status', role: 'status' }, 'Ask us anything about your order or our products.');
  const firstWords = el('input', { type: 'text', 'data-testid': 'chat-text', maxlength: '4000', autocomplete: 'off', placeholder: 'e.g. Where is my order?' });
  const start = el('button', { type: 'submit', 'data-testid': 'chat-start' }, 'Start a chat');
  const startForm = el('form', { class: 'chat-start' }, el('label', {}, 'Your question (optional)', firstWords), start);
  const actions = botActions(client);
  const view = chatView('customer', 'Chat', async (text) => {
    if (saved === undefined) throw new Error('no chat open');
    await client.op({ op: 'message', request: saved.request, text });
  });
  const rating = el('div', {});
  view.setOpen(false);
  section.append(status, startForm, view.root, actions.root, rating);

  const offerRating = (request: string) => {
    sessionStorage.setItem(rateKey, request);
    rating.replaceChildren(chatRating(client, request, () => sessionStorage.removeItem(rateKey)));
  };
  let predictedWaitMs: number | undefined;
  const showStatus = (s: RequestStatus) => {
    if (typeof s.predictedWaitMs === 'number') predictedWaitMs = s.predictedWaitMs;
    if (s.status !== 'queued') predictedWaitMs = undefined;
    actions.status(s.status);
    if (s.status === 'queued') status.textContent = `${s.position === undefined ? 'Waiting for an agent' : `Waiting for an agent — you are number ${s.position} in line`}${waitText(predictedWaitMs)}.`;
    else if (s.status === 'offered') status.textContent = 'An agent is being connected…';
    else if (s.status === 'assigned') status.textContent = `You are chatting with ${s.agent ?? 'an agent'}.`;
    else if (s.status === 'bot') status.textContent = 'Our assistant answered. A person is one click away.';
    else if (s.status === 'completed') status.textContent = 'This chat has ended. Start a new one any time.';
    else if (s.status === 'resolved') status.textContent = 'Glad we could help. This chat is closed; start a new one any time.';
  };

  const follow = (request: string) => {
    start.disabled = true;
    view.setOpen(true);
    actions.reset(request);
    const path = `/v1/requests/${encodeURIComponent(request)}`;
    // The status as of now, unless the topic has already said something newer.
    let heard = false;
    getJson<RequestStatus>(path, token).then((s) => heard || showStatus(s), () => undefined);
    // What was said before the subscription began is not sent on the topic again: the first
    // words and the assistant's first answer (they come in the commit that raises the request),
    // and whatever came while the page reloaded. Read once the topic's snapshot shows the
    // subscription live, so every message is in the stored ones or heard live (or both).
    const live: ChatMessage[] = [];
    const catchUp = () => getJson<{ messages: ChatMessage[] }>(`${path}/messages`, token).then(({ messages }) => {
      const said = messages.flatMap((m) => conversationLine({ ...m, type: 'message' }) ?? []);
      const known = new Set(said.map(sameMessage));
      const all = [...said, ...live.filter((m) => !known.has(sameMessage(m)))];
      view.replace(all);
      if (all.some((m) => m.from === 'bot')) actions.answered();
      if (saved?.request === request) {
        saved.log = all;
        save();
      }
    }, () => undefined);
    const stop = client.subscribe(`request/${request}`, {
      onSnapshot: catchUp, // an event topic: no data, but from here on every message comes live
      onUpdate(data) {
        const update = data as { type: string } & RequestStatus;
        if (update.type !== 'message') heard = true;
        const message = conversationLine(update);
        if (message !== undefined) {
          live.push(message);
          view.add(message);
          if (message.from === 'bot') actions.answered();
          saved?.log.push(message);
          save();
        } else if (update.type === 'position') {
          showStatus({ status: 'queued', position: update.position });
        } else if (update.type === 'status') {
          showStatus(update);
          if (ENDED.has(update.status)) {
            stop();
            saved = undefined;
            save();
            view.setOpen(false);
            start.disabled = false;
            offerRating(request);
          }
        }
      },
      onError: (error) => view.note(`The chat cannot be followed: ${error.message}`),
    });
  };

  startForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const request = newId('chat');
    const text = firstWords.value.trim();
    start.disabled = true;
    rating.replaceChildren();
    sessionStorage.removeItem(rateKey);
    saved = { request, log: text === '' ? [] : [{ from: 'customer', text }] };
    save();
    status.textContent = 'Asking for an agent…';
    client
      .send({ id: `request-${request}`, type: 'service.requested', request, subject: customer, channel: 'chat', topic, ...(text !== '' ? { text } : {}) })
      .then((answer) => {
        // The wait predicted as it was queued (null: no agent to predict from).
        predictedWaitMs = typeof answer.predictedWaitMs === 'number' ? answer.predictedWaitMs : undefined;
        firstWords.value = '';
        if (text !== '') view.add({ from: 'customer', text });
        follow(request);
        view.input.focus();
      })
      .catch((error: Error) => {
        saved = undefined;
        save();
        start.disabled = false;
        status.textContent = `The chat could not start: ${error.message}`;
      });
  });

  if (saved !== undefined) {
    for (const message of saved.log) view.add(message);
    follow(saved.request);
    if (saved.log.some((message) => message.from === 'bot')) actions.answered();
  } else {
    const unrated = sessionStorage.getItem(rateKey);
    if (unrated !== null) offerRating(unrated);
  }
}
