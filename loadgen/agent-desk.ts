// One agent desk for the load generator, on its WebSocket client (ws-wire.ts): a WebSocket with
// the agent's token, subscribed to `agent/<id>`, behaving like a person at a desk. An offer is
// accepted after a think time; an assignment is worked for a handle time, then completed. What
// happens is reported to a tally shared by the thread's desks. No reconnect and no decline: a
// lost desk or a refused op is reported, not hidden.
//
// Chat (when `spec.chat` is given): on `assigned` the desk also subscribes to `request/<id>` and
// has a customer connection opened for it (chat-customers.ts); once both have their snapshot it
// sends `messages` chat messages and waits for the customer's answer to each. The completion goes
// out when both the handle time and the chat are over, whichever is later.

import type { ResultFrame, SnapshotFrame, UpdateFrame } from '../client/mod.ts';
import { decodeServerFrame, frameSender } from './omni-frames.ts';
import { epochMs } from './latency.ts';
import { subscriberUrl } from './omni-subscriber.ts';
import { chatText, sentAtOf, type CustomerHandlers } from './chat-customers.ts';
import type { Format } from './types.ts';
import { openWire, type WireSocket } from './ws-wire.ts';

export interface DeskTally {
  /** The desk's `agent/<id>` snapshot arrived: it will see every offer from now on. */
  ready(): void;
  /** An offer of `request` received at `nowMs`. */
  offered(request: string, nowMs: number): void;
  /** The accept sent at `sentMs` came back as `assigned` at `nowMs`. */
  assigned(request: string, sentMs: number, nowMs: number): void;
  /** The server confirmed a completion. */
  completed(request: string): void;
  /** An offer taken back (timeout, offline, completed elsewhere) before it was assigned here. */
  revoked(request: string): void;
  /** The server refused our accept or complete of `request` (e.g. `no_offer`): that work is gone. */
  refused(kind: 'accept' | 'complete', request: string, code: string): void;
  /** An `error` op, an undecodable message, a lost connection. */
  error(detail: string): void;
  /** The customer ended `request` (resolved it) while it was assigned here: the work is gone. */
  endedByCustomer(request: string): void;
  /** A chat message sent at `sentMs` reached the other side at `nowMs`. */
  relayed(to: 'customer' | 'agent', sentMs: number, nowMs: number): void;
}

export interface DeskChat {
  /** Chat messages the agent sends per assigned request (each answered by the customer). */
  messages: number;
  /** Opens the customer's side of `request`; false when it cannot chat (no free customer connection). */
  join(request: string, subject: string, handlers: CustomerHandlers): boolean;
}

export interface DeskSpec {
  url: string;
  format: Format;
  token: string;
  agent: string;
  /** Milliseconds from an offer to its accept, drawn per offer. */
  think: () => number;
  /** Milliseconds from an assignment to its completion, drawn per assignment. */
  handle: () => number;
  chat?: DeskChat;
  /**
   * Customers may end their requests themselves (first contact: `service.resolved` after a bot
   * answer, even once an agent has it): the read of `request/<id>` ending, or the completion
   * refused as no longer ours, then means that — not an error.
   */
  customersMayEnd?: boolean;
}

export interface AgentDesk {
  close(): void;
}

type Sent = { kind: 'accept' | 'complete' | 'message'; request: string };

/** An assigned request until its completion goes out. */
interface Work {
  handled: boolean;
  /** Undefined: no chat (off, or no customer connection free), or the chat is over. */
  chat?: { agentReady: boolean; customerReady: boolean; answers: number };
}

