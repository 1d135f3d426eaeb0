// The events as JSON Schema (draft 2020-12), made from the same schemas the engine builds events
// from, so the published description cannot drift from what is accepted. JSON Schema counts
// string lengths in characters (code points), as the engine does.

import type { Processor } from './types.ts';
import { MAX_ID_LENGTH, MAX_QUANTITY, type EventSchema, type FieldRule } from './validate.ts';

type JsonSchema = Record<string, unknown>;

/** C0 and C1 control characters and DEL, which no id may hold. */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';

function ruleSchema(rule: FieldRule): JsonSchema {
  switch (rule.kind) {
    case 'id':
      return { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: `^[^${CONTROL}${rule.noAt ? '@' : ''}]*$` };
    case 'posInt':
      return { type: 'integer', minimum: 1, maximum: MAX_QUANTITY };
    case 'nonNegInt':
      return { type: 'integer', minimum: 0, maximum: MAX_QUANTITY };
    case 'boolean':
      return { type: 'boolean' };
    case 'int':
      return { type: 'integer', minimum: rule.min, maximum: rule.max };
    case 'number':
      return { type: 'number', ...(rule.min !== undefined && { minimum: rule.min }), ...(rule.max !== undefined && { maximum: rule.max }) };
    case 'enum':
      return { type: 'string', enum: [...rule.values] };
    case 'text':
      return { type: 'string', maxLength: rule.max };
    case 'pattern':
      return { type: 'string', pattern: rule.re.source, description: rule.what };
    case 'object':
      return objectSchema(rule.fields);
    case 'array':
      return { type: 'array', items: ruleSchema(rule.of), minItems: rule.min, maxItems: rule.max };
    case 'map':
      return {
        type: 'object',
        propertyNames: ruleSchema(rule.key),
        additionalProperties: ruleSchema(rule.value),
        minProperties: rule.min,
        maxProperties: rule.max,
      };
  }
}

/** A null optional field counts as absent, so an optional field may also be null. */
function fieldSchema(rule: FieldRule): JsonSchema {
  const s = ruleSchema(rule);
  return rule.optional ? { anyOf: [s, { type: 'null' }] } : s;
}

function objectSchema(fields: EventSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, rule] of Object.entries(fields)) {
    properties[name] = fieldSchema(rule);
    if (!rule.optional) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

function eventSchema(type: string, fields: EventSchema): JsonSchema {
  const body = objectSchema(fields);
  return {
    type: 'object',
    properties: {
      id: ruleSchema({ kind: 'id' }),
      type: { const: type },
      ts: { anyOf: [{ type: 'number', minimum: 0, maximum: 8.64e15 }, { type: 'null' }], description: 'the event\'s own time, epoch ms' },
      meta: { type: 'object', description: "the sender's own data: accepted, not kept, not compared for id_conflict" },
      ...(body.properties as Record<string, JsonSchema>),
    },
    required: ['id', 'type', ...(body.required as string[])],
    patternProperties: { '^x-': { description: "the sender's own data: accepted, not kept, not compared for id_conflict" } },
    additionalProperties: false,
  };
}

/** One schema with a definition per event type, and `oneOf` them for "an event". */
export function eventJsonSchema(processors: readonly Processor[]): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  for (const p of processors) for (const [type, fields] of Object.entries(p.schemas)) defs[type] = eventSchema(type, fields);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:omnistream:events',
    title: 'omnistream events',
    description: 'Every event POST /v1/events and the WebSocket {"op":"event"} accept. Generated from the engine (npm run schemas); a test keeps it equal.',
    oneOf: Object.keys(defs).map((type) => ({ $ref: `#/$defs/${type}` })),
    $defs: defs,
  };
}
