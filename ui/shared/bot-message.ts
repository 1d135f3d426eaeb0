// How a line from the assistant (the bot answering from the knowledge base) is marked, for the
// customer in the storefront's chat and for the agent in an offer and a chat on the desk: who
// said it, and which FAQ entry the answer came from, or that it had none and a person will answer.

import { el } from './page.ts';

/** A line of a conversation as the server sends it: `faq` only on a confident answer. */
export interface ConversationLine {
  from: string;
  text: string;
  at?: number;
  faq?: string;
  score?: number;
}

/** A `message` update of `request/<id>` as a line to show and keep, or undefined for anything else. */
export function conversationLine(update: { type?: unknown; from?: unknown; text?: unknown; at?: unknown; faq?: unknown; score?: unknown }): ConversationLine | undefined {
  if (update.type !== 'message' || typeof update.from !== 'string' || typeof update.text !== 'string') return undefined;
  return {
    from: update.from,
    text: update.text,
    ...(typeof update.at === 'number' ? { at: update.at } : {}),
    ...(typeof update.faq === 'string' ? { faq: update.faq } : {}),
    ...(typeof update.score === 'number' ? { score: update.score } : {}),
  };
}

/** The speaker's name as the page shows it, `me` being the side the page is for. */
export function speakerOf(from: string, me: 'customer' | 'agent'): string {
  if (from === me) return 'You';
  if (from === 'bot') return 'Assistant';
  return from === 'agent' ? 'Agent' : 'Customer';
}

/** A match score (0..1) as a percentage. */
function matchPercent(score: number): string {
  return `${Math.round(Math.max(0, Math.min(1, score)) * 100)}%`;
}

/**
 * The small print under an assistant's line: the FAQ entry it answered from, and for the agent
 * how close the match was (a low one tells the agent the answer may have missed).
 */
export function botSourceText(line: ConversationLine, forAgent: boolean): string {
  const score = forAgent && typeof line.score === 'number' ? ` · match ${matchPercent(line.score)}` : '';
  if (line.faq === undefined) return `Automatic reply: no FAQ entry matched${score}`;
  return `Automatic answer from FAQ “${line.faq}”${score}`;
}

/** An assistant's line for a chat log: marked, with its source under the text. */
export function botLineItem(line: ConversationLine, forAgent: boolean): HTMLElement {
  return el('li', { class: 'theirs bot', 'data-testid': 'bot-message', 'data-faq': line.faq },
    el('strong', {}, 'Assistant: '), line.text,
    el('small', { class: 'bot-source', 'data-testid': 'bot-source' }, botSourceText(line, forAgent)));
}
