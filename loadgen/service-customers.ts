// The customers of a service run with first contact: once its `service.requested` is answered,
// a request's customer follows it on `request/<id>` over its own connection (chat-customers.ts,
// the same connection the desk's chat then uses) and acts as its plan says
// (scenarios/first-contact.ts):
// The bot answers in the commit that raises the request, before its customer may subscribe, so
// the request's answer says so (`bot: true`) and the customer reads what it said from
// GET /v1/requests/:request/messages once subscribed, as the protocol has clients do:
// - a bot answer with the entry its words were about: after reading it (about a second), the
//   customer resolves the request (`service.resolved` by bot) or, for the others, asks for a
//   person (`service.escalated`); a bot answer with another entry: it asks for a person; one that
//   says the bot does not know: it waits for a person;
// - completed by an agent: a share rate it (`service.rated`, scores in SCORE_CYCLE's order), and
//   the back office opens a case for a share (`case.opened` over HTTP with the run's ingest
//   token), resolving half of those at once (`case.updated`).
// At most `max` customer connections are open at once; a request answered while all are taken
// is not followed (counted), but its customer still answers the bot — over the run's HTTP ingest,
// batched — so every customer's word reaches the server (its containment counts them all). The
// desks tell when they are assigned a request, which ends its wait for a person (the predicted
// wait's accuracy, service-report.ts).

import type { InputEvent } from '../engine/mod.ts';
import type { ChatCustomers, CustomerLine, RequestWatch } from './chat-customers.ts';
import { getJson, keepAliveAgent } from './http-get.ts';
import type { EventAnswer } from './ingest.ts';
import type { Poster } from './http-poster.ts';
import { epochMs } from './latency.ts';
import { SCORE_CYCLE, type CustomerPlan, type FirstContact } from './scenarios/first-contact.ts';
import { prng } from './stock-workload.ts';
import { FirstContactTally } from './service-report.ts';

/** How long a customer reads the bot's answer before saying whether it helped (mean; 0.5–1.5×). */
const READ_MS = 1000;
/** Customers without a connection of their own send their answers to the bot in one POST this often. */
const OUTBOX_MS = 50;

interface Followed {
  request: string;
  subject: string;
  topic: string;
  plan: CustomerPlan;
  line: CustomerLine;
  /** The request's scheduled send time. */
  sentMs: number;
  /** The request's answer said the bot answered (counted then). */
  botAnnounced: boolean;
  /** …and its words are still to be read, once subscribed. */
  botToRead: boolean;
  botAt?: number;
  agentAt?: number;
  ready: boolean;
  /** The entry of a bot answer the customer has yet to act on. */
  toAct?: string;
  /** The score it sent. */
  score?: number;
  acted: boolean;
  /** Completed or resolved. */
  ended: boolean;
  /** Events sent and not yet answered. */
  pending: number;
  timer?: NodeJS.Timeout;
}

export interface ServiceCustomersOptions {
  lines: Pick<ChatCustomers, 'follow'>;
  firstContact: FirstContact;
  /** The run's ingest poster (for the back office's cases). */
  post: Poster;
  idPrefix: string;
  seed?: number;
  /** The request's messages so far, read as its customer (GET /v1/requests/:request/messages). */
  messages: RequestMessages;
}

export interface RequestMessages {
  read(request: string, subject: string): Promise<Array<Record<string, unknown>>>;
  close?(): void;
}

/** Reads a request's messages over keep-alive connections, each with its customer's own token. */
export function requestMessages(url: string, mintCustomer: (subject: string) => string): RequestMessages {
  const agent = keepAliveAgent(16);
  return {
    read: async (request, subject) => {
      const body = (await getJson(`${url}/v1/requests/${encodeURIComponent(request)}/messages`, mintCustomer(subject), agent)) as { messages?: unknown };
      return Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
    },
    close: () => agent.destroy(),
  };
}

