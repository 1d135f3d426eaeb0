// The bot: knowledge-base entries (faq.upserted / faq.removed), the bot modes, the predicted
// wait, escalation and resolution, on the service partition beside routing.
// (Hooks called from ../handlers.ts; filled in by the bot's own files.)

import type { Handler, ServiceChange } from '../change.ts';
import type { EventSchema } from '../../validate.ts';
import type { ServiceRequest } from '../types.ts';

import { FAQ_EVENT_FIELDS, FAQ_HANDLERS } from './faq.ts';

export const BOT_EVENT_FIELDS: Record<string, EventSchema> = { ...FAQ_EVENT_FIELDS };
export const BOT_HANDLERS: Record<string, Handler> = { ...FAQ_HANDLERS };
export { knowledgeIndex, storedEntries } from './faq.ts';

/** After a request is raised and routed: the bot may answer it (mode first / overflow). */
export function botAfterRequested(_c: ServiceChange, _r: ServiceRequest, _text: string | undefined): void {}

/** After a customer's message on a request is stored: the bot may answer it or hand it to a person. */
export function botAfterCustomerMessage(_c: ServiceChange, _r: ServiceRequest, _text: string): void {}

/** After a request is completed by its agent: its handle time feeds the predicted wait. */
export function botAfterCompleted(_c: ServiceChange, _r: ServiceRequest): void {}
