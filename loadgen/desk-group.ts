// The agent desks of a run, in the main thread: they are few (at most MAX_DESKS) and get one
// message per offer and per assignment, far less than the subscribers' pushes, so they need no
// worker threads. Two latencies:
// - request→offer = offer received − the request's *scheduled* send time. Taken from the
//   schedule rather than from the offer's `ts`: an offer made when a completion freed a unit
//   carries the completion's ts, which would leave the request's wait in the queue out. So a
//   request that waited for a free agent shows its whole wait. Only a request's first offer
//   counts (a re-offer after a revoke is the same request, already measured).
// - accept→assigned = `assigned` received − our accept sent.
// - chat relay = a chat message received on `request/<id>` − its `message` op sent, both ways
//   (agent → customer and customer → agent) in one recorder; the counts tell the ways apart.

import { prng } from './stock-workload.ts';
import { openDesk, type AgentDesk, type DeskChat, type DeskTally } from './agent-desk.ts';
import { ChatCustomers } from './chat-customers.ts';
import { LatencyRecorder } from './latency.ts';
import { MAX_DESKS, type Format } from './types.ts';

const READY_TIMEOUT_MS = 20_000;
const ERROR_SAMPLES = 5;

export interface DeskGroupOptions {
  url: string;
  format: Format;
  agents: string[];
  tokens: string[];
  /** Mean think (offer → accept) and handle (assigned → complete) times; each drawn at 0.5–1.5×. */
  thinkMs: number;
  handleMs: number;
  seed?: number;
  /** Chat messages per assigned request each way (0 = no chat), and the most customer connections at once. */
  chatMessages?: number;
  chatCustomers?: number;
  /** A customer's token (role customer, sub = subject); needed when chatMessages > 0. */
  mintCustomer?(subject: string): string;
  /** When the request was scheduled (epoch ms), if it is one of this run's. */
  scheduledAt(request: string): number | undefined;
  /** Customer connections even without chat: customers follow their requests (first contact). */
  customersFollow?: boolean;
  /** A desk was assigned `request` (its `assigned` received at `nowMs`). */
  onAssigned?(request: string, nowMs: number): void;
}

/** The desks' figures for the report. */
export interface DeskFinal {
  desks: number;
  ready: number;
  /** Distinct requests that got an offer. */
  requestsOffered: number;
  offers: number;
  assigned: number;
  completed: number;
  revoked: number;
  /** Assigned requests their customer resolved before the desk completed them (first contact). */
  endedByCustomer?: number;
  errors: number;
  errorSamples: string[];
  offer: LatencyRecorder;
  assign: LatencyRecorder;
  /** Chat messages relayed to the customers and to the agents, and assigned requests that did not chat (no free customer connection). */
  chat: { toCustomer: number; toAgent: number; skipped: number };
  chatLatency: LatencyRecorder;
}

export class DeskGroup implements DeskTally {
  readonly offer = new LatencyRecorder();
  readonly assign = new LatencyRecorder();
  readonly chatLatency = new LatencyRecorder();
  private customers: ChatCustomers | undefined;
  private toCustomer = 0;
  private toAgent = 0;
  private readonly desks: AgentDesk[] = [];
  private readonly offeredRequests = new Set<string>();
  /** Requests offered to or assigned to a desk and not yet completed or revoked. */
  private readonly inHand = new Set<string>();
  private readyCount = 0;
  private offers = 0;
  private assignedCount = 0;
  private completedCount = 0;
  private revokedCount = 0;
  private endedByCustomerCount = 0;
  private errors = 0;
  private readonly errorSamples: string[] = [];
  private onReady: (() => void) | undefined;

  private constructor(private readonly o: DeskGroupOptions) {}

