// Field rules shared by every domain's `validate`: one place decides what a valid id,
// quantity or coordinate is, and every rejection reads the same way.

import type { EventError, InputEvent } from './types.ts';

export type FieldRule =
  | { kind: 'id'; optional?: boolean; noAt?: boolean }
  | { kind: 'posInt'; optional?: boolean }
  | { kind: 'nonNegInt'; optional?: boolean }
  | { kind: 'number'; optional?: boolean; min?: number; max?: number }
  | { kind: 'enum'; values: readonly string[]; optional?: boolean }
  | { kind: 'text'; optional?: boolean; max: number }
  | { kind: 'custom'; optional?: boolean; check: (v: unknown) => string | null };

export const MAX_ID_LENGTH = 128;

export function invalid(message: string): EventError {
  return { code: 'invalid_event', message };
}

/** Quantities above this are refused: sums of them stay exact (far below 2^53). */
export const MAX_QUANTITY = 1_000_000_000;

/** Lone UTF-16 surrogates cannot be stored as UTF-8 and would come back changed. */
export function wellFormed(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const next = v.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** An identifier: 1–128 chars, no control characters; `noAt` when it is part of a topic name. */
export function idProblem(v: unknown, noAt = false): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length < 1 || v.length > MAX_ID_LENGTH) return `must be 1–${MAX_ID_LENGTH} characters`;
  if (!wellFormed(v)) return 'must be well-formed Unicode';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'must not contain control characters';
    if (c === 0x40 && noAt) return "must not contain '@'";
  }
  return null;
}

function ruleProblem(rule: FieldRule, v: unknown): string | null {
  switch (rule.kind) {
    case 'id':
      return idProblem(v, rule.noAt);
    case 'posInt':
      return Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_QUANTITY
        ? null
        : `must be a positive integer up to ${MAX_QUANTITY}`;
    case 'nonNegInt':
      return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_QUANTITY
        ? null
        : `must be an integer from 0 to ${MAX_QUANTITY}`;
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number';
      if (rule.min !== undefined && v < rule.min) return `must be ≥ ${rule.min}`;
      if (rule.max !== undefined && v > rule.max) return `must be ≤ ${rule.max}`;
      return null;
    }
    case 'enum':
      return typeof v === 'string' && rule.values.includes(v) ? null : `must be one of ${rule.values.join(', ')}`;
    case 'text':
      if (typeof v !== 'string' || v.length > rule.max) return `must be a string of at most ${rule.max} characters`;
      return wellFormed(v) ? null : 'must be well-formed Unicode';
    case 'custom':
      return rule.check(v);
  }
}

const compiled = new WeakMap<Record<string, FieldRule>, Array<[string, FieldRule]>>();

/** Checks `fields` of `ev` against their rules; the first problem becomes the error. */
export function checkFields(ev: InputEvent, fields: Record<string, FieldRule>): EventError | null {
  let list = compiled.get(fields);
  if (!list) compiled.set(fields, (list = Object.entries(fields)));
  for (let i = 0; i < list.length; i++) {
    const [name, rule] = list[i];
    const v = ev[name];
    if (v === undefined || v === null) {
      if (rule.optional) continue;
      return invalid(`${ev.type}: '${name}' is required`);
    }
    const problem = ruleProblem(rule, v);
    if (problem) return invalid(`${ev.type}: '${name}' ${problem}`);
  }
  return null;
}

/** The checks every event gets before its processor sees it. */
export function envelopeProblem(ev: unknown): { id: string | null; error: EventError } | null {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) {
    return { id: null, error: invalid('an event must be a JSON object') };
  }
  const e = ev as Record<string, unknown>;
  const id = typeof e.id === 'string' ? e.id : null;
  const idErr = idProblem(e.id);
  if (idErr) return { id: null, error: invalid(`'id' ${idErr}`) };
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > MAX_ID_LENGTH) {
    return { id, error: invalid("'type' must be a non-empty string") };
  }
  if (e.ts !== undefined && (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0 || e.ts > 8.64e15)) {
    return { id, error: invalid("'ts' must be epoch milliseconds") };
  }
  return null;
}
