// Field rules shared by every domain's event schema: one place decides what a valid id,
// quantity, coordinate or nested object is, and every rejection reads the same way. A rule
// both checks a value and copies it (event-builder.ts): what passes is a fresh value of the
// declared shape, so nothing of the raw body (unknown keys, exotic types, depth) goes further.
// Each value copied is also mixed into the event's digest (digest.ts).

import { mix, mixNumber, mixString } from './digest.ts';
import type { EventError } from './errors.ts';

export type FieldRule =
  | { kind: 'id'; optional?: boolean; noAt?: boolean }
  | { kind: 'posInt'; optional?: boolean }
  | { kind: 'nonNegInt'; optional?: boolean }
  | { kind: 'boolean'; optional?: boolean }
  | { kind: 'int'; optional?: boolean; min: number; max: number }
  | { kind: 'number'; optional?: boolean; min?: number; max?: number }
  | { kind: 'enum'; values: readonly string[]; optional?: boolean }
  | { kind: 'text'; optional?: boolean; max: number }
  /** A short string matching `re` (language tags, channel names); `what` completes "must be …". */
  | { kind: 'pattern'; optional?: boolean; re: RegExp; what: string }
  /** An object with exactly these fields (each optional as its rule says). */
  | { kind: 'object'; optional?: boolean; fields: Record<string, FieldRule> }
  | { kind: 'array'; optional?: boolean; of: FieldRule; min: number; max: number }
  /** An object used as a map: every key passes `key`, every value `value`. */
  | { kind: 'map'; optional?: boolean; key: FieldRule; value: FieldRule; min: number; max: number };

/**
 * A language tag such as `en`, `de-AT`, `zh-Hans`, as service requests, agents and customer
 * profiles carry it: it names a routing lane, so no `/` and never `*`.
 */
export const LANGUAGE_TAG: FieldRule = { kind: 'pattern', re: /^[A-Za-z0-9-]{1,35}$/, what: 'a language tag (letters, digits, -; at most 35)' };

/** The fields of one event type, besides `id`, `type` and `ts`, in the order they are kept. */
export type EventSchema = Record<string, FieldRule>;

/** Characters (Unicode code points) in an id. */
export const MAX_ID_LENGTH = 128;

export function invalid(message: string, field?: string): EventError {
  return field === undefined ? { code: 'invalid_event', message } : { code: 'invalid_event', message, field };
}

/** Quantities above this are refused: sums of them stay exact (far below 2^53). */
export const MAX_QUANTITY = 1_000_000_000;

/**
 * Code points in `v`, or -1 when it is not well-formed (a lone UTF-16 surrogate cannot be
 * stored as UTF-8 and would come back changed) or, with `noControl`, holds a C0 or C1 control
 * character or DEL (U+0000–U+001F, U+007F–U+009F).
 */
export function codePoints(v: string, noControl: boolean): number {
  let n = 0;
  for (let i = 0; i < v.length; i++, n++) {
    const c = v.charCodeAt(i);
    if (c < 0xa0) {
      if (noControl && (c < 0x20 || c >= 0x7f)) return -1;
      continue;
    }
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return -1;
    const next = v.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return -1;
    i++;
  }
  return n;
}

/** No lone surrogates (see codePoints). */
export function wellFormed(v: string): boolean {
  return codePoints(v, false) >= 0;
}

