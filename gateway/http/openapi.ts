// The HTTP API as an OpenAPI 3.1 document. The event bodies are the engine's own JSON Schemas
// (eventJsonSchema), so what this document promises is what POST /v1/events accepts; a test
// keeps docs/openapi.json equal to this.

import { ERROR_CODES, eventJsonSchema, type Processor } from '../../engine/mod.ts';
import { customerCasesSchema, customerExportSchema, storedMessage } from './openapi-export.ts';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema }, 'application/msgpack': { schema } });
const answer = (description: string, schema: Schema) => ({ description, content: json(schema) });
const refused = (description: string) => answer(description, ref('ErrorAnswer'));
const bearer = [{ bearer: [] }];
const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string', minLength: 1, maxLength: 128 } });

const counts = { type: 'integer', minimum: 0 };
const stockRow = {
  type: 'object',
  properties: { onHand: { type: 'integer' }, reserved: counts, safety: counts, available: counts },
  required: ['onHand', 'reserved', 'safety', 'available'],
};

export function openApiDocument(processors: readonly Processor[]): Schema {
  const events = eventJsonSchema(processors);
  const eventDefs = events.$defs as Record<string, Schema>;
  // Every event's own schema as a component; "an event" is one of them.
  const eventSchemas = Object.fromEntries(Object.entries(eventDefs).map(([type, s]) => [`event:${type}`, s]));
  const anyEvent = { oneOf: Object.keys(eventDefs).map((type) => ref(`event:${type}`)) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'omnistream HTTP API',
      version: '1',
      description:
        'Events in, durable answers out; live state by GET. The WebSocket push layer (/v1/ws) is described in docs/protocol.md. ' +
        'Every body may be JSON or msgpack (Content-Type: application/msgpack; GETs answer msgpack with Accept: application/msgpack).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (HS256)' } },
      schemas: {
        ...eventSchemas,
        Event: anyEvent,
        ErrorCode: { type: 'string', enum: [...ERROR_CODES] },
        Error: {
          type: 'object',
          properties: {
            code: ref('ErrorCode'),
            message: { type: 'string' },
            field: { type: 'string', description: 'invalid_event: the offending field, as a path such as lines[2].qty' },
            wanted: { type: 'integer', description: 'insufficient_stock: the quantity asked for' },
            available: { type: 'integer', description: 'insufficient_stock: what the event could have had' },
          },
          required: ['code', 'message'],
        },
        ErrorAnswer: { type: 'object', properties: { error: ref('Error') }, required: ['error'] },
        Result: {
          oneOf: [
            {
              type: 'object',
              properties: { id: { type: 'string' }, ok: { const: true }, duplicate: { const: true } },
              required: ['id', 'ok'],
              additionalProperties: true,
              description: 'applied (or, with duplicate, the first answer to this id again); extra fields depend on the event type',
            },
            {
              type: 'object',
              properties: { id: { type: ['string', 'null'] }, ok: { const: false }, error: ref('Error'), duplicate: { const: true } },
              required: ['id', 'ok', 'error'],
            },
          ],
        },
        Stock: {
          type: 'object',
          properties: {
            sku: { type: 'string' },
            onHand: { type: 'integer' },
            reserved: counts,
            available: counts,
            locations: { type: 'object', additionalProperties: stockRow },
            seq: counts,
          },
          required: ['sku', 'onHand', 'reserved', 'available', 'locations', 'seq'],
        },
        Order: {
          type: 'object',
          properties: {
            order: { type: 'string' },
            status: { enum: ['placed', 'ready', 'shipped', 'completed', 'cancelled', 'expired', 'partially_returned', 'returned'] },
            customer: { type: 'string' },
            channel: { enum: ['web', 'app', 'store', 'kiosk', 'phone', 'social'] },
            pickup: { type: 'string' },
            ship: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } } },
            lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: counts, price: counts, returned: counts }, required: ['sku', 'qty', 'returned'] } },
            allocation: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: counts, location: { type: 'string' }, reservation: { type: 'string' } } } },
            currency: { type: 'string' },
            history: { type: 'array', items: { type: 'object', properties: { status: { type: 'string' }, at: { type: 'number' }, channel: { type: 'string' }, location: { type: 'string' } }, required: ['status', 'at'] } },
            readyUntil: { type: 'number', description: 'while ready: when the pickup hold runs out' },
            shipment: { type: 'object', description: 'once shipped: as order.shipped gave them', properties: { carrier: { type: 'string' }, tracking: { type: 'string' } } },
            returns: {
              type: 'array',
              items: {
                type: 'object',
                properties: { return: { type: 'string' }, lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: counts } } }, location: { type: 'string' }, channel: { type: 'string' }, refund: counts },
                required: ['return', 'lines', 'location'],
              },
            },
          },
          required: ['order', 'status', 'lines', 'allocation', 'history', 'returns'],
        },
        ServiceFigures: {
          type: 'object',
          description: 'ratios are in 0..1, null where nothing was counted; times in ms from fixed log-scale histograms (within about 9 %)',
          properties: {
            requests: counts,
            firstResponseMs: { type: 'object', properties: { p50: { type: ['integer', 'null'] }, p90: { type: ['integer', 'null'] } }, required: ['p50', 'p90'], description: 'request → first message from the bot or an agent' },
            handleMs: { type: 'object', properties: { p50: { type: ['integer', 'null'] } }, required: ['p50'], description: 'assigned → ended by the agent' },
            containment: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'resolved by the bot ÷ requests the bot answered' },
            fcr: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'ended requests whose customer raised no new request on the topic within 72 h ÷ ended requests' },
            abandonment: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'ended before any first response ÷ ended' },
            csat: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'ratings of 4 or 5 ÷ ratings' },
            ratings: counts,
          },
          required: ['requests', 'firstResponseMs', 'handleMs', 'containment', 'fcr', 'abandonment', 'csat', 'ratings'],
        },
        CommerceFigures: {
          type: 'object',
          description: 'of the orders placed in the window; ratios are null where nothing was counted',
          properties: {
            orders: counts,
            revenue: { type: 'number', description: 'Σ price × qty (minor units) of the orders placed with a price on every line' },
            aov: { type: ['number', 'null'], description: 'revenue ÷ orders placed with prices' },
            pickupShare: { type: ['number', 'null'], minimum: 0, maximum: 1 },
            cancelRate: { type: ['number', 'null'], minimum: 0, maximum: 1 },
            expiredRate: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'expired ÷ pickup orders' },
            returnRate: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'orders with a return ÷ orders shipped or completed' },
            crossChannel: { ...{ type: ['number', 'null'], minimum: 0, maximum: 1 }, description: 'picked up or returned in another channel or location than placed in ÷ orders' },
          },
          required: ['orders', 'revenue', 'aov', 'pickupShare', 'cancelRate', 'expiredRate', 'returnRate', 'crossChannel'],
        },
      },
    },
    paths: {
      '/v1/events': {
        post: {
          summary: 'Send events; answered once they are durable',
          security: bearer,
          requestBody: {
            required: true,
            description: 'One event or an array of at most 10,000; at most 4 MiB; nesting at most 10 levels; strings valid UTF-8',
            content: json({ oneOf: [ref('Event'), { type: 'array', items: ref('Event'), maxItems: 10_000 }] }),
          },
          responses: {
            '200': answer('One result per event, in order', {
              type: 'object',
              properties: { results: { type: 'array', items: ref('Result') } },
              required: ['results'],
            }),
            '400': refused('bad_request: the body cannot be decoded, or is neither an event nor an array; nothing applied'),
            '401': refused('unauthorized: no token, or a bad one'),
            '413': refused('too_large: over 4 MiB or 10,000 events'),
            '503': refused('unavailable: shutting down, or the server-wide budget for bodies still arriving is spent (Retry-After)'),
          },
        },
      },
      '/v1/stock/{sku}': {
        get: {
          summary: "A SKU's durable stock, in total and per location",
          parameters: [idParam('sku', 'URL-encoded')],
          responses: { '200': answer('The stock', ref('Stock')), '404': refused('not_found: never seen') },
        },
      },
      '/v1/locations': {
        get: {
          summary: 'Every declared location: kind, name, position and low-stock threshold (readable as stock is)',
          responses: {
            '200': answer('By location id', {
              type: 'object',
              properties: {
                locations: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      location: { type: 'string' },
                      kind: { enum: ['store', 'warehouse'] },
                      name: { type: 'string' },
                      lat: { type: 'number', minimum: -90, maximum: 90 },
                      lon: { type: 'number', minimum: -180, maximum: 180 },
                      lowStock: { type: 'integer', minimum: 0, description: 'available at or below this is low (the location\'s own threshold, else the server\'s)' },
                      ships: { const: false, description: 'only when declared false: never a source of ship orders' },
                      shipCapacity: { type: 'integer', minimum: 0, description: 'ship orders it may take per UTC day of their event time, where declared' },
                    },
                    required: ['location', 'kind', 'lat', 'lon', 'lowStock'],
                  },
                },
              },
              required: ['locations'],
            }),
            '401': refused('unauthorized: a bad token, or none while stock is not public'),
            '403': refused('forbidden: a role that may not read stock'),
          },
        },
      },
      '/v1/requests/{request}': {
        get: {
          summary: 'A service request: status, agent, queue position',
          security: bearer,
          parameters: [idParam('request', 'the request id')],
          responses: {
            '200': answer('The request', {
              type: 'object',
              properties: {
                request: { type: 'string' },
                status: { enum: ['queued', 'offered', 'assigned', 'completed', 'bot', 'resolved'] },
                agent: { type: 'string' },
                position: { type: 'integer', minimum: 1 },
                conversation: { type: 'string' },
                resolvedBy: { enum: ['bot', 'agent'] },
              },
              required: ['request', 'status'],
            }),
            '401': refused('unauthorized'),
            '403': refused('forbidden: not this caller\'s request (answered whether or not it exists)'),
            '404': refused('not_found'),
          },
        },
      },
      '/v1/requests/{request}/messages': {
        get: {
          summary: "A service request's messages so far, the bot's among them (read once subscribed to request/<id>)",
          security: bearer,
          parameters: [idParam('request', 'the request id')],
          responses: {
            '200': answer('The messages, oldest first', { type: 'object', properties: { request: { type: 'string' }, messages: { type: 'array', items: storedMessage } }, required: ['request', 'messages'] }),
            '401': refused('unauthorized'),
            '403': refused('forbidden: not this caller\'s request (answered whether or not it exists)'),
            '404': refused('not_found'),
          },
        },
      },
      '/v1/queues': {
        get: {
          summary: 'Every service topic: waiting, longest wait, agents available, SLA breaches',
          security: bearer,
          responses: {
            '200': answer('Per topic', {
              type: 'object',
              additionalProperties: {
                type: 'object',
                properties: {
                  topic: { type: 'string' },
                  waiting: counts,
                  offered: counts,
                  longestWaitMs: counts,
                  asOf: { type: 'number' },
                  agentsAvailable: counts,
                  agentsEligible: counts,
                  slaBreaches: counts,
                },
              },
            }),
            '401': refused('unauthorized'),
            '403': refused('forbidden'),
          },
        },
      },
      '/v1/cluster': {
        get: {
          summary: "How the engine is laid out: the data dir's partition count and which worker applies which partitions (supervisor and admin)",
          security: bearer,
          responses: {
            '200': answer('The layout', {
              type: 'object',
              properties: {
                cluster: { type: ['string', 'null'], description: 'the group of nodes sharing NATS; null for an embedded server' },
                node: { type: 'string', description: "this server's host name" },
                partitions: { type: 'integer', minimum: 1, maximum: 1024 },
                workers: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { worker: counts, partitions: { type: 'array', items: counts } },
                    required: ['worker', 'partitions'],
                  },
                },
              },
              required: ['cluster', 'node', 'partitions', 'workers'],
            }),
            '401': refused('unauthorized: no token, or a bad one'),
            '403': refused('forbidden: a role other than supervisor and admin'),
          },
        },
      },
      '/v1/commerce/stats': {
        get: {
          summary: 'Orders, revenue and rates of the orders placed in the window ending now, per channel or location (supervisor and admin)',
          security: bearer,
          parameters: [
            { name: 'window', in: 'query', required: false, schema: { type: 'string', pattern: '^[1-9][0-9]{0,4}[mh]$', default: '1h' }, description: '1 minute to 24 hours: 5m, 15m, 1h, 6h, 24h' },
            { name: 'by', in: 'query', required: false, schema: { enum: ['channel', 'location'], default: 'channel' } },
          ],
          responses: {
            '200': answer('The figures', {
              type: 'object',
              properties: {
                window: { type: 'string' },
                by: { enum: ['channel', 'location'] },
                groups: { type: 'array', items: { allOf: [ref('CommerceFigures'), { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] }] } },
                total: ref('CommerceFigures'),
              },
              required: ['window', 'by', 'groups', 'total'],
            }),
            '400': refused('bad_request: a window outside 1m–24h, or another dimension'),
            '401': refused('unauthorized'),
            '403': refused('forbidden: a role other than supervisor and admin'),
          },
        },
      },
      '/v1/service/stats': {
        get: {
          summary: 'Requests, first-response and handle times, containment, first-contact resolution, abandonment and CSAT over the window ending now, per topic, channel or agent (supervisor and admin)',
          security: bearer,
          parameters: [
            { name: 'window', in: 'query', required: false, schema: { type: 'string', pattern: '^[1-9][0-9]{0,4}[mh]$', default: '1h' }, description: '1 minute to 24 hours: 5m, 15m, 1h, 24h' },
            { name: 'by', in: 'query', required: false, schema: { enum: ['topic', 'channel', 'agent'], default: 'topic' } },
          ],
          responses: {
            '200': answer('The figures', {
              type: 'object',
              properties: {
                window: { type: 'string' },
                by: { enum: ['topic', 'channel', 'agent'] },
                groups: { type: 'array', items: { allOf: [ref('ServiceFigures'), { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] }] } },
                total: ref('ServiceFigures'),
              },
              required: ['window', 'by', 'groups', 'total'],
            }),
            '400': refused('bad_request: a window outside 1m–24h, or another dimension'),
            '401': refused('unauthorized'),
            '403': refused('forbidden: a role other than supervisor and admin'),
          },
        },
      },
      '/v1/customers/{subject}/recommendations': {
        get: {
          summary: "The customer's recommendations, filtered by stock",
          security: bearer,
          parameters: [
            idParam('subject', 'any id of the customer, URL-encoded'),
            { name: 'location', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          ],
          responses: {
            '200': answer('The list', {
              type: 'object',
              properties: {
                customer: { type: 'string' },
                items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, score: { type: 'number' } }, required: ['sku', 'score'] } },
              },
              required: ['customer', 'items'],
            }),
            '400': refused('bad_request or unknown_location'),
            '401': refused('unauthorized'),
            '403': refused('forbidden'),
            '404': refused('not_found: a subject never seen'),
          },
        },
      },
      '/v1/orders/{order}': {
        get: {
          summary: 'An order as its order/<id> topic shows it: status, lines, allocation, history, returns',
          security: bearer,
          parameters: [idParam('order', 'the order id, URL-encoded')],
          responses: {
            '200': answer('The order', ref('Order')),
            '401': refused('unauthorized'),
            '403': refused("forbidden: not the caller's order nor one of its store's (answered whether or not it exists)"),
            '404': refused('not_found'),
          },
        },
      },
      '/v1/customers/{subject}/orders': {
        get: {
          summary: "The customer's recent orders, newest first",
          security: bearer,
          parameters: [
            idParam('subject', 'any id of the customer, URL-encoded'),
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 20, default: 20 }, description: 'at most the orders kept per customer (20)' },
          ],
          responses: {
            '200': answer('The list', {
              type: 'object',
              properties: { customer: { type: 'string' }, orders: { type: 'array', items: ref('Order') } },
              required: ['customer', 'orders'],
            }),
            '400': refused('bad_request'),
            '401': refused('unauthorized'),
            '403': refused('forbidden'),
            '404': refused('not_found: a subject never seen'),
          },
        },
      },
      '/v1/customers/{subject}/cases': {
        get: {
          summary: "The customer's cases with their status and notes, newest first, as its cases/<customer> topic shows them (the customer, supervisor, admin)",
          security: bearer,
          parameters: [idParam('subject', 'any id of the customer, URL-encoded')],
          responses: {
            '200': answer('The cases', customerCasesSchema),
            '400': refused('bad_request'),
            '401': refused('unauthorized'),
            '403': refused('forbidden: not that customer, a supervisor or an admin (answered whether or not the subject exists)'),
            '404': refused('not_found: a subject that names no known customer and has no cases'),
          },
        },
      },
      '/v1/customers/{subject}': {
        get: {
          summary: 'Data-subject export: everything held about the customer a subject names (supervisor and admin only)',
          security: bearer,
          parameters: [idParam('subject', 'any id of the customer, URL-encoded')],
          responses: {
            '200': answer('What is held', customerExportSchema),
            '400': refused('bad_request'),
            '401': refused('unauthorized'),
            '403': refused('forbidden: not a supervisor or admin (answered whether or not the subject exists)'),
            '404': refused('not_found: no customer known by that id'),
          },
        },
      },
      '/healthz': { get: { summary: 'Alive', responses: { '200': { description: '{"ok":true}' } } } },
      '/readyz': { get: { summary: 'Ready to serve', responses: { '200': { description: 'ready' }, '503': { description: 'starting or draining' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain; version=0.0.4' } } } },
    },
  };
}
