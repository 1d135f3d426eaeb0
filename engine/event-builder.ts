// From what arrived to the event the engine applies: the envelope (`id`, `type`, `ts`) checked,
// then a fresh event built from the declared fields of its type alone (validate.ts), then the
// owner's checks across fields. Nothing else of the raw body reaches a processor, the store, a
// topic or an answer. Also the event's digest, which tells a retry from a reused id.

import type { EventError, InputEvent, Processor } from './types.ts';
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

export function isEventError(v: InputEvent | EventError): v is EventError {
  return typeof (v as InputEvent).type !== 'string';
}

/**
 * The fresh event for `raw` (whose envelope passed envelopeProblem) as `owner` declares its
 * type, or the first problem found. `owner` must own `raw.type`.
 */
export function buildEvent(owner: Processor, raw: Record<string, unknown>): InputEvent | EventError {
  const type = raw.type as string;
  const event: InputEvent = { id: raw.id as string, type };
  if (raw.ts != null) event.ts = raw.ts as number;
  try {
    buildObject(owner.schemas[type], raw, '', ENVELOPE, event);
  } catch (err) {
    if (!(err instanceof FieldProblem)) throw err;
    return invalid(`${type}: '${err.path}' ${err.problem}`, err.path);
  }
  return owner.validate(event) ?? event;
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
  if (!owner?.schemas[r.type as string]) return { code: 'unknown_type', message: `unknown event type '${String(r.type)}'` };
  return buildEvent(owner, r);
}

// ---- digest ---------------------------------------------------------------------------------
// A 53-bit hash (cyrb53's mixing) of a built event. Built events hold their fields in the
// schema's order and maps sorted, so two sendings of the same event hash alike whatever the
// order of their keys on the wire.

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
let h1 = 0;
let h2 = 0;

function mix(c: number): void {
  h1 = Math.imul(h1 ^ c, 2654435761);
  h2 = Math.imul(h2 ^ c, 1597334677);
}

function mixString(s: string): void {
  mix(0x73 + s.length * 0x100);
  for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
}

function mixValue(v: unknown): void {
  switch (typeof v) {
    case 'string':
      return mixString(v);
    case 'number':
      F64[0] = v;
      mix(0x6e);
      mix(U32[0]);
      return mix(U32[1]);
    case 'boolean':
      return mix(v ? 0x74 : 0x66);
    default:
      if (Array.isArray(v)) {
        mix(0x5b + v.length * 0x100);
        for (let i = 0; i < v.length; i++) mixValue(v[i]);
        return;
      }
      if (v === null || v === undefined) return mix(0x30);
      mix(0x7b);
      for (const key in v as Record<string, unknown>) {
        mixString(key);
        mixValue((v as Record<string, unknown>)[key]);
      }
      return mix(0x7d);
  }
}

/** A number in [1, 2^53) naming the event's content; equal events have equal digests. */
export function eventDigest(event: InputEvent): number {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  mixValue(event);
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}
