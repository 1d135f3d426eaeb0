// The customer's two answers to the assistant, under the storefront's chat once the assistant
// has spoken: "Talk to a person" (service.escalated: routed to an agent at once, or, already in
// line, keeping its place) and "This answered my question" (service.resolved by the bot: the
// request ends and never reaches an agent). Both are the customer's own events, sent with the
// page's customer token; the request's topic then says what became of it.

import type { OmniClient } from '../../client/mod.ts';
import { el, newId } from './page.ts';

export interface BotActions {
  root: HTMLElement;
  /** The assistant answered on this request: offer the two choices (unless a person has it). */
  answered(): void;
  /** The request's status changed: a person took it, or it ended, so the choices go. */
  status(status: string): void;
  /** A new request (or none): nothing answered yet. */
  reset(request: string | undefined): void;
}

const PERSON_HAS_IT = new Set(['assigned', 'completed', 'resolved', 'erased']);

export function botActions(client: OmniClient): BotActions {
  const escalate = el('button', { type: 'button', 'data-testid': 'escalate' }, 'Talk to a person');
  const resolve = el('button', { type: 'button', 'data-testid': 'bot-resolved', class: 'secondary' }, 'This answered my question');
  const note = el('span', { class: 'muted', 'data-testid': 'bot-actions-note', role: 'status' });
  const root = el('div', { class: 'bot-actions', 'data-testid': 'bot-actions' }, escalate, ' ', resolve, ' ', note);
  root.hidden = true;
  let request: string | undefined;
  let over = false;

  const send = (button: HTMLButtonElement, event: { type: string; by?: string }, onOk: (result: Record<string, unknown>) => void) => {
    if (request === undefined) return;
    button.disabled = true;
    client.send({ id: newId(event.type), ...event, request }).then(onOk, (error: Error & { code?: string }) => {
      button.disabled = false;
      note.textContent = error.code === 'conflict' ? 'This chat has already ended.' : `Not sent: ${error.message}`;
    });
  };
  escalate.addEventListener('click', () =>
    send(escalate, { type: 'service.escalated' }, (result) => {
      escalate.hidden = true;
      note.textContent = result.status === 'queued' || result.status === 'offered' ? 'A person will take over: you are in line.' : 'A person will take over.';
    }),
  );
  resolve.addEventListener('click', () => send(resolve, { type: 'service.resolved', by: 'bot' }, () => (note.textContent = 'Glad that helped.')));

  return {
    root,
    answered() {
      if (!over) root.hidden = false;
    },
    status(status) {
      if (!PERSON_HAS_IT.has(status)) return;
      over = true;
      root.hidden = true;
    },
    reset(next) {
      request = next;
      over = false;
      root.hidden = true;
      escalate.hidden = false;
      escalate.disabled = resolve.disabled = false;
      note.textContent = '';
    },
  };
}
