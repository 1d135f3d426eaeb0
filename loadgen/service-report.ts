// First contact in the report (service scenario): what the customers following their requests
// saw and did (service-customers.ts), set beside the server's own figures read at the end from
// GET /v1/service/stats, as the report's `firstContact` section and its summary rows.
//
// - first response = request scheduled → the first answer its customer saw: the bot's (which
//   comes in the commit that raises the request, so the customer reads it from the request's
//   messages once subscribed) or the first message of an agent on `request/<id>`. Shares: answered by a person within 30 s, else
//   by the bot within 30 s, else by neither (requests sent less than 30 s before the end and
//   still unanswered are `undecided`, not counted as either).
// - containment = requests the customer resolved after a bot answer ÷ requests the bot answered,
//   over every request (customers not followed answer the bot too); first response, the shares,
//   ratings and cases are over the followed requests, whose customers have a connection.
// - CSAT = ratings of 4 or 5 ÷ ratings, of the ratings the server accepted.
// - predicted wait: `predictedWaitMs` from a request's answer (or its escalation's) against the
//   wait that followed, answer received → `assigned` received by a desk; only requests that did
//   reach a person.

import { getJson } from './http-get.ts';
import { LatencyRecorder, round3 } from './latency.ts';

/** Answered within this long counts as answered at once (the product's promise). */
const ANSWER_WITHIN_MS = 30_000;
const MAX_ERROR_SAMPLES = 5;

export interface Shares {
  person: number | null;
  bot: number | null;
  neither: number | null;
}

/** The server's figures for the run's own topics (GET /v1/service/stats?by=topic). */
export interface ServerServiceFigures {
  window: string;
  /** Requests, ratings and CSAT over the run's topics together (CSAT weighted by ratings). */
  requests: number;
  ratings: number;
  csat: number | null;
  /** Each of the run's topics as the server reports it (containment per topic: the server gives no counts to add them up). */
  groups: Array<Record<string, unknown>>;
  /** The server's total over every topic in the window — this run's alone only on a server nothing else used. */
  total?: Record<string, unknown>;
}

export interface FirstContactSection {
  /** `service.requested` answered ok / refused. */
  requests: number;
  refused: number;
  /** Requests whose customer followed them on `request/<id>`; the others found every customer connection taken. */
  followed: number;
  notFollowed: number;
  firstResponseMs: { p50: number; p90: number; p99: number; count: number };
  /** First response (ms) by percentile, for the HTML report's chart. */
  firstResponseCurve: Array<[number, number]>;
  /** Shares of the followed requests whose 30 s are known (answered, or sent 30 s before the end). */
  within30s: Shares & { decided: number; undecided: number };
  /** Requests the bot answered, followed or not (the bot's answer comes with the request's). */
  botAnswered: number;
  /** The bot's answer named the entry the customer's words were labelled with (vs another entry, or none). */
  botRight: number;
  botResolved: number;
  escalated: number;
  /** A resolve or escalation refused as `conflict`: the request had ended while its customer read the answer. */
  tooLate: number;
  containment: number | null;
  ratings: { sent: number; accepted: number; refused: Record<string, number>; byScore: Record<string, number>; csat: number | null };
  cases: { opened: number; resolved: number; refused: Record<string, number> };
  predictedWait: {
    /** Requests that reached a person with a prediction. */
    samples: number;
    medianAbsErrorMs: number | null;
    /** Share predicted within ±50% of the wait that followed. */
    within50pct: number | null;
    medianPredictedMs: number | null;
    medianActualMs: number | null;
    /** Requests queued without a number (no agent could take them: `predictedWaitMs: null`). */
    unbounded: number;
    /** Predicted, and never reached a person during the run (resolved by the bot, or still waiting). */
    notReached: number;
  };
  /** The server's own figures, or why they could not be read. */
  server: ServerServiceFigures | { error: string };
  errors: number;
  errorSamples: string[];
}