export class ServiceCustomers {
  readonly tally = new FirstContactTally();
  private readonly followed = new Map<string, Followed>();
  /** Requests queued with a predicted wait: the prediction and when the customer got it. */
  private readonly waiting = new Map<string, { predictedMs: number; fromMs: number }>();
  private readonly rand: () => number;
  private ratingsSent = 0;
  private casesInFlight = 0;
  /** The answers of customers not followed, waiting for the next POST; their reading timers; how many are not answered yet. */
  private readonly outbox: Array<Record<string, unknown> & { id: string; type: string }> = [];
  private outboxTimer: NodeJS.Timeout | undefined;
  private readonly reading = new Set<NodeJS.Timeout>();
  private unfollowedPending = 0;
  private stopped = false;

  constructor(private readonly o: ServiceCustomersOptions) {
    this.rand = prng(o.seed ?? 23);
  }

  /** The answer to one of the run's events; only `service.requested` concerns the customers. */
  answered(ev: InputEvent, result: EventAnswer | undefined, nowMs: number): void {
    if (ev.type !== 'service.requested') return;
    const request = ev.request as string;
    const plan = this.o.firstContact.takePlan(request);
    const t = this.tally;
    if (result?.ok !== true) return void t.refused++;
    t.requests++;
    const answer = result as unknown as Record<string, unknown>;
    this.expectWait(request, answer.predictedWaitMs, nowMs);
    const bot = answer.bot === true;
    if (this.stopped || plan === undefined) return;
    if (bot) t.botAnswered++;
    const f: Partial<Followed> = { request, subject: ev.subject as string, topic: ev.topic as string, plan, sentMs: ev.ts ?? nowMs, botAnnounced: bot, botToRead: bot, ready: false, acted: false, ended: false, pending: 0 };
    const line = this.o.lines.follow(request, f.subject!, this.watch(f as Followed));
    if (line === undefined) {
      t.notFollowed++;
      if (bot) this.answerUnfollowed(request, f.subject!, plan);
      return;
    }
    t.followed++;
    f.line = line;
    this.followed.set(request, f as Followed);
    if ((f as Followed).ready) this.readBotAnswer(f as Followed);
  }

  /** The bot's first answer, as its customer reads it: the entry it answered with, or undefined when it did not know. */
  private async botEntry(request: string, subject: string): Promise<{ said: boolean; faq?: string }> {
    const messages = await this.o.messages.read(request, subject);
    const said = messages.find((m) => m.from === 'bot');
    return { said: said !== undefined, ...(typeof said?.faq === 'string' ? { faq: said.faq } : {}) };
  }

  /** Subscribed, a followed customer the bot answered reads what it said: that is when it sees the answer. */
  private readBotAnswer(f: Followed): void {
    if (!f.botToRead) return;
    f.botToRead = false;
    f.pending++;
    this.botEntry(f.request, f.subject).then(
      ({ said, faq }) => {
        f.pending--;
        if (said) this.firstSeen(f, 'bot', epochMs());
        if (faq !== undefined && !f.acted) f.toAct = faq;
        this.actLater(f);
        this.closeIfDone(f);
      },
      (error: Error) => {
        f.pending--;
        this.tally.error(error.message);
        this.closeIfDone(f);
      },
    );
  }

  /** A desk was assigned `request` at `nowMs`: its wait for a person is over. */
  assigned(request: string, nowMs: number): void {
    const w = this.waiting.get(request);
    if (w === undefined) return;
    this.waiting.delete(request);
    this.tally.waited(w.predictedMs, nowMs - w.fromMs);
  }

  /** Undefined once every followed request has ended and every event sent was answered; else what is left. */
  unsettled(): string | undefined {
    let open = 0;
    let pending = 0;
    for (const f of this.followed.values()) {
      if (!f.ended) open++;
      pending += f.pending;
    }
    pending += this.casesInFlight + this.unfollowedPending;
    return open === 0 && pending === 0 ? undefined : `${open} followed requests not ended, ${pending} customer events unanswered`;
  }

  /** Closes every customer's connection; the tally is final. */
  stop(): FirstContactTally {
    this.stopped = true;
    for (const timer of this.reading) clearTimeout(timer);
    clearTimeout(this.outboxTimer);
    this.o.messages.close?.();
    const now = epochMs();
    for (const f of this.followed.values()) this.finish(f, now);
    this.followed.clear();
    this.tally.notReached += this.waiting.size;
    this.waiting.clear();
    return this.tally;
  }

