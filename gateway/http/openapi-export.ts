// The OpenAPI schema of the data-subject export (GET /v1/customers/{subject}), kept apart from
// openapi.ts for its size: what the customers domain (engine/customers/export.ts) and the service
// domain (engine/service/messages.ts, engine/service/cases/) hold about one customer.

const strings = { type: 'array', items: { type: 'string' } };
const activity = {
  type: 'object',
  properties: { sku: { type: 'string' }, kind: { enum: ['viewed', 'carted', 'purchased'] }, time: { type: 'number' } },
  required: ['sku', 'kind', 'time'],
};
export const storedMessage = {
  type: 'object',
  properties: {
    from: { enum: ['customer', 'agent', 'bot'] },
    text: { type: 'string' },
    at: { type: 'number' },
    faq: { type: 'string', description: "the bot's: the knowledge-base entry it answered from (when confident)" },
    score: { type: 'number', description: "the bot's: how well the customer's text matched, 0..1" },
  },
  required: ['from', 'text', 'at'],
};
const coupon = {
  type: 'object',
  description: 'a coupon restricted to the customer, as issued and used so far',
  properties: { coupon: { type: 'string' }, value: { type: 'number' }, subject: { type: 'string' }, validUntil: { type: 'number' }, maxUses: { type: 'integer' }, uses: { type: 'integer' }, issued: { type: 'number' } },
  required: ['coupon'],
};
const loyalty = {
  type: 'object',
  description: 'absent for a customer that never had points or a coupon of its own',
  properties: {
    balance: { type: 'integer' },
    lots: { type: 'array', description: 'points still unspent, oldest earned first: points, earned, at (expiry)', items: { type: 'object' } },
    history: { type: 'array', description: 'the latest 100 entries: earned, redeemed, refunded, expired', items: { type: 'object' } },
    coupons: { type: 'array', items: coupon },
  },
  required: ['balance', 'lots', 'history', 'coupons'],
};
const caseNote = {
  type: 'object',
  properties: { at: { type: 'number' }, status: { enum: ['open', 'pending', 'resolved'] }, text: { type: 'string' } },
  required: ['at', 'status', 'text'],
};
/** GET /v1/customers/{subject}/cases and the cases/<customer> topic (engine/service/cases/). */
export const customerCasesSchema = {
  type: 'object',
  properties: {
    customer: { type: 'string' },
    cases: {
      type: 'array',
      description: 'newest first',
      items: {
        type: 'object',
        properties: {
          case: { type: 'string' },
          subject: { type: 'string', description: 'the id it was opened with' },
          topic: { type: 'string' },
          team: { type: 'string' },
          summary: { type: 'string' },
          status: { enum: ['open', 'pending', 'resolved'] },
          request: { type: 'string' },
          openedAt: { type: 'number' },
          dueAt: { type: 'number' },
          updatedAt: { type: 'number' },
          resolvedAt: { type: 'number' },
          overdue: { const: true, description: 'case_overdue was raised' },
          notes: { type: 'array', items: caseNote },
        },
        required: ['case', 'subject', 'topic', 'team', 'summary', 'status', 'openedAt', 'dueAt', 'updatedAt', 'notes'],
      },
    },
  },
  required: ['customer', 'cases'],
};

/** GET /v1/customers/{subject} (engine/customers/export.ts, engine/service/messages.ts, engine/service/cases/). */
export const customerExportSchema = {
  type: 'object',
  properties: {
    customer: { type: 'string' },
    ids: strings,
    profile: { type: 'object', properties: { tier: { enum: ['standard', 'vip'] }, language: { type: 'string' } }, required: ['tier'] },
    identityLog: { type: 'array', description: 'why its ids are joined: created, merged, refused and shared entries, oldest first', items: { type: 'object' } },
    sessions: {
      type: 'array',
      items: { type: 'object', properties: { session: { type: 'string' }, current: { const: true }, activity: { type: 'array', items: activity } }, required: ['session', 'activity'] },
    },
    kiosks: {
      type: 'array',
      items: {
        type: 'object',
        properties: { kiosk: { type: 'string' }, customer: { type: 'string' }, location: { type: 'string' }, items: { type: 'array', items: { type: 'object' } }, at: { type: 'number' } },
        required: ['kiosk', 'customer', 'location', 'items', 'at'],
      },
    },
    orders: { type: 'array', description: 'the latest kept orders, then older ones, each newest first; an order still being placed shows as its summary (order, status, lines, placedAt)', items: { type: 'object' } },
    loyalty,
    requests: {
      type: 'array',
      description: 'open ones oldest first, then completed ones newest first',
      items: {
        type: 'object',
        properties: {
          request: { type: 'string' },
          subject: { type: 'string' },
          channel: { type: 'string' },
          topic: { type: 'string' },
          status: { enum: ['queued', 'offered', 'assigned', 'completed', 'bot', 'resolved'] },
          priority: { type: 'integer' },
          vip: { type: 'boolean', description: "queued as a vip customer's" },
          language: { type: 'string', description: "the customer's language, which its agent had to speak (until the service level was breached)" },
          breached: { const: true, description: 'it waited unassigned past the service level' },
          enqueuedAt: { type: 'number' },
          agent: { type: 'string' },
          completedAt: { type: 'number', description: 'when it ended (completed or resolved)' },
          assignedAt: { type: 'number', description: 'when its (last) agent accepted it' },
          botAnswered: { const: true, description: 'the knowledge-base bot answered it' },
          resolvedBy: { enum: ['bot', 'agent'], description: 'resolved on the customer\'s word: by the bot or an agent' },
          conversation: { type: 'string' },
          messages: { type: 'array', items: storedMessage },
        },
        required: ['request', 'subject', 'channel', 'topic', 'status', 'priority', 'vip', 'enqueuedAt', 'messages'],
      },
    },
    cases: customerCasesSchema.properties.cases,
  },
  required: ['customer', 'ids', 'profile', 'identityLog', 'sessions', 'kiosks', 'orders', 'requests', 'cases'],
};
