// After a storefront chat has ended (completed by its agent or resolved), the customer may rate
// it once, 1 to 5, with an optional comment (service.rated with the customer's token). The
// server's answer is shown as it is meant: thanks, or that the chat was already rated, cannot be
// rated yet, or is not this customer's.

import type { OmniClient } from '../../client/mod.ts';
import { el, newId } from './page.ts';

const RATING_MESSAGES: Record<string, string> = {
  already_rated: 'This chat has already been rated, thank you.',
  not_rated_yet: 'This chat can be rated once it has ended.',
  forbidden: 'Only the customer of this chat can rate it.',
  not_found: 'This chat is not known to us any more.',
};

/** What the page says for the server's refusal `code` of a rating. */
function ratingRefusal(code: string | undefined, message: string): string {
  return (code !== undefined ? RATING_MESSAGES[code] : undefined) ?? `The rating was not saved: ${message}`;
}

/**
 * A rating control for `request`; `onSettled` runs once nothing more can be done with it
 * (rated now, or already rated), so the page can forget the request.
 */
export function chatRating(client: OmniClient, request: string, onSettled: () => void): HTMLElement {
  const result = el('p', { class: 'muted', 'data-testid': 'rating-result', role: 'status' });
  const comment = el('input', { type: 'text', 'data-testid': 'rating-comment', maxlength: '1000', autocomplete: 'off', 'aria-label': 'A comment (optional)', placeholder: 'A comment (optional)' });
  const buttons = [1, 2, 3, 4, 5].map((score) =>
    el('button', { type: 'button', class: 'secondary', 'data-testid': 'rate', 'data-score': String(score), 'aria-label': `${score} of 5` }, String(score)),
  );
  const root = el('fieldset', { class: 'rating', 'data-testid': 'rating', 'data-request': request },
    el('legend', {}, 'How did we do? 1 = poor, 5 = excellent'), ...buttons, comment, result);
  const settle = (text: string, state: string) => {
    result.textContent = text;
    root.dataset.state = state;
    for (const b of buttons) b.disabled = true;
    comment.disabled = true;
    onSettled();
  };
  buttons.forEach((button, i) =>
    button.addEventListener('click', () => {
      const score = i + 1;
      const text = comment.value.trim();
      for (const b of buttons) b.disabled = true;
      client.send({ id: newId('rated'), type: 'service.rated', request, score, ...(text !== '' ? { comment: text } : {}) }).then(
        () => settle(`Thank you: you rated this chat ${score} of 5.`, 'rated'),
        (error: Error & { code?: string }) => {
          if (error.code === 'already_rated') return settle(ratingRefusal(error.code, error.message), 'already_rated');
          result.textContent = ratingRefusal(error.code, error.message);
          root.dataset.state = error.code ?? 'error';
          for (const b of buttons) b.disabled = false;
        },
      );
    }),
  );
  return root;
}
