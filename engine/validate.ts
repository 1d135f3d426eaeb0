// Field rules shared by every domain's event schema: one place decides what a valid id,
// quantity, coordinate or nested object is, and every rejection reads the same way. A rule
// both checks a value and copies it (event-builder.ts): what passes is a fresh value of the
// declared shape, so nothing of the raw body (unknown keys, exotic types, depth) goes further.

import type { EventError } from './types.ts';

export type FieldRule =
  | { kind: 'id'; optional?: boolean; noAt?: boolean }
  | { kind: 'posInt'; optional?: boolean }
  | { kind: 'nonNegInt'; optional?: boolean }
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

/** Thrown inside a build to unwind to the event's answer; never escapes event-builder.ts. */
export class FieldProblem {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {}
}

/**
 * A fresh copy of `v` if it satisfies `rule`; throws FieldProblem naming the path otherwise.
 * `v` is neither null nor undefined (the caller decides what a missing value means).
 */
export function buildValue(rule: FieldRule, v: unknown, path: string): unknown {
  switch (rule.kind) {
    case 'id': {
      const problem = idProblem(v, rule.noAt);
      if (problem) throw new FieldProblem(path, problem);
      return v;
    }
    case 'posInt':
      if (Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_QUANTITY) return v;
      throw new FieldProblem(path, `must be ${describeRule(rule)}`);
    case 'nonNegInt':
      if (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_QUANTITY) return v;
      throw new FieldProblem(path, `must be ${describeRule(rule)}`);
    case 'int':
      if (Number.isInteger(v) && (v as number) >= rule.min && (v as number) <= rule.max) return v;
      throw new FieldProblem(path, `must be ${describeRule(rule)}`);
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldProblem(path, 'must be a finite number');
      if (rule.min !== undefined && v < rule.min) throw new FieldProblem(path, `must be ≥ ${rule.min}`);
      if (rule.max !== undefined && v > rule.max) throw new FieldProblem(path, `must be ≤ ${rule.max}`);
      // -0 would come back as 0 from some encoders: one value, one spelling.
      return v === 0 ? 0 : v;
    case 'enum':
      if (typeof v === 'string' && rule.values.includes(v)) return v;
      throw new FieldProblem(path, `must be ${describeRule(rule)}`);
    case 'text': {
      if (typeof v !== 'string') throw new FieldProblem(path, `must be ${describeRule(rule)}`);
      const n = codePoints(v, false);
      if (n < 0) throw new FieldProblem(path, 'must be well-formed Unicode');
      if (n > rule.max) throw new FieldProblem(path, `must be ${describeRule(rule)}`);
      return v;
    }
    case 'pattern':
      if (typeof v === 'string' && rule.re.test(v)) return v;
      throw new FieldProblem(path, `must be ${rule.what}`);
    case 'object':
      if (!isPlainObject(v)) throw new FieldProblem(path, `must be ${describeRule(rule)}`);
      return buildObject(rule.fields, v, `${path}.`, undefined, {});
    case 'array': {
      if (!Array.isArray(v) || v.length < rule.min || v.length > rule.max) throw new FieldProblem(path, `must be ${describeRule(rule)}`);
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item === null || item === undefined) throw new FieldProblem(`${path}[${i}]`, `must be ${describeRule(rule.of)}`);
        out[i] = buildValue(rule.of, item, `${path}[${i}]`);
      }
      return out;
    }
    case 'map': {
      if (!isPlainObject(v)) throw new FieldProblem(path, `must be ${describeRule(rule)}`);
      // Sorted: the same map in another key order is the same value (and the same digest).
      const keys = Object.keys(v).sort();
      if (keys.length < rule.min || keys.length > rule.max) throw new FieldProblem(path, `must be ${describeRule(rule)}`);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        try {
          buildValue(rule.key, key, path);
        } catch (err) {
          // Named by the map's path: a key is not a field of its own.
          if (err instanceof FieldProblem) throw new FieldProblem(path, `has a key '${key.slice(0, 64)}' that ${err.problem}`);
          throw err;
        }
        const item = v[key];
        if (item === null || item === undefined) throw new FieldProblem(`${path}.${key}`, `must be ${describeRule(rule.value)}`);
        const value = buildValue(rule.value, item, `${path}.${key}`);
        // An entry named __proto__ stays an entry (as JSON.parse keeps it), never the prototype.
        if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        else out[key] = value;
      }
      return out;
    }
  }
}

const fieldNames = new WeakMap<EventSchema, Set<string>>();

/**
 * Adds to `out` a fresh copy of `fields` (absent and null optional fields left out) from `v`,
 * whose other keys must be in `allowed` (the envelope's), be `meta` (an object) or start with
 * `x-`: the sender's own data, accepted and not kept.
 */
export function buildObject(
  fields: EventSchema,
  v: Record<string, unknown>,
  prefix: string,
  allowed: ReadonlySet<string> | undefined,
  out: Record<string, unknown>,
): Record<string, unknown> {
  let names = fieldNames.get(fields);
  if (!names) fieldNames.set(fields, (names = new Set(Object.keys(fields))));
  for (const key in v) {
    if (names.has(key) || allowed?.has(key)) continue;
    if (allowed !== undefined && key.startsWith('x-')) continue;
    if (allowed !== undefined && key === 'meta') {
      if (!isPlainObject(v.meta)) throw new FieldProblem('meta', 'must be an object');
      continue;
    }
    throw new FieldProblem(`${prefix}${key}`, 'is not a field of this event');
  }
  for (const name in fields) {
    const rule = fields[name];
    const value = v[name];
    if (value === undefined || value === null) {
      if (rule.optional) continue;
      throw new FieldProblem(`${prefix}${name}`, 'is required');
    }
    out[name] = buildValue(rule, value, `${prefix}${name}`);
  }
  return out;
}
