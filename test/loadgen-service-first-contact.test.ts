// The service scenario with first contact: the customers' first words and plans (deterministic,
// from the knowledge-base fixture), the report's arithmetic, and short real runs against servers
// whose bot answers first, or not at all, in which the customers follow their requests, resolve
// or escalate after the bot's answers, rate what the agents completed and get cases; the report
// holds first response, containment, CSAT (the known mix sent, and the server's own figure) and
// the predicted wait's accuracy.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InputEvent } from '../engine/mod.ts';
import type { RequestWatch } from '../loadgen/chat-customers.ts';
import { signToken, startGateway, type Gateway } from '../gateway/mod.ts';
import { readOptions, type LoadgenOptions } from '../loadgen/options.ts';
import { renderHtml } from '../loadgen/html.ts';
import { summaryTable } from '../loadgen/report.ts';
import { runLoadgen } from '../loadgen/run.ts';
import { openScenario } from '../loadgen/scenario.ts';
import { checkFeasible, ignoredFlags } from '../loadgen/preflight.ts';
import { KnowledgeFixture, SCORE_CYCLE } from '../loadgen/scenarios/first-contact.ts';
import { ServiceScenario } from '../loadgen/scenarios/service.ts';
import { ServiceCustomers } from '../loadgen/service-customers.ts';
import { FirstContactTally, median } from '../loadgen/service-report.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { openTestEngine, type TestEngine } from './engine-under-test.ts';

const take = (s: ServiceScenario, n: number) => Array.from({ length: n }, () => s.next());

describe('first contact: what the customers ask', () => {
  const kb = new KnowledgeFixture();

  it('reads the knowledge base and the labelled questions, answerable ones with their entry and topic', () => {
    expect(kb.entries).toHaveLength(64);
    expect(kb.topics).toContain('orders');
    expect(kb.answerable.length).toBeGreaterThan(100);
    expect(kb.unanswerable.length).toBeGreaterThan(20);
    for (const q of kb.answerable) expect(kb.topics).toContain(q.topic);
  });

  it('loads the entries under the run prefix, and every request carries first words on chat, social or email, about the kb-share', () => {
    const s = new ServiceScenario(3, 'p', { kbShare: 0.6 });
    const setup = s.setup().flat();
    const faqs = setup.filter((ev) => ev.type === 'faq.upserted');
    expect(faqs).toHaveLength(64);
    for (const ev of faqs) expect([ev.id, ev.faq, ev.topic].every((name) => String(name).startsWith('p-'))).toBe(true);
    // Three desks cover all 13 topics between them, with social and email capacity.
    const online = setup.filter((ev) => ev.type === 'agent.online');
    const covered = new Set(online.flatMap((ev) => Object.keys(ev.skills as object)));
    expect(covered.size).toBe(13);
    for (const ev of online) expect(ev.capacity).toMatchObject({ social: 1, email: 1 });
    const requests = take(s, 2000);
    const channels = new Set(requests.map((ev) => ev.channel));
    expect([...channels].sort()).toEqual(['chat', 'email', 'social']);
    const fc = s.firstContact!;
    const plans = requests.map((ev) => fc.takePlan(ev.request as string)!);
    const answerable = plans.filter((p) => p.faq !== undefined).length / plans.length;
    expect(answerable).toBeGreaterThan(0.55);
    expect(answerable).toBeLessThan(0.65);
    // An answerable question is asked on its entry's topic.
    requests.forEach((ev, k) => {
      expect(typeof ev.text).toBe('string');
      if (plans[k].faq !== undefined) expect(fc.topics).toContain(ev.topic);
    });
    expect(fc.takePlan(requests[0].request as string)).toBeUndefined();
  });

  it('is deterministic, and the old service scenario is unchanged without first contact', () => {
    const a = openScenario({ scenario: 'service', skus: 1, idPrefix: 'q', releaseLag: 0, desks: 4, firstContact: { kbShare: 0.6 } });
    const b = openScenario({ scenario: 'service', skus: 1, idPrefix: 'q', releaseLag: 0, desks: 4, firstContact: { kbShare: 0.6 } });
    expect(a.setup()).toEqual(b.setup());
    expect(Array.from({ length: 200 }, () => a.next())).toEqual(Array.from({ length: 200 }, () => b.next()));
    const plain = new ServiceScenario(4, 'q');
    expect(plain.setup().flat().every((ev) => ev.type === 'agent.online')).toBe(true);
    expect(take(plain, 50).every((ev) => ev.channel === 'chat' && ev.text === undefined)).toBe(true);
  });
});

