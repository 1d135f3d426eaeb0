// The bot: knowledge-base entries (faq.upserted / faq.removed), the bot modes, the predicted
// wait, escalation and resolution, on the service partition beside routing. The hooks are
// called from ../handlers.ts; modes.ts says when the bot answers.

import type { Handler } from '../change.ts';
import type { EventSchema } from '../../validate.ts';
import { ESCALATION_EVENT_FIELDS, ESCALATION_HANDLERS } from './escalation.ts';
import { FAQ_EVENT_FIELDS, FAQ_HANDLERS } from './faq.ts';

export const BOT_EVENT_FIELDS: Record<string, EventSchema> = { ...FAQ_EVENT_FIELDS, ...ESCALATION_EVENT_FIELDS };
export const BOT_HANDLERS: Record<string, Handler> = { ...FAQ_HANDLERS, ...ESCALATION_HANDLERS };
export { knowledgeIndex, storedEntries } from './faq.ts';
export { botAfterCustomerMessage, botAfterRequested, botBeforeRouting, botFirstMatch, botRecheck } from './modes.ts';
export { DEFAULT_HANDLE_MS, HANDLE_ALPHA, recordHandleTime } from './predicted-wait.ts';
