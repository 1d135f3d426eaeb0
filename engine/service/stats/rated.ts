// service.rated: the customer's score (1–5) and comment on a request once it has ended, at most
// once. Stored on the request (so it is in the customer's export and goes with its erasure) and
// counted in the figures.

import type { EventSchema } from '../../validate.ts';
import type { Handler } from '../change.ts';
import { done, reject } from '../outcome.ts';
import { keys, type ServiceRequest } from '../types.ts';
import { countRating } from './count.ts';

export const MAX_COMMENT = 1000;

export const RATED_FIELDS: EventSchema = {
  request: { kind: 'id', noAt: true },
  score: { kind: 'int', min: 1, max: 5 },
  comment: { kind: 'text', max: MAX_COMMENT, optional: true },
};

const ENDED: ReadonlySet<string> = new Set(['completed', 'resolved']);

export const rated: Handler = (c, ev) => {
  const id = ev.request as string;
  const r = c.request(id) ?? reject('not_found', `no request '${id}'`);
  if (!ENDED.has(r.status)) reject('not_rated_yet', `request '${id}' is ${r.status}: it can be rated once completed or resolved`);
  if (r.rating !== undefined) reject('already_rated', `request '${id}' is already rated`);
  const score = ev.score as number;
  const comment = ev.comment as string | undefined;
  c.put(keys.request(id), { ...r, rating: { score, ...(comment !== undefined ? { comment } : {}) }, ratedAt: c.now } satisfies ServiceRequest);
  countRating(c, r, score);
  return done(c, { request: id, score });
};