  private expectWait(request: string, predicted: unknown, nowMs: number): void {
    if (predicted === null) this.tally.unbounded++;
    if (typeof predicted === 'number' && !this.waiting.has(request)) this.waiting.set(request, { predictedMs: predicted, fromMs: nowMs });
  }

  private watch(f: Followed): RequestWatch {
    return {
      ready: () => {
        f.ready = true;
        this.readBotAnswer(f);
        this.actLater(f);
      },
      message: (from, data, now) => {
        this.firstSeen(f, from, now);
        // A later bot answer (to a later message, or once the customer was subscribed in time) names its entry.
        if (from === 'bot' && !f.acted && typeof data.faq === 'string') {
          f.toAct = data.faq;
          this.actLater(f);
        }
      },
      status: (status) => {
        if (status === 'completed') this.completed(f);
        if (status === 'completed' || status === 'resolved') {
          f.ended = true;
          clearTimeout(f.timer);
          this.closeIfDone(f);
        }
      },
      result: (ref, ok, answer) => this.result(f, ref, ok, answer),
      gone: () => {
        f.ended = true;
        f.pending = 0;
        this.tally.error(`request/${f.request}: the customer's connection was lost`);
      },
    };
  }

  private firstSeen(f: Followed, from: 'bot' | 'agent', now: number): void {
    if (f.botAt === undefined && f.agentAt === undefined) this.tally.firstResponse.recordSince(f.sentMs, now);
    if (from === 'bot' && f.botAt === undefined) {
      // A bot answer the request's own answer did not announce (a later one) counts here.
      if (!f.botAnnounced) this.tally.botAnswered++;
      f.botAnnounced = true;
      f.botAt = now;
    }
    if (from === 'agent') f.agentAt ??= now;
  }

  /** Once subscribed (its events' answers come on the connection), the customer reads, then acts. */
  private actLater(f: Followed): void {
    if (!f.ready || f.acted || f.toAct === undefined || f.timer !== undefined) return;
    f.timer = setTimeout(() => {
      f.timer = undefined;
      if (f.ended || f.acted || this.stopped) return;
      f.acted = true;
      this.send(f, this.answerToBot(f.request, f.plan, f.toAct!));
    }, READ_MS * (0.5 + this.rand()));
  }

  /** What the customer says to the bot's answer with entry `faq`: resolved when it was the right one and enough, else a person please. */
  private answerToBot(request: string, plan: CustomerPlan, faq: string): Record<string, unknown> & { id: string; type: string } {
    const right = faq === plan.faq;
    if (right) this.tally.botRight++;
    return right && plan.acceptsBot ? { id: `${request}-resolve`, type: 'service.resolved', request, by: 'bot' } : { id: `${request}-escalate`, type: 'service.escalated', request };
  }

  /** A customer with no connection of its own reads the bot's answer, then answers it over the run's HTTP ingest. */
  private answerUnfollowed(request: string, subject: string, plan: CustomerPlan): void {
    if (this.stopped) return;
    this.unfollowedPending++;
    this.botEntry(request, subject).then(
      ({ faq }) => {
        // "Don't know": nothing to answer; it waits for a person.
        if (faq === undefined || this.stopped) return void this.unfollowedPending--;
        const timer = setTimeout(() => {
          this.reading.delete(timer);
          this.outbox.push(this.answerToBot(request, plan, faq));
          this.outboxTimer ??= setTimeout(() => void this.flushOutbox(), OUTBOX_MS);
        }, READ_MS * (0.5 + this.rand()));
        this.reading.add(timer);
      },
      (error: Error) => {
        this.unfollowedPending--;
        this.tally.error(error.message);
      },
    );
  }