  /** Opens every desk and waits until each has its `agent/<id>` snapshot (or READY_TIMEOUT_MS). */
  static async start(o: DeskGroupOptions): Promise<DeskGroup> {
    const group = new DeskGroup(o);
    const rand = prng(o.seed ?? 17);
    const jitter = (mean: number) => () => mean * (0.5 + rand());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, READY_TIMEOUT_MS);
      group.onReady = () => {
        if (group.readyCount + group.errors < o.agents.length) return;
        clearTimeout(timer);
        resolve();
      };
      const chat = group.openChat();
      o.agents.forEach((agent, k) => group.desks.push(openDesk({ url: o.url, format: o.format, token: o.tokens[k], agent, think: jitter(o.thinkMs), handle: jitter(o.handleMs), chat, customersMayEnd: o.customersFollow === true }, group)));
      if (o.agents.length === 0) resolve();
    });
    group.onReady = undefined;
    return group;
  }

  private openChat(): DeskChat | undefined {
    const messages = this.o.chatMessages ?? 0;
    if (messages === 0 && this.o.customersFollow !== true) return undefined;
    if (this.o.mintCustomer === undefined) throw new Error('chat needs a way to mint customer tokens');
    const customers = new ChatCustomers({ url: this.o.url, format: this.o.format, max: this.o.chatCustomers ?? 200, mintCustomer: this.o.mintCustomer }, this);
    this.customers = customers;
    if (messages === 0) return undefined;
    return { messages, join: (request, subject, handlers) => customers.join(request, subject, handlers) };
  }

  /** The customers' connections (with chat, or when customers follow their requests). */
  get customerLines(): ChatCustomers | undefined {
    return this.customers;
  }

  get readyDesks(): number {
    return this.readyCount;
  }

  get firstError(): string | undefined {
    return this.errorSamples[0];
  }

  ready(): void {
    this.readyCount++;
    this.onReady?.();
  }

  offered(request: string, nowMs: number): void {
    this.offers++;
    this.inHand.add(request);
    if (this.offeredRequests.has(request)) return;
    this.offeredRequests.add(request);
    const scheduled = this.o.scheduledAt(request);
    if (scheduled !== undefined) this.offer.recordSince(scheduled, nowMs);
  }

  assigned(request: string, sentMs: number, nowMs: number): void {
    this.assignedCount++;
    this.assign.recordSince(sentMs, nowMs);
    this.o.onAssigned?.(request, nowMs);
  }

  completed(request: string): void {
    this.completedCount++;
    this.inHand.delete(request);
  }

  revoked(request: string): void {
    this.revokedCount++;
    this.inHand.delete(request);
  }

  endedByCustomer(request: string): void {
    this.endedByCustomerCount++;
    this.inHand.delete(request);
  }

  refused(kind: 'accept' | 'complete', request: string, code: string): void {
    this.inHand.delete(request);
    this.error(`${kind} refused: ${code}`);
  }

  relayed(to: 'customer' | 'agent', sentMs: number, nowMs: number): void {
    if (to === 'customer') this.toCustomer++;
    else this.toAgent++;
    this.chatLatency.recordSince(sentMs, nowMs);
  }

  error(detail: string): void {
    this.errors++;
    if (this.errorSamples.length < ERROR_SAMPLES && !this.errorSamples.includes(detail)) this.errorSamples.push(detail);
    this.onReady?.();
  }

  /**
   * Undefined once every one of `requests` was offered and the desks hold none of them; else what
   * is left. Without `requests` (first contact: the bot ends some before any offer), only the
   * desks' hands count.
   */
  unsettled(requests?: number): string | undefined {
    if ((requests === undefined || this.offeredRequests.size >= requests) && this.inHand.size === 0) return undefined;
    if (requests === undefined) return `${this.inHand.size} requests still offered to or assigned at the desks (${[...this.inHand].slice(0, 3).join(', ')}${this.inHand.size > 3 ? ', …' : ''})`;
    return `${this.offeredRequests.size} of ${requests} requests offered, ${this.inHand.size} still offered or assigned`;
  }

  /** Closes every desk and returns the figures. */
  stop(): DeskFinal {
    for (const desk of this.desks) desk.close();
    this.customers?.close();
    return {
      desks: this.o.agents.length,
      ready: this.readyCount,
      requestsOffered: this.offeredRequests.size,
      offers: this.offers,
      assigned: this.assignedCount,
      completed: this.completedCount,
      revoked: this.revokedCount,
      endedByCustomer: this.endedByCustomerCount,
      errors: this.errors,
      errorSamples: [...this.errorSamples],
      offer: this.offer,
      assign: this.assign,
      chat: { toCustomer: this.toCustomer, toAgent: this.toAgent, skipped: this.customers?.skipped ?? 0 },
      chatLatency: this.chatLatency,
    };
  }
}