export function openDesk(spec: DeskSpec, tally: DeskTally): AgentDesk {
  const topic = `agent/${spec.agent}`;
  /** When each accept went out, until its `assigned` (or `revoked`) arrives. */
  const acceptSentAt = new Map<string, number>();
  /** Offers still being thought about (their accept not sent yet). */
  const thinking = new Map<string, NodeJS.Timeout>();
  /**
   * Requests revoked while our accept was on its way (the customer resolved it, it timed out):
   * the accept's refusal is that same revoke, counted once, not an error.
   */
  const overtaken = new Set<string>();
  /** Our ops by id, to know what a `result` answers. */
  const sent = new Map<string, Sent>();
  const work = new Map<string, Work>();
  const timers = new Set<NodeJS.Timeout>();
  let ops = 0;
  let closing = false;
  // A failure is followed by a close: one error for both.
  let failed = false;

  const send = frameSender(() => socket, spec.format);
  const later = (ms: number, act: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (socket.open) act();
    }, ms);
    timers.add(timer);
    return timer;
  };
  // Ids are per desk and never repeat: a request offered to this agent twice needs two accepts.
  const op = (kind: Sent['kind'], request: string, text = '') => {
    const id = `${spec.agent}-op-${ops++}`;
    sent.set(id, { kind, request });
    if (kind === 'accept') acceptSentAt.set(request, epochMs());
    send(kind === 'message' ? { op: kind, request, text, id } : { op: kind, request, id });
  };
  // Unsubscribed first: a completion ends the agent's read of `request/<id>` (`ended`) anyway.
  const completeIfDone = (request: string) => {
    const w = work.get(request);
    if (w === undefined || !w.handled || w.chat !== undefined) return;
    work.delete(request);
    if (spec.chat) send({ op: 'unsub', topic: `request/${request}` });
    op('complete', request);
  };
  const chatOver = (request: string) => {
    const w = work.get(request);
    if (w === undefined) return;
    w.chat = undefined;
    completeIfDone(request);
  };
  const startChatIfReady = (request: string) => {
    const chat = work.get(request)?.chat;
    if (!chat?.agentReady || !chat.customerReady) return;
    for (let k = 0; k < spec.chat!.messages; k++) op('message', request, chatText('agent', k));
  };
  const beginChat = (request: string, subject: unknown) => {
    const w = work.get(request)!;
    if (spec.chat === undefined || spec.chat.messages === 0 || typeof subject !== 'string') return;
    const chat = { agentReady: false, customerReady: false, answers: 0 };
    const joined = spec.chat.join(request, subject, {
      ready: () => {
        chat.customerReady = true;
        startChatIfReady(request);
      },
      gone: () => chatOver(request),
    });
    if (!joined) return;
    w.chat = chat;
    send({ op: 'sub', topic: `request/${request}` });
  };
  const onRequestTopic = (request: string, msg: SnapshotFrame | UpdateFrame, now: number) => {
    const w = work.get(request);
    if (msg.op === 'snapshot') {
      if (w?.chat === undefined) return;
      // An event topic has one snapshot per sub (docs/protocol.md); another would start the chat over.
      if (w.chat.agentReady) return tally.error(`request/${request}: a second snapshot`);
      w.chat.agentReady = true;
      return startChatIfReady(request);
    }
    const data = msg.data as Record<string, unknown> | null;
    // Status changes and our own messages echoed back are not the customer talking.
    if (data?.type !== 'message' || data.from !== 'customer') return;
    const sentMs = sentAtOf(data.text);
    if (sentMs === undefined) return tally.error(`request/${request}: customer message without a send time`);
    tally.relayed('agent', sentMs, now);
    if (w?.chat !== undefined && ++w.chat.answers >= spec.chat!.messages) chatOver(request);
  };

  const onUpdate = (data: Record<string, unknown> | null, now: number) => {
    const request = data?.request;
    if (typeof request !== 'string') return tally.error(`${topic} update without a request`);
    switch (data!.type) {
      case 'offer':
        tally.offered(request, now);
        thinking.set(
          request,
          later(spec.think(), () => {
            thinking.delete(request);
            op('accept', request);
          }),
        );
        return;
      case 'assigned': {
        const sentMs = acceptSentAt.get(request);
        acceptSentAt.delete(request);
        if (sentMs === undefined) return tally.error(`assigned ${request} without an accept from this desk`);
        tally.assigned(request, sentMs, now);
        work.set(request, { handled: false });
        beginChat(request, data!.customer);
        return later(spec.handle(), () => {
          const w = work.get(request);
          if (w === undefined) return;
          w.handled = true;
          completeIfDone(request);
        });
      }
      case 'revoked': {
        const timer = thinking.get(request);
        if (timer !== undefined) {
          clearTimeout(timer);
          timers.delete(timer);
          thinking.delete(request);
        }
        if (acceptSentAt.delete(request)) overtaken.add(request);
        return tally.revoked(request);
      }
      default:
        return tally.error(`unexpected ${topic} update type ${String(data!.type)}`);
    }
  };

  const onResult = (msg: ResultFrame) => {
    const mine = typeof msg.ref === 'string' ? sent.get(msg.ref) : undefined;
    if (mine === undefined) return tally.error('result for an op this desk never sent');
    sent.delete(msg.ref);
    if (msg.ok !== true) {
      const code = msg.error?.code;
      if (mine.kind === 'accept') acceptSentAt.delete(mine.request);
      if (mine.kind === 'accept' && overtaken.delete(mine.request)) return;
      // No longer ours (forbidden) or already ended (conflict): its customer resolved it meanwhile.
      const endedByCustomer = spec.customersMayEnd === true && (code === 'forbidden' || code === 'conflict');
      if (mine.kind === 'message') return endedByCustomer ? undefined : tally.error(`message refused: ${String(code)}`);
      if (mine.kind === 'complete' && endedByCustomer) return tally.endedByCustomer(mine.request);
      return tally.refused(mine.kind, mine.request, String(code));
    }
    if (mine.kind === 'accept') overtaken.delete(mine.request);
    if (mine.kind === 'complete') tally.completed(mine.request);
  };

  const socket: WireSocket = openWire(subscriberUrl(spec), {
    onOpen: () => send({ op: 'sub', topic }),
    onMessage(data, binary) {
      const now = epochMs();
      const msg = decodeServerFrame(data, binary);
      if (typeof msg === 'string') return tally.error(msg);
      const msgTopic = 'topic' in msg && typeof msg.topic === 'string' ? msg.topic : '';
      if (msgTopic.startsWith('request/') && (msg.op === 'snapshot' || msg.op === 'update')) return onRequestTopic(msgTopic.slice('request/'.length), msg, now);
      // The read of a request ends (`ended`) once it is no longer ours: expected after our completion.
      if (msg.op === 'ended' && msgTopic.startsWith('request/') && !work.has(msgTopic.slice('request/'.length))) return;
      // Resolved by its customer: our read of it ends, or our sub to it (made on `assigned`) is refused.
      const refusedSub = msg.op === 'error' && msg.code === 'forbidden' && typeof msg.ref === 'string' && msg.ref.startsWith('request/');
      const lost = msg.op === 'ended' && msgTopic.startsWith('request/') ? msgTopic : refusedSub ? (msg.ref as string) : undefined;
      if (lost !== undefined && spec.customersMayEnd && work.delete(lost.slice('request/'.length))) return tally.endedByCustomer(lost.slice('request/'.length));
      switch (msg.op) {
        case 'snapshot':
          return msg.topic === topic ? tally.ready() : tally.error(`snapshot of ${String(msg.topic)}`);
        case 'update':
          return msg.topic === topic ? onUpdate(msg.data as Record<string, unknown> | null, now) : tally.error(`update of ${String(msg.topic)}`);
        case 'result':
          return onResult(msg);
        case 'error':
          return tally.error(`error ${String(msg.code)}: ${String(msg.message)}`);
        default:
          return tally.error(`unexpected op ${String(msg.op)}`);
      }
    },
    onClose: (code) => {
      for (const timer of timers) clearTimeout(timer);
      if (!closing && !failed) tally.error(`desk connection closed by the server (${code})`);
    },
    onError: (error) => {
      failed = true;
      if (!closing) tally.error(error.message);
    },
  });

  return {
    close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      socket.close();
    },
  };
}
