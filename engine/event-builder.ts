// From what arrived to the event the engine applies: the envelope (`id`, `type`, `ts`) checked,
// then a fresh event built from the declared fields of its type alone (validate.ts), then the
// owner's checks across fields. Nothing else of the raw body reaches a processor, the store, a
// topic or an answer. Also the event's digest (digest.ts), which tells a retry from a reused id.

import { endDigest, mixNumber, mixString, startDigest } from './digest.ts';
import type { EventCounts } from './event-counts.ts';
import type { EventError, EventResult, InputEvent, Processor } from './types.ts';
import { buildObject, FieldProblem, idProblem, invalid, MAX_ID_LENGTH } from './validate.ts';

const ENVELOPE: ReadonlySet<string> = new Set(['id', 'type', 'ts']);
/** Latest `ts` accepted: the largest time a JavaScript Date can hold. */
const MAX_TS = 8.64e15;

/** The checks every event gets before its type's fields; `id` is given back when it is usable. */
export function envelopeProblem(ev: unknown): { id: string | null; error: EventError } | null {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev) || ArrayBuffer.isView(ev)) {
    return { id: null, error: invalid('an event must be an object') };
  }
  const e = ev as Record<string, unknown>;
  const idErr = idProblem(e.id);
  if (idErr) return { id: null, error: invalid(`'id' ${idErr}`, 'id') };
  const id = e.id as string;
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > MAX_ID_LENGTH) {
    return { id, error: invalid("'type' must be a non-empty string", 'type') };
  }
  // A null optional field counts as absent, `ts` included.
  if (e.ts != null && (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0 || e.ts > MAX_TS)) {
    return { id, error: invalid("'ts' must be epoch milliseconds", 'ts') };
  }
  return null;
}

/** The answer to an event whose type no processor owns. */
export function unknownType(type: unknown): EventError {
  return { code: 'unknown_type', message: `unknown event type '${String(type)}'` };
}

export function isEventError<T extends object>(v: T | EventError): v is EventError {
  return typeof (v as EventError).code === 'string' && (v as EventError).message !== undefined;
}

/** A freshly built event and its digest (a number that equal events share; the id is not in it). */
export interface BuiltEvent {
  event: InputEvent;
  digest: number;
}

/**
 * The fresh event for `raw` (whose envelope passed envelopeProblem) as `owner` declares its
 * type, with its digest, or the first problem found. `owner` must own `raw.type`.
 */
export function buildEvent(owner: Processor, raw: Record<string, unknown>): BuiltEvent | EventError {
  const type = raw.type as string;
  const event: InputEvent = { id: raw.id as string, type };
  startDigest();
  mixString(type);
  if (raw.ts != null) {
    // -0 is 0 (one value, one spelling).
    event.ts = (raw.ts as number) + 0;
    mixNumber(event.ts);
  }
  try {
    buildObject(owner.schemas[type], raw, ENVELOPE, event);
  } catch (err) {
    if (!(err instanceof FieldProblem)) throw err;
    return invalid(`${type}: '${err.path}' ${err.problem}`, err.path);
  }
  const digest = endDigest();
  return owner.validate?.(event) ?? { event, digest };
}

/**
 * Envelope, fields and cross-field checks in one call, for callers holding one processor per
 * type (the pure runner, tests): the event as the engine would apply it, or its error.
 */
export function readEvent(ownerOf: (type: string) => Processor | undefined, raw: unknown): InputEvent | EventError {
  const envelope = envelopeProblem(raw);
  if (envelope) return envelope.error;
  const r = raw as Record<string, unknown>;
  const owner = ownerOf(r.type as string);
  if (!owner?.schemas[r.type as string]) return unknownType(r.type);
  const built = buildEvent(owner, r);
  return isEventError(built) ? built : built.event;
}

/**
 * An arriving event checked and built for the processor owning its type, or the answer refusing
 * it, counted (`invalid` by envelope, else by type, `unknown` for a type nobody owns).
 */
export function admitEvent(
  raw: unknown,
  owners: ReadonlyMap<string, Processor>,
  counts: EventCounts,
): { built: BuiltEvent; processor: Processor; refused?: undefined } | { refused: EventResult } {
  const envelope = envelopeProblem(raw);
  if (envelope) {
    counts.count('invalid', envelope.error.code);
    return { refused: { id: envelope.id, ok: false, error: envelope.error } };
  }
  const type = (raw as InputEvent).type;
  const processor = owners.get(type);
  const built = processor ? buildEvent(processor, raw as Record<string, unknown>) : unknownType(type);
  if (isEventError(built)) {
    counts.count(processor ? type : 'unknown', built.code);
    return { refused: { id: (raw as InputEvent).id, ok: false, error: built } };
  }
  return { built, processor: processor! };
}