describe('first contact: flags and checks', () => {
  const base = ['--url', 'http://127.0.0.1:9', '--secret', 's'];
  it('reads --first-contact and --kb-share, and lets a rate the desks cannot serve through with a warning', () => {
    expect(readOptions(base)).toMatchObject({ firstContact: false, kbShare: 0.6 });
    const o = readOptions([...base, '--scenario', 'service', '--first-contact', '--kb-share', '0.3', '--rate', '2000', '--desks', '20']) as LoadgenOptions;
    expect(o).toMatchObject({ firstContact: true, kbShare: 0.3 });
    expect(() => readOptions([...base, '--kb-share', '1.5'])).toThrow(/--kb-share must be a number from 0 to 1/);
    const source = openScenario({ scenario: 'service', skus: 1, idPrefix: 'p', releaseLag: 0, desks: 20, firstContact: { kbShare: 0.3 } });
    expect(checkFeasible(source, o)).toMatch(/cannot be served by 20 desks.*with --first-contact the run goes on/);
    const plain = openScenario({ scenario: 'service', skus: 1, idPrefix: 'p', releaseLag: 0, desks: 20 });
    expect(() => checkFeasible(plain, o)).toThrow(/cannot be served by 20 desks/);
    const stock = openScenario({ scenario: 'stock', skus: 1, idPrefix: 'p', releaseLag: 0 });
    expect(ignoredFlags(stock, { ...o, given: ['first-contact', 'kb-share'] })).toEqual([
      '--first-contact is ignored: only --scenario service has customers making first contact (this is scenario stock)',
      '--kb-share is ignored: only --scenario service --first-contact has first words (this is scenario stock)',
    ]);
    expect(ignoredFlags(source, { ...o, chatMessages: 0, given: ['chat-customers', 'kb-share'] })).toEqual([]);
  });
});

describe('first contact: the report\'s arithmetic', () => {
  it('shares in 30 s, containment, CSAT and the predicted wait\'s errors', () => {
    const t = new FirstContactTally();
    t.classify(0, undefined, 5_000, 60_000); // a person in 5 s
    t.classify(0, 100, 40_000, 60_000); // the bot at once, a person only after 40 s
    t.classify(0, undefined, undefined, 60_000); // nobody in a minute
    t.classify(0, undefined, undefined, 10_000); // 10 s old, unanswered: not known yet
    t.botAnswered = 4;
    t.botResolved = 1;
    t.ratings.accepted = 10;
    t.ratings.byScore = { '5': 6, '4': 2, '3': 1, '1': 1 };
    t.waited(1000, 1000);
    t.waited(3000, 2000); // within ±50%
    t.waited(500, 2000); // not
    const s = t.section({ error: 'not asked' });
    expect(s.within30s).toEqual({ person: 0.333, bot: 0.333, neither: 0.333, decided: 3, undecided: 1 });
    expect(s.containment).toBe(0.25);
    expect(s.ratings.csat).toBe(0.8);
    expect(s.predictedWait).toMatchObject({ samples: 3, medianAbsErrorMs: 1000, within50pct: 0.667, medianPredictedMs: 1000, medianActualMs: 2000 });
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(new FirstContactTally().section({ error: 'x' })).toMatchObject({ containment: null, ratings: { csat: null }, predictedWait: { medianAbsErrorMs: null, within50pct: null } });
  });

  it('the score cycle is 60% 5, 20% 4, 10% 3, 10% 1', () => {
    const count = (v: number) => SCORE_CYCLE.filter((s) => s === v).length;
    expect([count(5), count(4), count(3), count(1), SCORE_CYCLE.length]).toEqual([6, 2, 1, 1, 10]);
  });
});