  private async flushOutbox(): Promise<void> {
    this.outboxTimer = undefined;
    const batch = this.outbox.splice(0);
    if (batch.length === 0 || this.stopped) return;
    const answer = await this.o.post(batch as InputEvent[]);
    batch.forEach((ev, k) => {
      const r = answer.results?.[k] as (EventAnswer & Record<string, unknown>) | undefined;
      this.unfollowedPending--;
      this.botAnswerAnswered(ev.type, ev.request as string, r?.ok === true, r?.error?.code ?? answer.failure ?? `http_${answer.status}`, r ?? {});
    });
  }

  /** The server's answer to a customer's resolve or escalation. */
  private botAnswerAnswered(type: string, request: string, ok: boolean, code: string, answer: Record<string, unknown>): void {
    const t = this.tally;
    // Ended while the customer was reading the bot's answer (an agent completed it): too late, no error.
    if (!ok && code === 'conflict') t.tooLate++;
    else if (!ok) t.error(`${type} refused: ${code}`);
    else if (type === 'service.resolved') t.botResolved++;
    else {
      t.escalated++;
      // Escalated from the bot, the request joins the queue now, with a prediction of its own.
      this.expectWait(request, answer.predictedWaitMs, epochMs());
    }
  }

  private completed(f: Followed): void {
    if (f.plan.rates) {
      const score = SCORE_CYCLE[this.ratingsSent++ % SCORE_CYCLE.length];
      f.score = score;
      this.tally.ratings.sent++;
      this.send(f, { id: `${f.request}-rate`, type: 'service.rated', request: f.request, score });
    }
    if (f.plan.caseAfter) void this.openCase(f, f.plan.caseAfter);
  }

  private send(f: Followed, event: Record<string, unknown> & { id: string; type: string }): void {
    f.pending++;
    f.line.send(event);
  }

  private result(f: Followed, ref: string, ok: boolean, answer: Record<string, unknown>): void {
    f.pending = Math.max(0, f.pending - 1);
    const t = this.tally;
    const code = String((answer.error as { code?: unknown } | undefined)?.code ?? 'unknown');
    if (ref.endsWith('-rate')) {
      if (ok) {
        t.ratings.accepted++;
        const score = String(f.score);
        t.ratings.byScore[score] = (t.ratings.byScore[score] ?? 0) + 1;
      } else t.refusal(t.ratings.refused, code);
    } else if (ref.endsWith('-resolve')) this.botAnswerAnswered('service.resolved', f.request, ok, code, answer);
    else if (ref.endsWith('-escalate')) this.botAnswerAnswered('service.escalated', f.request, ok, code, answer);
    this.closeIfDone(f);
  }

  private closeIfDone(f: Followed): void {
    if (!f.ended || f.pending > 0) return;
    this.finish(f, epochMs());
    this.followed.delete(f.request);
  }

  private finish(f: Followed, now: number): void {
    clearTimeout(f.timer);
    this.tally.classify(f.sentMs, f.botAt, f.agentAt, now);
    f.line.close();
  }

  /** The back office opens a case for the request (and resolves it at once for `resolve`), over HTTP. */
  private async openCase(f: Followed, after: 'open' | 'resolve'): Promise<void> {
    const c = `${f.request}-case`;
    const t = this.tally;
    this.casesInFlight++;
    try {
      const opened = await this.postOne({ id: `${c}-opened`, type: 'case.opened', case: c, subject: f.subject, topic: f.topic, team: `${this.o.idPrefix}-care`, summary: 'follow-up after the chat', request: f.request });
      if (opened !== 'ok') return t.refusal(t.cases.refused, opened);
      t.cases.opened++;
      if (after !== 'resolve') return;
      const resolved = await this.postOne({ id: `${c}-resolved`, type: 'case.updated', case: c, status: 'resolved', note: 'refund sent' });
      if (resolved === 'ok') t.cases.resolved++;
      else t.refusal(t.cases.refused, resolved);
    } finally {
      this.casesInFlight--;
    }
  }

  private async postOne(ev: InputEvent): Promise<string> {
    const answer = await this.o.post([ev]);
    const r = answer.results?.[0];
    if (r === undefined) return answer.failure ?? `http_${answer.status}`;
    return r.ok ? 'ok' : (r.error?.code ?? 'unknown');
  }
}
