// The shape of every service event (contract §3, plus the gateway's presence events
// `agent.connected` / `agent.disconnected`), checked before any state is read.

import { checkFields, idProblem, type FieldRule } from '../validate.ts';
import type { EventError, InputEvent } from '../types.ts';
import { CHANNELS } from './types.ts';

const topicId: FieldRule = { kind: 'id', noAt: true };
const id: FieldRule = { kind: 'id' };
// An agent sits in up to skills × channels × (languages + 1) lanes: these bound that fan-out.
export const MAX_SKILLS = 50;
export const MAX_LANGUAGES = 10;
export const MAX_CAPACITY = 1000;
export const MAX_TEXT = 4000;

/** A language tag such as `en`, `de-AT`, `zh-Hans`: it names a lane, so no `/` and never `*`. */
function languageProblem(v: unknown): string | null {
  return typeof v === 'string' && /^[A-Za-z0-9-]{1,35}$/.test(v) ? null : 'must be a language tag (letters, digits, -; at most 35)';
}
const language: FieldRule = { kind: 'custom', optional: true, check: languageProblem };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function skillsProblem(v: unknown): string | null {
  if (!isObject(v)) return 'must be an object {topic: level 1–10}';
  const entries = Object.entries(v);
  if (entries.length === 0 || entries.length > MAX_SKILLS) return `must have 1–${MAX_SKILLS} topics`;
  for (const [topic, level] of entries) {
    const problem = idProblem(topic, true);
    if (problem) return `has a topic that ${problem}`;
    if (!Number.isInteger(level) || (level as number) < 1 || (level as number) > 10) return `'${topic}' must be a level 1–10`;
  }
  return null;
}

function capacityProblem(v: unknown): string | null {
  if (!isObject(v)) return `must be an object {${CHANNELS.join(', ')}}`;
  for (const [channel, n] of Object.entries(v)) {
    if (!(CHANNELS as readonly string[]).includes(channel)) return `has an unknown channel '${channel}'`;
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > MAX_CAPACITY) return `'${channel}' must be an integer 0–${MAX_CAPACITY}`;
  }
  return null;
}

function languagesProblem(v: unknown): string | null {
  if (!Array.isArray(v) || v.length > MAX_LANGUAGES) return `must be an array of at most ${MAX_LANGUAGES} language tags`;
  for (const l of v) {
    const problem = languageProblem(l);
    if (problem) return `has an entry that ${problem}`;
  }
  return null;
}

export const SERVICE_EVENT_FIELDS: Record<string, Record<string, FieldRule>> = {
  'agent.online': {
    agent: topicId,
    skills: { kind: 'custom', check: skillsProblem },
    capacity: { kind: 'custom', check: capacityProblem },
    languages: { kind: 'custom', optional: true, check: languagesProblem },
  },
  'agent.status': { agent: topicId, status: { kind: 'enum', values: ['available', 'away'] } },
  'agent.offline': { agent: topicId },
  'agent.connected': { agent: topicId },
  'agent.disconnected': { agent: topicId },
  'service.requested': {
    request: topicId,
    subject: id,
    channel: { kind: 'enum', values: CHANNELS },
    topic: topicId,
    language,
    priority: { kind: 'custom', optional: true, check: (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10 ? null : 'must be an integer 0–10') },
  },
  'service.accepted': { request: topicId, agent: topicId },
  'service.declined': { request: topicId, agent: topicId },
  'service.message': { request: topicId, from: { kind: 'enum', values: ['customer', 'agent'] }, text: { kind: 'text', max: MAX_TEXT } },
  'service.completed': { request: topicId },
};

export function validateServiceEvent(ev: InputEvent): EventError | null {
  return checkFields(ev, SERVICE_EVENT_FIELDS[ev.type]);
}
