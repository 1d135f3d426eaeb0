// `omni schemas`: the JSON Schema of every event and the OpenAPI document of the HTTP API, made
// from the engine's own event schemas — what a client can validate against before sending.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultProcessors, describeRule, eventJsonSchema, type FieldRule } from '../engine/mod.ts';
import { openApiDocument } from '../gateway/mod.ts';
import { UsageError, describeFlags, parseFlags, type FlagSpec } from '../flags/mod.ts';
import type { CliIO } from './io.ts';

const FLAGS: FlagSpec[] = [
  {
    name: 'write',
    kind: 'value',
    valueName: 'DIR',
    help: 'write DIR/events.schema.json, DIR/openapi.json and the field reference in DIR/protocol.md instead of printing',
  },
];

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

export const FIELDS_BEGIN = '<!-- field reference: made by `npm run schemas`, do not edit -->';
export const FIELDS_END = '<!-- end of field reference -->';

/** Every field of every event type and what it accepts, as the table docs/protocol.md keeps. */
export function fieldReference(): string {
  const rows: string[] = ['| type | field | accepts |', '| --- | --- | --- |'];
  const add = (type: string, path: string, rule: FieldRule) => {
    rows.push(`| \`${type}\` | \`${path}\` | ${rule.optional ? 'optional: ' : ''}${describeRule(rule).replaceAll('|', '\\|')} |`);
    if (rule.kind === 'object') for (const [name, r] of Object.entries(rule.fields)) add(type, `${path}.${name}`, r);
    if (rule.kind === 'array' && rule.of.kind === 'object') for (const [name, r] of Object.entries(rule.of.fields)) add(type, `${path}[].${name}`, r);
  };
  for (const p of defaultProcessors()) {
    for (const [type, fields] of Object.entries(p.schemas)) for (const [name, rule] of Object.entries(fields)) add(type, name, rule);
  }
  return rows.join('\n');
}

/** `text` with the field reference between its markers replaced by the current one. */
export function withFieldReference(text: string): string {
  const begin = text.indexOf(FIELDS_BEGIN);
  const end = text.indexOf(FIELDS_END);
  if (begin < 0 || end < begin) throw new Error('the field reference markers are missing');
  return `${text.slice(0, begin + FIELDS_BEGIN.length)}\n${fieldReference()}\n${text.slice(end)}`;
}

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
    const protocol = join(dir, 'protocol.md');
    writeFileSync(protocol, withFieldReference(readFileSync(protocol, 'utf8')));
    io.out(`wrote ${[...Object.keys(docs).map((name) => join(dir, name)), `the field reference in ${protocol}`].join(', ')}`);
    return 0;
  }
  if (which !== undefined && which !== 'events' && which !== 'openapi') throw new UsageError(`unknown document '${which}' (events or openapi)`);
  io.out(formatDocument(which === 'openapi' ? docs['openapi.json'] : docs['events.schema.json']).trimEnd());
  return 0;
}