/** An identifier: 1–128 characters, well-formed, no control characters; `noAt` when it is part of a topic name. */
export function idProblem(v: unknown, noAt = false): string | null {
  if (typeof v !== 'string') return 'must be a string';
  // More than two UTF-16 units a character: too long, whatever it holds (and not scanned).
  if (v.length > 2 * MAX_ID_LENGTH) return `must be 1–${MAX_ID_LENGTH} characters`;
  const n = codePoints(v, true);
  if (n < 0) return wellFormed(v) ? 'must not contain control characters' : 'must be well-formed Unicode';
  if (n < 1 || n > MAX_ID_LENGTH) return `must be 1–${MAX_ID_LENGTH} characters`;
  if (noAt && v.includes('@')) return "must not contain '@'";
  return null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** What a rule says a value must be, for messages about a missing or wrong value. */
export function describeRule(rule: FieldRule): string {
  switch (rule.kind) {
    case 'id':
      return `an id of 1–${MAX_ID_LENGTH} characters${rule.noAt ? " without '@'" : ''}`;
    case 'posInt':
      return `a positive integer up to ${MAX_QUANTITY}`;
    case 'nonNegInt':
      return `an integer from 0 to ${MAX_QUANTITY}`;
    case 'boolean':
      return 'true or false';
    case 'int':
      return `an integer from ${rule.min} to ${rule.max}`;
    case 'number':
      return rule.min !== undefined && rule.max !== undefined ? `a number from ${rule.min} to ${rule.max}` : 'a finite number';
    case 'enum':
      return `one of ${rule.values.join(', ')}`;
    case 'text':
      return `a string of at most ${rule.max} characters`;
    case 'pattern':
      return rule.what;
    case 'object':
      return `an object {${Object.keys(rule.fields).join(', ')}}`;
    case 'array':
      return `an array of ${rule.min}–${rule.max} × ${describeRule(rule.of)}`;
    case 'map':
      return `an object of ${rule.min}–${rule.max} entries (${describeRule(rule.key)}: ${describeRule(rule.value)})`;
  }
}

/**
 * Thrown inside a build to unwind to the event's answer; never escapes event-builder.ts. The
 * path is put together while unwinding, so a value that passes costs no path string.
 */
export class FieldProblem {
  constructor(
    public path: string,
    readonly problem: string,
  ) {}

  /** Called by the container the value was in, on the way out. */
  within(segment: string): FieldProblem {
    this.path = this.path === '' ? segment : this.path.startsWith('[') ? `${segment}${this.path}` : `${segment}.${this.path}`;
    return this;
  }
}

const fail = (rule: FieldRule): never => {
  throw new FieldProblem('', `must be ${describeRule(rule)}`);
};

/**
 * A fresh copy of `v` if it satisfies `rule`; throws FieldProblem (its path relative to `v`)
 * otherwise. `v` is neither null nor undefined (the caller decides what a missing value means).
 */
export function buildValue(rule: FieldRule, v: unknown): unknown {
  switch (rule.kind) {
    case 'id': {
      const problem = idProblem(v, rule.noAt);
      if (problem) throw new FieldProblem('', problem);
      mixString(v as string);
      return v;
    }
    case 'posInt':
      if (!(Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_QUANTITY)) fail(rule);
      mix(v as number);
      return v;
    case 'nonNegInt':
      if (!(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_QUANTITY)) fail(rule);
      mix(v as number);
      // -0 is 0: one value, one spelling (an encoder would keep the sign).
      return (v as number) + 0;
    case 'boolean':
      if (typeof v !== 'boolean') fail(rule);
      mix(v ? 0x74 : 0x66);
      return v;
    case 'int':
      if (!(Number.isInteger(v) && (v as number) >= rule.min && (v as number) <= rule.max)) fail(rule);
      mixNumber(v as number);
      return (v as number) + 0;
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldProblem('', 'must be a finite number');
      if (rule.min !== undefined && v < rule.min) throw new FieldProblem('', `must be ≥ ${rule.min}`);
      if (rule.max !== undefined && v > rule.max) throw new FieldProblem('', `must be ≤ ${rule.max}`);
      // -0 would come back as 0 from some encoders: one value, one spelling.
      const n = v === 0 ? 0 : v;
      mixNumber(n);
      return n;
    }
    case 'enum':
    case 'pattern':
      if (!(typeof v === 'string' && (rule.kind === 'enum' ? rule.values.includes(v) : rule.re.test(v)))) fail(rule);
      mixString(v as string);
      return v;
    case 'text': {
      if (typeof v !== 'string') return fail(rule);
      const n = codePoints(v, false);
      if (n < 0) throw new FieldProblem('', 'must be well-formed Unicode');
      if (n > rule.max) fail(rule);
      mixString(v);
      return v;
    }
    case 'object':
      if (!isPlainObject(v)) return fail(rule);
      // Opened and closed in the digest: a field after a nested object is not one of its fields.
      mix(0x7b);
      const out = buildObject(rule.fields, v, undefined, {});
      mix(0x7d);
      return out;
    case 'array': {
      if (!Array.isArray(v) || v.length < rule.min || v.length > rule.max) return fail(rule);
      mix(0x5b + v.length * 0x100);
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        try {
          if (item === null || item === undefined) fail(rule.of);
          out[i] = buildValue(rule.of, item);
        } catch (err) {
          throw err instanceof FieldProblem ? err.within(`[${i}]`) : err;
        }
      }
      return out;
    }
    case 'map': {
      if (!isPlainObject(v)) return fail(rule);
      // Counted before anything is sorted or copied: a map of a million keys costs only the count.
      let count = 0;
      for (const _ in v) if (++count > rule.max) return fail(rule);
      if (count < rule.min) return fail(rule);
      // Sorted: the same map in another key order is the same value (and the same digest).
      const keys = Object.keys(v).sort();
      mix(0x7b + keys.length * 0x100);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        try {
          buildValue(rule.key, key);
        } catch (err) {
          // Named by the map's path: a key is not a field of its own.
          if (err instanceof FieldProblem) throw new FieldProblem('', `has a key '${key.slice(0, 64)}' that ${err.problem}`);
          throw err;
        }
        const item = v[key];
        let value: unknown;
        try {
          if (item === null || item === undefined) fail(rule.value);
          value = buildValue(rule.value, item);
        } catch (err) {
          throw err instanceof FieldProblem ? err.within(key) : err;
        }
        // An entry named __proto__ stays an entry (as JSON.parse keeps it), never the prototype.
        if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        else out[key] = value;
      }
      mix(0x7d);
      return out;
    }
  }
}