/** What the first-contact customers add up to during a run. */
export class FirstContactTally {
  readonly firstResponse = new LatencyRecorder();
  requests = 0;
  refused = 0;
  followed = 0;
  notFollowed = 0;
  person = 0;
  bot = 0;
  neither = 0;
  undecided = 0;
  botAnswered = 0;
  botRight = 0;
  botResolved = 0;
  escalated = 0;
  tooLate = 0;
  readonly ratings = { sent: 0, accepted: 0, refused: {} as Record<string, number>, byScore: {} as Record<string, number> };
  readonly cases = { opened: 0, resolved: 0, refused: {} as Record<string, number> };
  /** Per request that reached a person: |predicted − actual|, the prediction and the wait that followed. */
  readonly waitErrors: number[] = [];
  readonly predicted: number[] = [];
  readonly actual: number[] = [];
  unbounded = 0;
  notReached = 0;
  errors = 0;
  readonly errorSamples: string[] = [];

  /** A followed request's first 30 s: answered by a person, by the bot, by neither, or not known yet. */
  classify(sentMs: number, botAt: number | undefined, agentAt: number | undefined, nowMs: number): void {
    if (agentAt !== undefined && agentAt - sentMs <= ANSWER_WITHIN_MS) this.person++;
    else if (botAt !== undefined && botAt - sentMs <= ANSWER_WITHIN_MS) this.bot++;
    else if (nowMs - sentMs >= ANSWER_WITHIN_MS || agentAt !== undefined || botAt !== undefined) this.neither++;
    else this.undecided++;
  }

  waited(predictedMs: number, actualMs: number): void {
    this.waitErrors.push(Math.abs(predictedMs - actualMs));
    this.predicted.push(predictedMs);
    this.actual.push(actualMs);
  }

  refusal(into: Record<string, number>, code: string): void {
    into[code] = (into[code] ?? 0) + 1;
  }

  error(detail: string): void {
    this.errors++;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES && !this.errorSamples.includes(detail)) this.errorSamples.push(detail);
  }

  section(server: FirstContactSection['server'], percentiles: readonly number[] = []): FirstContactSection {
    const h = this.firstResponse.histogram;
    const at = (p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / 1000);
    const decided = this.person + this.bot + this.neither;
    const share = (x: number, of: number) => (of === 0 ? null : round3(x / of));
    const withinHalf = this.actual.filter((a, i) => Math.abs(this.predicted[i] - a) <= 0.5 * a).length;
    const good = (this.ratings.byScore['4'] ?? 0) + (this.ratings.byScore['5'] ?? 0);
    return {
      requests: this.requests,
      refused: this.refused,
      followed: this.followed,
      notFollowed: this.notFollowed,
      firstResponseMs: { p50: at(50), p90: at(90), p99: at(99), count: h.totalCount },
      firstResponseCurve: this.firstResponse.curve(percentiles),
      within30s: { person: share(this.person, decided), bot: share(this.bot, decided), neither: share(this.neither, decided), decided, undecided: this.undecided },
      botAnswered: this.botAnswered,
      botRight: this.botRight,
      botResolved: this.botResolved,
      escalated: this.escalated,
      tooLate: this.tooLate,
      containment: share(this.botResolved, this.botAnswered),
      ratings: { ...this.ratings, csat: share(good, this.ratings.accepted) },
      cases: this.cases,
      predictedWait: {
        samples: this.waitErrors.length,
        medianAbsErrorMs: median(this.waitErrors),
        within50pct: share(withinHalf, this.actual.length),
        medianPredictedMs: median(this.predicted),
        medianActualMs: median(this.actual),
        unbounded: this.unbounded,
        notReached: this.notReached,
      },
      server,
      errors: this.errors,
      errorSamples: this.errorSamples,
    };
  }
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return round3(sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
}

/**
 * The server's figures for the run's topics: GET /v1/service/stats?window=…&by=topic with a
 * supervisor token, keeping the groups whose key is one of `topics` (the run's own, so other
 * data on the server does not mix in).
 */
