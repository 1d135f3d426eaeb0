// The storefront's chat: a `service.requested` on the chosen topic (channel chat), then the
// request's own topic `request/<id>` for status, queue position, the agent and messages.
// The request id and the messages so far are kept in sessionStorage, so a reload (or a second
// look after a crash of the tab) picks the same conversation up and subscribes again; the SDK
// resumes across reconnects, and sessionStorage bridges the reload, which the SDK cannot.

import type { OmniClient } from '../../client/mod.ts';
import { chatView, type ChatMessage } from './chat-view.ts';
import { el, getJson, newId } from './page.ts';

interface Saved { request: string; log: ChatMessage[] }
interface RequestStatus { status: string; agent?: string; position?: number }

export function mountChat(section: HTMLElement, client: OmniClient, customer: string, topic: string, token: string): void {
  const key = `omni.chat.${customer}.${topic}`;
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
  const start = el('button', { type: 'button', 'data-testid': 'chat-start' }, 'Start a chat');
  const view = chatView('customer', 'Chat', async (text) => {
    if (saved === undefined) throw new Error('no chat open');
    await client.op({ op: 'message', request: saved.request, text });
  });
  view.setOpen(false);
  section.append(status, start, view.root);

  const showStatus = (s: RequestStatus) => {
    if (s.status === 'queued') status.textContent = s.position === undefined ? 'Waiting for an agent…' : `Waiting for an agent — you are number ${s.position} in line.`;
    else if (s.status === 'offered') status.textContent = 'An agent is being connected…';
    else if (s.status === 'assigned') status.textContent = `You are chatting with ${s.agent ?? 'an agent'}.`;
    else if (s.status === 'completed') status.textContent = 'This chat has ended. Start a new one any time.';
  };

  const follow = (request: string) => {
    start.disabled = true;
    view.setOpen(true);
    // The status as of now, unless the topic has already said something newer.
    let heard = false;
    getJson<RequestStatus>(`/v1/requests/${encodeURIComponent(request)}`, token).then((s) => heard || showStatus(s), () => undefined);
    const stop = client.subscribe(`request/${request}`, {
      onSnapshot: () => undefined, // an event topic: nothing to draw until updates come
      onUpdate(data) {
        const update = data as { type: string; from?: string; text?: string } & RequestStatus;
        if (update.type !== 'message') heard = true;
        if (update.type === 'message' && update.from !== undefined && update.text !== undefined) {
          const message = { from: update.from, text: update.text };
          view.add(message);
          saved?.log.push(message);
          save();
        } else if (update.type === 'position') {
          showStatus({ status: 'queued', position: update.position });
        } else if (update.type === 'status') {
          showStatus(update);
          if (update.status === 'completed') {
            stop();
            saved = undefined;
            save();
            view.setOpen(false);
            start.disabled = false;
          }
        }
      },
      onError: (error) => view.note(`The chat cannot be followed: ${error.message}`),
    });
  };

  start.addEventListener('click', () => {
    const request = newId('chat');
    start.disabled = true;
    saved = { request, log: [] };
    save();
    status.textContent = 'Asking for an agent…';
    client
      .send({ id: `request-${request}`, type: 'service.requested', request, subject: customer, channel: 'chat', topic })
      .then(() => {
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
  }
}
