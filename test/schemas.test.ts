// The published JSON Schema of the events and the OpenAPI document are the engine's own
// schemas: docs/ holds exactly what `omni schemas` makes, and a validator built from the
// JSON Schema agrees with the engine on valid and hostile events alike.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDocument, schemaDocuments, withFieldReference } from '../cli/schemas.ts';
import { defaultProcessors, isEventError, readEvent, type Processor } from '../engine/mod.ts';
import { hostileEvent, hostileJson, validEvent } from './fuzz-arbitraries.ts';

const docs = schemaDocuments();
const processors = defaultProcessors();
const owners = new Map<string, Processor>(processors.flatMap((p) => p.types.map((t): [string, Processor] => [t, p])));
const engineAccepts = (ev: unknown) => !isEventError(readEvent((type) => owners.get(type), ev));

const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: false, strict: false });
const schemaAccepts = ajv.compile(docs['events.schema.json'] as object);

/** Checks across fields the JSON Schema does not state (its description says so). */
function crossFieldOrUnicode(ev: unknown): boolean {
  const text = JSON.stringify(ev);
  if (/\\ud[89a-f][0-9a-f]{2}/i.test(text)) return true;
  const e = ev as Record<string, unknown>;
  if (e.type === 'order.placed' && (e.pickup == null) === (e.ship == null)) return true;
  return e.type === 'stock.transfer' && e.from === e.to;
}

describe('docs/events.schema.json and docs/openapi.json', () => {
  it('are what `npm run schemas` makes from the engine', () => {
    for (const [name, doc] of Object.entries(docs)) {
      const kept = readFileSync(join(import.meta.dirname, '..', 'docs', name), 'utf8');
      expect(kept, `docs/${name} is stale: run npm run schemas`).toBe(formatDocument(doc));
    }
  });

  it('docs/protocol.md lists every field of every event type as the engine declares it', () => {
    const protocol = readFileSync(join(import.meta.dirname, '..', 'docs', 'protocol.md'), 'utf8');
    expect(protocol, 'the field reference in docs/protocol.md is stale: run npm run schemas').toBe(withFieldReference(protocol));
    expect(protocol).toContain('| `order.placed` | `lines[].qty` | a positive integer up to 1000000000 |');
  });

  it('the OpenAPI document names every event type and every error code', () => {
    const openapi = docs['openapi.json'] as { components: { schemas: Record<string, any> } };
    for (const type of owners.keys()) expect(openapi.components.schemas[`event:${type}`]).toBeDefined();
    expect(openapi.components.schemas.ErrorCode.enum).toContain('id_conflict');
  });
});

describe('the JSON Schema agrees with the engine', () => {
  it('every valid event passes both', () => {
    fc.assert(
      fc.property(validEvent, (ev) => {
        expect(schemaAccepts(ev), JSON.stringify(schemaAccepts.errors)).toBe(true);
        if (!crossFieldOrUnicode(ev)) expect(engineAccepts(ev)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a hostile event is accepted by the engine only if the schema accepts it, and the other way round', () => {
    fc.assert(
      fc.property(hostileEvent, (hostile) => {
        // As the event would arrive: through JSON (what JSON cannot carry is the decoder's to refuse).
        let ev: unknown;
        try {
          ev = JSON.parse(hostileJson(hostile).toString('utf8'));
        } catch {
          return;
        }
        if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return;
        const engine = engineAccepts(ev);
        const schema = schemaAccepts(ev);
        if (engine) expect(schema, `schema refuses what the engine takes: ${JSON.stringify(ev)}`).toBe(true);
        if (schema && !crossFieldOrUnicode(ev)) expect(engine, `engine refuses what the schema takes: ${JSON.stringify(ev)}`).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