export async function serverFigures(url: string, token: string, topics: readonly string[], window = '1h'): Promise<FirstContactSection['server']> {
  let body: { groups?: Array<Record<string, unknown>>; total?: Record<string, unknown> };
  try {
    body = (await getJson(`${url}/v1/service/stats?window=${window}&by=topic`, token)) as typeof body;
  } catch (error) {
    return { error: (error as Error).message };
  }
  const mine = new Set(topics);
  const groups = (body.groups ?? []).filter((g) => mine.has(g.key as string));
  const num = (g: Record<string, unknown>, k: string) => (typeof g[k] === 'number' ? (g[k] as number) : 0);
  const ratings = groups.reduce((s, g) => s + num(g, 'ratings'), 0);
  const good = groups.reduce((s, g) => s + num(g, 'csat') * num(g, 'ratings'), 0);
  return { window, requests: groups.reduce((s, g) => s + num(g, 'requests'), 0), ratings, csat: ratings === 0 ? null : round3(good / ratings), groups, ...(body.total ? { total: body.total } : {}) };
}


/** The summary rows of first contact (the table and the HTML report). */
export function firstContactRows(f: FirstContactSection): Array<[string, string]> {
  const n = (x: number) => x.toLocaleString('en-US');
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const ms = (x: number | null) => (x === null ? 'n/a' : x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(2)} ms`);
  const fr = f.firstResponseMs;
  const w = f.within30s;
  const p = f.predictedWait;
  const rows: Array<[string, string]> = [
    ['first contact', `${n(f.requests)} requests (${n(f.refused)} refused), ${n(f.followed)} followed by their customers (${n(f.notFollowed)} not: every customer connection taken)`],
    ['first response', fr.count === 0 ? 'no answer seen' : `p50 ${ms(fr.p50)}, p90 ${ms(fr.p90)}, p99 ${ms(fr.p99)} (n=${n(fr.count)})`],
    ['answered in 30 s', `by a person ${pct(w.person)}, by the bot ${pct(w.bot)}, by neither ${pct(w.neither)} (of ${n(w.decided)}; ${n(w.undecided)} too recent to tell)`],
    ['bot', `answered ${n(f.botAnswered)} (${n(f.botRight)} with the entry asked about), resolved by it ${n(f.botResolved)}, escalated ${n(f.escalated)}${f.tooLate ? ` (${n(f.tooLate)} too late: already ended)` : ''}, containment ${pct(f.containment)}`],
    ['ratings', `${n(f.ratings.accepted)} of ${n(f.ratings.sent)} accepted ${JSON.stringify(f.ratings.byScore)}, CSAT ${pct(f.ratings.csat)}${Object.keys(f.ratings.refused).length ? `, refused ${JSON.stringify(f.ratings.refused)}` : ''}`],
    ['cases', `${n(f.cases.opened)} opened, ${n(f.cases.resolved)} resolved${Object.keys(f.cases.refused).length ? `, refused ${JSON.stringify(f.cases.refused)}` : ''}`],
    ['predicted wait', p.samples === 0 ? `no request with a prediction reached a person (${n(p.notReached)} predicted, not reached)` : `median abs error ${ms(p.medianAbsErrorMs)}, within ±50% ${pct(p.within50pct)} (n=${n(p.samples)}; median predicted ${ms(p.medianPredictedMs)}, actual ${ms(p.medianActualMs)}; ${n(p.notReached)} not reached, ${n(p.unbounded)} without a number)`],
  ];
  const s = f.server;
  if ('error' in s) rows.push(['server figures', `not read: ${s.error}`]);
  else {
    const ratio = (x: unknown) => pct(typeof x === 'number' ? x : null);
    rows.push(['server figures', `${s.window} on the run's topics: ${n(s.requests)} requests, ${n(s.ratings)} ratings, CSAT ${pct(s.csat)}; containment by topic ${s.groups.map((g) => `${String(g.key).replace(/^lg-[^-]+-[^-]+-/, '')} ${ratio(g.containment)}`).join(', ') || 'n/a'}`]);
    const t = s.total;
    const fr = t?.firstResponseMs as { p50?: unknown; p90?: unknown } | undefined;
    const msOf = (x: unknown) => (typeof x === 'number' ? ms(x) : 'n/a');
    if (t) rows.push(['server total', `every topic in the ${s.window} window (this run's alone on a server nothing else used): ${n(Number(t.requests ?? 0))} requests, first response p50 ${msOf(fr?.p50)}, p90 ${msOf(fr?.p90)}, containment ${ratio(t.containment)}, abandonment ${ratio(t.abandonment)}, CSAT ${ratio(t.csat)}`]);
  }
  return rows;
}
