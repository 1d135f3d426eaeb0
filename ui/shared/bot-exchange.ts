// What the assistant and the customer already said before a person was offered the request
// (the offer's `bot` context: customer and assistant lines, each answer with its FAQ entry and
// match score), drawn on the desk's offer card so the agent does not ask again what was answered.

import { botSourceText, type ConversationLine } from './bot-message.ts';
import { el } from './page.ts';

/** The offer's bot exchange, or undefined where the offer carries none (the bot took no part). */
export function botExchangeOf(offer: { context?: { bot?: unknown }; customer?: unknown }): ConversationLine[] | undefined {
  const customer = typeof offer.customer === 'object' && offer.customer !== null ? (offer.customer as { bot?: unknown }) : undefined;
  const lines = offer.context?.bot ?? customer?.bot;
  if (!Array.isArray(lines)) return undefined;
  return lines.filter((line): line is ConversationLine => typeof line === 'object' && line !== null && typeof line.from === 'string' && typeof line.text === 'string');
}

export function botExchange(lines: ConversationLine[] | undefined): HTMLElement | null {
  if (lines === undefined || lines.length === 0) return null;
  return el('div', { class: 'bot-exchange', 'data-testid': 'bot-exchange' },
    el('strong', {}, 'Already said with the assistant'),
    el('ol', {}, ...lines.map((line) =>
      line.from === 'bot'
        ? el('li', { class: 'bot', 'data-testid': 'bot-exchange-line', 'data-from': 'bot', 'data-faq': line.faq },
          el('strong', {}, 'Assistant: '), line.text, el('small', { class: 'bot-source' }, botSourceText(line, true)))
        : el('li', { 'data-testid': 'bot-exchange-line', 'data-from': line.from }, el('strong', {}, 'Customer: '), line.text))),
  );
}