interface CompiledSchema {
  names: Set<string>;
  fields: Array<[name: string, rule: FieldRule]>;
  /** Each field's name as a hash, mixed into the digest before its value. */
  tags: number[];
}

const compiled = new WeakMap<EventSchema, CompiledSchema>();

/** A field name's hash (FNV-1a): names, not positions, tell fields apart in the digest. */
function nameTag(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h;
}

function compile(fields: EventSchema): CompiledSchema {
  let c = compiled.get(fields);
  if (!c) {
    const entries = Object.entries(fields);
    c = { names: new Set(Object.keys(fields)), fields: entries, tags: entries.map(([name]) => nameTag(name)) };
    compiled.set(fields, c);
  }
  return c;
}

/**
 * Adds to `out` a fresh copy of `fields` (absent and null optional fields left out) from `v`.
 * `envelope` is given for an event's top level: its keys are allowed besides the fields, and so
 * are `meta` (an object) and keys starting with `x-` — the sender's own data, accepted and not
 * kept.
 */
export function buildObject(
  fields: EventSchema,
  v: Record<string, unknown>,
  envelope: ReadonlySet<string> | undefined,
  out: Record<string, unknown>,
): Record<string, unknown> {
  const schema = compile(fields);
  for (const key in v) {
    if (schema.names.has(key)) continue;
    if (envelope !== undefined) {
      if (envelope.has(key) || key.startsWith('x-')) continue;
      if (key === 'meta') {
        if (v.meta != null && !isPlainObject(v.meta)) throw new FieldProblem('meta', 'must be an object');
        continue;
      }
    }
    throw new FieldProblem(key, 'is not a field of this event');
  }
  const list = schema.fields;
  for (let i = 0; i < list.length; i++) {
    const [name, rule] = list[i];
    const value = v[name];
    if (value === undefined || value === null) {
      if (rule.optional) continue;
      throw new FieldProblem(name, 'is required');
    }
    // The field's name (as a hash) goes into the digest before its value.
    mix(schema.tags[i]);
    try {
      out[name] = buildValue(rule, value);
    } catch (err) {
      throw err instanceof FieldProblem ? err.within(name) : err;
    }
  }
  return out;
}