/** A short first-contact run with three desks against `server`, no cleanup unless asked. */
function firstContactRun(server: { url: string; token: (role: string, sub: string) => string }, over: Partial<LoadgenOptions> = {}): LoadgenOptions {
  return {
    url: server.url,
    durationS: 2,
    rate: 20,
    subscribers: 0,
    skus: 1,
    scenario: 'service',
    token: server.token('ingest', 'loadgen'),
    mintToken: (claims) => signToken(claims, TEST_SECRET),
    batch: 50,
    format: 'json',
    connections: 4,
    desks: 3,
    thinkMs: 10,
    handleMs: 50,
    chatMessages: 1,
    chatCustomers: 200,
    firstContact: true,
    kbShare: 0.6,
    tickMs: 5,
    progress: false,
    cleanup: false,
    ...over,
  };
}

/** A server whose bot runs in `bot` mode. */
async function serverWithBot(bot: 'off' | 'first' | 'overflow'): Promise<{ url: string; token: (role: string, sub: string) => string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'omni-lg-fc-'));
  const engine: TestEngine = await openTestEngine({ path: dir, domains: { service: { bot } }, durability: 'none' });
  const gateway: Gateway = await startGateway({ engine, secret: TEST_SECRET, host: '127.0.0.1', port: 0 });
  return {
    url: gateway.url,
    token: (role, sub) => signToken({ role: role as never, sub }, TEST_SECRET),
    stop: async () => {
      await gateway.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['first', 'first' as const],
  ['overflow', 'overflow' as const],
  ['off', 'off' as const],
])('first contact against a real server (--bot %s)', (_name, bot) => {
  let server: Awaited<ReturnType<typeof serverWithBot>>;
  beforeAll(async () => {
    server = await serverWithBot(bot);
  });
  afterAll(() => server?.stop());

  it('the customers follow every request to its end; the report has first response, containment, CSAT and the predicted wait', async () => {
    const options = firstContactRun(server);
    const { report } = await runLoadgen(options, () => undefined);
    expect(report.errors).toBe(0);
    expect(report.sent).toBe(40);
    // A customer resolving what an agent already holds is the customer's right, not a desk error.
    expect(report.desks!.errors).toBe(0);
    const f = report.firstContact!;
    expect(f).toMatchObject({ requests: 40, refused: 0, followed: 40, notFollowed: 0, errors: 0 });
    // Every request was answered (by the bot or a person) and its 30 s are known.
    expect(f.firstResponseMs.count).toBe(40);
    expect(f.firstResponseMs.p50).toBeGreaterThan(0);
    expect(f.firstResponseMs.p90).toBeGreaterThanOrEqual(f.firstResponseMs.p50);
    expect(f.within30s.decided).toBe(40);
    expect(f.within30s.neither).toBe(0);
    if (bot === 'off') {
      expect(f.botAnswered).toBe(0);
      expect(f.containment).toBeNull();
      expect(f.within30s.person).toBe(1);
    } else if (bot === 'first') {
      expect(f.botAnswered).toBeGreaterThan(5);
      expect(f.botResolved + f.escalated).toBeLessThanOrEqual(f.botAnswered);
      expect(f.botResolved).toBeLessThanOrEqual(f.botRight);
      expect(f.containment).toBe(Math.round((f.botResolved / f.botAnswered) * 1000) / 1000);
      expect(f.botResolved).toBeGreaterThan(0);
    }
    // CSAT is the mix sent: the first n of the score cycle.
    const sent = Array.from({ length: f.ratings.sent }, (_, k) => SCORE_CYCLE[k % SCORE_CYCLE.length]);
    expect(f.ratings.sent).toBeGreaterThan(3);
    expect(f.ratings.accepted).toBe(f.ratings.sent);
    expect(f.ratings.csat).toBe(Math.round((sent.filter((s) => s >= 4).length / sent.length) * 1000) / 1000);
    // The server counted the same ratings.
    expect('error' in f.server).toBe(false);
    if (!('error' in f.server)) {
      expect(f.server.ratings).toBe(f.ratings.accepted);
      expect(f.server.csat).toBe(f.ratings.csat);
      expect(f.server.requests).toBe(40);
      // A fresh server: its total is this run's, and counts the bot's answers and resolutions as the customers saw them.
      expect(f.server.total).toMatchObject({ requests: 40, ratings: f.ratings.accepted });
      if (f.containment === null) expect(f.server.total!.containment).toBeNull();
      else expect(f.server.total!.containment).toBeCloseTo(f.containment, 2);
    }
    expect(f.predictedWait.samples + f.predictedWait.notReached).toBeGreaterThanOrEqual(0);
    expect(f.predictedWait).toHaveProperty('medianAbsErrorMs');
    expect(f.predictedWait).toHaveProperty('within50pct');
    const table = summaryTable(report);
    expect(table).toMatch(/first response +p50 .* p90 .* p99 .*\(n=40\)/);
    expect(table).toMatch(/ratings +\d+ of \d+ accepted .* CSAT/);
    expect(table).toMatch(/server figures +1h on the run's topics: 40 requests/);
    const html = renderHtml(report);
    expect(html).toContain('first response (request → first answer its customer saw)');
    expect(html).toMatch(/<th>bot<\/th><td>answered \d+/);
  });
});

describe('first contact: a customer, step by step (fake connections)', () => {
  afterEach(() => vi.useRealTimers());

  /** Connections that record what each customer sends, with the watch to play the server's part. */
  function fakeLines() {
    const watches = new Map<string, RequestWatch>();
    const sent: Array<Record<string, unknown>> = [];
    const closed: string[] = [];
    return {
      watches,
      sent,
      closed,
      follow: (request: string, _subject: string, watch: RequestWatch) => {
        watches.set(request, watch);
        return { send: (ev: Record<string, unknown>) => void sent.push(ev), close: () => void closed.push(request) };
      },
    };
  }

  /** The messages the server keeps for each request: the bot's answer with `faq` (or none). */
  function botSaid(answers: Map<string, string | undefined>) {
    const reads: string[] = [];
    return {
      reads,
      read: async (request: string) => {
        reads.push(request);
        const faq = answers.get(request);
        return [{ from: 'customer', text: 'hi', at: 1 }, { from: 'bot', text: 'an answer', at: 1, ...(faq ? { faq } : {}) }];
      },
    };
  }

  it('answered by the bot with the entry asked about: reads it once subscribed, resolves after reading; a queued one is measured against its prediction', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = new ServiceScenario(2, 'u', { kbShare: 1 });
    const fc = s.firstContact!;
    const lines = fakeLines();
    const answers = new Map<string, string | undefined>();
    const messages = botSaid(answers);
    const customers = new ServiceCustomers({ lines, firstContact: fc, post: async () => ({ status: 200, results: [{ ok: true }] }), idPrefix: 'u', messages });
    // A customer who takes the right answer as enough; the bot answers it with that entry.
    let ev = s.next();
    while (!(fc.planOf(ev.request as string)!.acceptsBot && fc.planOf(ev.request as string)!.faq !== undefined)) ev = s.next();
    answers.set(ev.request as string, fc.planOf(ev.request as string)!.faq);
    customers.answered({ ...ev, ts: Date.now() }, { ok: true, status: 'bot', bot: true } as never, Date.now());
    // Nothing read before the subscription is live: the answer only said the bot answered.
    expect(messages.reads).toEqual([]);
    expect(customers.tally.firstResponse.count).toBe(0);
    const watch = lines.watches.get(ev.request as string)!;
    watch.ready(Date.now());
    await vi.advanceTimersByTimeAsync(0);
    expect(messages.reads).toEqual([ev.request]);
    expect(customers.tally.firstResponse.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1600);
    expect(lines.sent).toEqual([{ id: `${ev.request}-resolve`, type: 'service.resolved', request: ev.request, by: 'bot' }]);
    watch.result(`${ev.request}-resolve`, true, { ok: true });
    watch.status('resolved', 3000);
    expect(lines.closed).toEqual([ev.request]);
    expect(customers.unsettled()).toBeUndefined();

    // A request queued with a prediction of 1 s, assigned 1.5 s after its answer.
    const queued = s.next();
    customers.answered({ ...queued, ts: 5000 }, { ok: true, status: 'queued', predictedWaitMs: 1000 } as never, 5100);
    customers.assigned(queued.request as string, 6600);
    const section = customers.stop().section({ error: 'not asked' });
    expect(section).toMatchObject({ botAnswered: 1, botRight: 1, botResolved: 1, containment: 1, followed: 2 });
    expect(messages.reads).toEqual([ev.request]);
    expect(section.predictedWait).toMatchObject({ samples: 1, medianAbsErrorMs: 500, within50pct: 1, medianActualMs: 1500 });
  });

  it('a customer with no connection free still reads the bot\'s answer and answers it, over the run\'s HTTP ingest; a "don\'t know" it leaves', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const answers = new Map<string, string | undefined>();
    const s = new ServiceScenario(2, 'w', { kbShare: 1 });
    const fc = s.firstContact!;
    const posted: InputEvent[][] = [];
    const customers = new ServiceCustomers({
      lines: { follow: () => undefined },
      firstContact: fc,
      post: async (events) => {
        posted.push(events);
        return { status: 200, results: events.map(() => ({ ok: true })) };
      },
      idPrefix: 'w',
      messages: botSaid(answers),
    });
    const ev = s.next();
    const dontKnow = s.next();
    answers.set(ev.request as string, 'w-some-entry');
    customers.answered({ ...ev, ts: 0 }, { ok: true, status: 'bot', bot: true } as never, 10);
    customers.answered({ ...dontKnow, ts: 0 }, { ok: true, status: 'queued', bot: true } as never, 10);
    expect(customers.unsettled()).toMatch(/2 customer events unanswered/);
    await vi.advanceTimersByTimeAsync(1600);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toHaveLength(1);
    expect(customers.unsettled()).toBeUndefined();
    const section = customers.stop().section({ error: 'not asked' });
    expect(section).toMatchObject({ followed: 0, notFollowed: 2, botAnswered: 2, botRight: 0 });
    // Answered with an entry it did not ask about: it asks for a person.
    expect(posted[0][0]).toEqual({ id: `${ev.request}-escalate`, type: 'service.escalated', request: ev.request });
    expect(section.escalated).toBe(1);
    // Nobody saw its first response: the first-response figures are the followed requests' only.
    expect(section.firstResponseMs.count).toBe(0);
  });
});

describe('first contact: the cleanup', () => {
  let server: Awaited<ReturnType<typeof serverWithBot>>;
  beforeAll(async () => {
    server = await serverWithBot('first');
  });
  afterAll(() => server?.stop());

  it('removes the run\'s knowledge-base entries and resolves the cases it left open', async () => {
    const { report } = await runLoadgen(firstContactRun(server, { cleanup: true }), () => undefined);
    const steps = Object.fromEntries(report.cleanup!.steps.map((step) => [step.type, step]));
    expect(steps['faq.removed']).toEqual({ type: 'faq.removed', sent: 64, applied: 64 });
    const { opened, resolved } = report.firstContact!.cases;
    expect(opened).toBeGreaterThan(0);
    expect(steps['case.updated']).toEqual({ type: 'case.updated', sent: opened - resolved, applied: opened - resolved });
    expect(report.cleanup!.unexpected).toEqual({});
  });
});
