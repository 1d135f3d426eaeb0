// Client → server frames (docs/protocol.md, section 5), checked into typed ops. Anything else is a bad frame:
// parsing never throws and never trusts a field's type.

import { randomUUID } from 'node:crypto';
import { idProblem, MAX_ID_LENGTH } from '../../engine/mod.ts';
import type { Principal } from '../auth/principal.ts';

export type AgentOpName = 'status' | 'accept' | 'decline' | 'complete' | 'message';

export type ClientOp =
  | { op: 'sub'; topic: string; since?: number; epoch?: string }
  | { op: 'unsub'; topic: string }
  | { op: 'ping'; id?: string | number }
  | { op: 'event'; event: Record<string, unknown> }
  | { op: AgentOpName; id?: string; status?: string; request?: string; text?: string };

export type Parsed = { ok: true; op: ClientOp } | { ok: false; message: string; ref?: string };

const MAX_TOPIC_LENGTH = 300;
const AGENT_OPS: readonly string[] = ['status', 'accept', 'decline', 'complete', 'message'];

export function parseOp(value: unknown): Parsed {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    return bad('a frame must be an object with an "op"');
  }
  const frame = value as Record<string, unknown>;
  const op = frame.op;
  switch (op) {
    case 'sub': {
      const topic = topicOf(frame);
      if (topic === undefined) return bad('sub needs a "topic" string');
      const { since, epoch } = frame;
      if (since !== undefined && since !== null && !(Number.isSafeInteger(since) && (since as number) >= 0)) {
        return bad('"since" must be a non-negative integer');
      }
      if (epoch !== undefined && epoch !== null && typeof epoch !== 'string') return bad('"epoch" must be a string');
      const sub: ClientOp = { op: 'sub', topic };
      if (typeof since === 'number') sub.since = since;
      if (typeof epoch === 'string') sub.epoch = epoch;
      return { ok: true, op: sub };
    }
    case 'unsub': {
      const topic = topicOf(frame);
      return topic === undefined ? bad('unsub needs a "topic" string') : { ok: true, op: { op: 'unsub', topic } };
    }
    case 'ping': {
      const id = frame.id;
      if (id === undefined || id === null) return { ok: true, op: { op: 'ping' } };
      if ((typeof id === 'string' && id.length <= 2 * MAX_ID_LENGTH) || Number.isFinite(id)) return { ok: true, op: { op: 'ping', id: id as string | number } };
      return bad('"id" must be a short string or a number');
    }
    case 'event': {
      const event = frame.event;
      if (typeof event !== 'object' || event === null || Array.isArray(event) || ArrayBuffer.isView(event)) {
        return bad('event needs an "event" object');
      }
      return { ok: true, op: { op: 'event', event: event as Record<string, unknown> } };
    }
    default:
      if (typeof op === 'string' && AGENT_OPS.includes(op)) return parseAgentOp(op as AgentOpName, frame);
      return bad(typeof op === 'string' ? `unknown op ${JSON.stringify(op.slice(0, 40))}` : 'a frame needs an "op" string');
  }
}

function parseAgentOp(op: AgentOpName, frame: Record<string, unknown>): Parsed {
  const { id, status, request, text } = frame;
  // The op's id becomes its event's id: the same rule (1–128 characters, no control characters).
  if (id !== undefined && idProblem(id) !== null) return bad(`"id" ${idProblem(id)}`);
  const ref = typeof id === 'string' ? id : undefined;
  if (op === 'status') {
    if (typeof status !== 'string') return bad('status needs a "status" string', ref);
    return { ok: true, op: { op, id: ref, status } };
  }
  if (typeof request !== 'string') return bad(`${op} needs a "request" string`, ref);
  if (op === 'message') {
    if (typeof text !== 'string') return bad('message needs a "text" string', ref);
    return { ok: true, op: { op, id: ref, request, text } };
  }
  return { ok: true, op: { op, id: ref, request } };
}

/**
 * The event an agent or customer op stands for. The sender's identity fills `agent` / `from`, so
 * maySend then judges it exactly like the same event sent with `{"op":"event"}`.
 */
export function opToEvent(op: Extract<ClientOp, { op: AgentOpName }>, principal: Principal): Record<string, unknown> {
  const id = op.id ?? `ws:${randomUUID()}`;
  switch (op.op) {
    case 'status':
      return { id, type: 'agent.status', agent: principal.sub, status: op.status };
    case 'accept':
      return { id, type: 'service.accepted', request: op.request, agent: principal.sub };
    case 'decline':
      return { id, type: 'service.declined', request: op.request, agent: principal.sub };
    case 'complete':
      return { id, type: 'service.completed', request: op.request };
    case 'message':
      return { id, type: 'service.message', request: op.request, from: principal.role === 'agent' ? 'agent' : 'customer', text: op.text };
  }
}

function topicOf(frame: Record<string, unknown>): string | undefined {
  const topic = frame.topic;
  return typeof topic === 'string' && topic.length > 0 && topic.length <= MAX_TOPIC_LENGTH ? topic : undefined;
}

function bad(message: string, ref?: string): Parsed {
  return ref === undefined ? { ok: false, message } : { ok: false, message, ref };
}
