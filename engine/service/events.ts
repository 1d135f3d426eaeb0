// The shape of every service event (plus the gateway's presence events `agent.connected` /
// `agent.disconnected`), checked and copied before any state is read.

import { LANGUAGE_TAG, type EventSchema, type FieldRule } from '../validate.ts';
import { CHANNELS } from './types.ts';

const topicId: FieldRule = { kind: 'id', noAt: true };
const id: FieldRule = { kind: 'id' };
// An agent sits in up to skills × channels × (languages + 1) lanes: these bound that fan-out.
export const MAX_SKILLS = 50;
export const MAX_LANGUAGES = 10;
export const MAX_CAPACITY = 1000;
export const MAX_TEXT = 4000;

const language: FieldRule = { ...LANGUAGE_TAG, optional: true };

const capacityFields: EventSchema = Object.fromEntries(
  CHANNELS.map((c): [string, FieldRule] => [c, { kind: 'int', min: 0, max: MAX_CAPACITY, optional: true }]),
);

export const SERVICE_EVENT_FIELDS: Record<string, EventSchema> = {
  'agent.online': {
    agent: topicId,
    skills: { kind: 'map', key: topicId, value: { kind: 'int', min: 1, max: 10 }, min: 1, max: MAX_SKILLS },
    capacity: { kind: 'object', fields: capacityFields },
    languages: { kind: 'array', of: LANGUAGE_TAG, min: 0, max: MAX_LANGUAGES, optional: true },
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
    priority: { kind: 'int', min: 0, max: 10, optional: true },
    // The customer's first words: the bot may answer them (engine/service/bot/).
    text: { kind: 'text', max: MAX_TEXT, optional: true },
  },
  'service.accepted': { request: topicId, agent: topicId },
  'service.declined': { request: topicId, agent: topicId },
  'service.message': { request: topicId, from: { kind: 'enum', values: ['customer', 'agent'] }, text: { kind: 'text', max: MAX_TEXT } },
  'service.completed': { request: topicId },
};

