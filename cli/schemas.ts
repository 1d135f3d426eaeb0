// `omni schemas`: the JSON Schema of every event and the OpenAPI document of the HTTP API, made
// from the engine's own event schemas — what a client can validate against before sending.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultProcessors, eventJsonSchema } from '../engine/mod.ts';
import { openApiDocument } from '../gateway/mod.ts';
import { UsageError, describeFlags, parseFlags, type FlagSpec } from './args.ts';
import type { CliIO } from './io.ts';

const FLAGS: FlagSpec[] = [{ name: 'write', kind: 'value', valueName: 'DIR', help: 'write DIR/events.schema.json and DIR/openapi.json instead of printing' }];

export const SCHEMAS_HELP = `Usage: omni schemas [events|openapi] [--write DIR]

Prints the JSON Schema (draft 2020-12) of every event the server accepts ("events", the
default), or the OpenAPI 3.1 document of the HTTP API ("openapi"). Both are made from the
schemas the engine builds events from. Checks across fields are not in them: order.placed
needs exactly one of pickup and ship; stock.transfer needs from ≠ to; strings must be
well-formed Unicode (no lone surrogates).

Flags:
${describeFlags(FLAGS)}`;

/** The two documents, as the repository keeps them in docs/. */
export function schemaDocuments(): { 'events.schema.json': unknown; 'openapi.json': unknown } {
  const processors = defaultProcessors();
  return { 'events.schema.json': eventJsonSchema(processors), 'openapi.json': openApiDocument(processors) };
}

export const formatDocument = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;

export function schemas(argv: readonly string[], io: CliIO): number {
  const which = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const flags = parseFlags(which === undefined ? argv : argv.slice(1), FLAGS, io.env);
  if (flags.help) {
    io.out(SCHEMAS_HELP);
    return 0;
  }
  const docs = schemaDocuments();
  const dir = flags.string('write')?.value;
  if (dir !== undefined) {
    for (const [name, doc] of Object.entries(docs)) writeFileSync(join(dir, name), formatDocument(doc));
    io.out(`wrote ${Object.keys(docs).map((name) => join(dir, name)).join(', ')}`);
    return 0;
  }
  if (which !== undefined && which !== 'events' && which !== 'openapi') throw new UsageError(`unknown document '${which}' (events or openapi)`);
  io.out(formatDocument(which === 'openapi' ? docs['openapi.json'] : docs['events.schema.json']).trimEnd());
  return 0;
}
