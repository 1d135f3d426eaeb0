// A conversation's log and input line, shared by the storefront (the customer's side) and the
// desk (the agent's). Enter in the input sends; the log is a polite live region so screen
// readers announce new messages. The assistant's lines are marked as such (bot-message.ts).

import { botLineItem, speakerOf, type ConversationLine } from './bot-message.ts';
import { el } from './page.ts';

export type ChatMessage = ConversationLine;

export interface ChatView {
  root: HTMLElement;
  input: HTMLInputElement;
  add(message: ChatMessage): void;
  /** Shows exactly these messages (notes included go). */
  replace(messages: ChatMessage[]): void;
  note(text: string): void;
  setOpen(open: boolean): void;
}

export function chatView(me: 'customer' | 'agent', label: string, onSend: (text: string) => Promise<void>): ChatView {
  const log = el('ul', { class: 'chat-log', 'data-testid': 'chat-log', 'aria-live': 'polite', 'aria-label': `${label}: messages` });
  const input = el('input', { type: 'text', 'data-testid': 'chat-input', 'aria-label': `${label}: your message`, maxlength: '4000', autocomplete: 'off', placeholder: 'Type a message and press Enter' });
  const send = el('button', { type: 'submit' }, 'Send');
  const form = el('form', { class: 'chat-form' }, input, send);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === '') return;
    input.value = '';
    onSend(text).catch((error: Error) => note(`Not sent (${error.message}): ${text}`));
  });
  const scroll = () => (log.scrollTop = log.scrollHeight);
  const note = (text: string) => {
    log.append(el('li', { class: 'system' }, text));
    scroll();
  };
  const item = (message: ChatMessage) =>
    message.from === 'bot' ? botLineItem(message, me === 'agent') : el('li', { class: message.from === me ? 'mine' : 'theirs' }, el('strong', {}, `${speakerOf(message.from, me)}: `), message.text);
  return {
    root: el('div', { class: 'chat' }, log, form),
    input,
    add(message) {
      log.append(item(message));
      scroll();
    },
    replace(messages) {
      log.replaceChildren(...messages.map(item));
      scroll();
    },
    note,
    setOpen(open) {
      input.disabled = !open;
      send.disabled = !open;
    },
  };
}
