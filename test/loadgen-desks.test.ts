// The loadgen's service scenario and agent desks: the events it makes (deterministic, and valid
// for the real service processor), its flags, and one tiny real run in which desks on real
// WebSockets take every request's offer, accept it and complete it, and one in which the desks
// and their customers chat before each completion.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../flags/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { readOptions, type LoadgenOptions } from '../loadgen/options.ts';
import { REQUIRED_FIELDS, summaryTable } from '../loadgen/report.ts';
import { runLoadgen } from '../loadgen/run.ts';
import { openScenario } from '../loadgen/scenario.ts';
import { ServiceScenario } from '../loadgen/scenarios/service.ts';
import { TEST_SECRET, startTestServer, type TestServer } from './gateway-harness.ts';
import { ServiceRunner } from './service-harness.ts';

const take = (s: ServiceScenario, n: number) => Array.from({ length: n }, () => s.next());

describe('service scenario events', () => {
  it('is deterministic, and names its requests by event number', () => {
    const a = new ServiceScenario(6, 'p');
    const b = openScenario({ scenario: 'service', skus: 1, idPrefix: 'p', releaseLag: 0, desks: 6 }) as ServiceScenario;
    expect(b.setup()).toEqual(a.setup());
    expect(take(b, 300)).toEqual(take(a, 300));
    expect(a.desks.agents).toHaveLength(6);
    expect(a.desks.requestIndex('p-rq-41')).toBe(41);
    expect(a.desks.requestIndex('other-rq-41')).toBeUndefined();
    expect(a.subscribers()).toEqual([]);
  });

  it('brings every desk online with 2–3 chats over the run topics, and every request is offered through the real processor', () => {
    const s = new ServiceScenario(8, 'run1');
    const runner = new ServiceRunner();
    const online = s.setup().flat();
    expect(online).toHaveLength(8);
    const covered = new Set<string>();
    for (const ev of online) {
      runner.ok(ev as never);
      const capacity = ev.capacity as { chat: number };
      expect(capacity.chat).toBeGreaterThanOrEqual(2);
      expect(capacity.chat).toBeLessThanOrEqual(3);
      for (const topic of Object.keys(ev.skills as object)) {
        expect(topic.startsWith('run1-')).toBe(true);
        covered.add(topic);
      }
    }
    expect(covered.size).toBe(4);
    // Capacity is 16–24 chats: the first requests are offered at once, the rest queue.
    const requests = take(s, 100);
    for (const ev of requests) {
      expect(ev).toMatchObject({ type: 'service.requested', channel: 'chat' });
      runner.ok(ev as never);
    }
    const offered = requests.filter((ev) => runner.req(ev.request as string).status === 'offered').map((ev) => ev.request);
    expect(offered.length).toBeGreaterThanOrEqual(16);
    const offersOnDeskTopics = s.desks.agents.flatMap((a) => runner.on(`agent/${a}`)).filter((m) => m.type === 'offer');
    expect(offersOnDeskTopics.map((m) => m.request).sort()).toEqual([...offered].sort());
  });
});

describe('desk flags', () => {
  const base = ['--url', 'http://127.0.0.1:9', '--secret', 's'];
  it('reads --desks, --think-ms, --handle-ms with defaults, and refuses more desks than the main thread takes', () => {
    expect(readOptions(base)).toMatchObject({ desks: 20, thinkMs: 200, handleMs: 1500, chatMessages: 2, chatCustomers: 200 });
    expect(readOptions([...base, '--chat-messages', '0', '--chat-customers', '5'])).toMatchObject({ chatMessages: 0, chatCustomers: 5 });
    expect(() => readOptions([...base, '--chat-customers', '0'])).toThrow(UsageError);
    expect(readOptions([...base, '--scenario', 'service', '--desks', '7', '--think-ms', '50', '--handle-ms', '900'])).toMatchObject({ scenario: 'service', desks: 7, thinkMs: 50, handleMs: 900 });
    expect(() => readOptions([...base, '--desks', '501'])).toThrow(UsageError);
    expect(() => readOptions([...base, '--desks', '0'])).toThrow(UsageError);
  });
});

describe('agent desks against a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  const options = (over: Partial<LoadgenOptions> = {}): LoadgenOptions => ({
    url: server.url,
    durationS: 2,
    rate: 50,
    subscribers: 0,
    skus: 1,
    scenario: 'service',
    token: server.token('ingest', 'loadgen'),
    mintToken: (claims) => signToken(claims, TEST_SECRET),
    batch: 500,
    format: 'json',
    connections: 16,
    desks: 5,
    thinkMs: 10,
    handleMs: 20,
    tickMs: 5,
    progress: false,
    ...over,
  });

  it('every request is offered to a desk, accepted, assigned and completed; both latencies recorded', async () => {
    const { report } = await runLoadgen(options({ chatMessages: 0 }), () => undefined);
    expect(report.latencyMs.chat).toBeUndefined();
    for (const f of REQUIRED_FIELDS) expect(report).toHaveProperty(f);
    expect(report.sent).toBe(100);
    expect(report.errors).toBe(0);
    expect(report.acked).toBe(100);
    const d = report.desks!;
    expect(d).toMatchObject({ desks: 5, ready: 5, requestsOffered: 100, errors: 0 });
    expect(d.assigned).toBeGreaterThanOrEqual(100);
    expect(d.completed).toBe(d.assigned);
    expect(report.latencyMs.offer!.count).toBe(100);
    expect(report.latencyMs.assign!.count).toBe(d.assigned);
    expect(report.latencyMs.assign!.p50).toBeGreaterThan(0);
    expect(summaryTable(report)).toMatch(/offer latency +p50 .* \(n=100\)/);
    expect(summaryTable(report)).toMatch(/desks +5\/5 connected, 100 requests offered/);
  });

  it('desks and customers chat on each assigned request, both ways, before it is completed', async () => {
    const { report } = await runLoadgen(options({ rate: 20, chatMessages: 2, chatCustomers: 50 }), () => undefined);
    expect(report.sent).toBe(40);
    expect(report.errors).toBe(0);
    const d = report.desks!;
    expect(d).toMatchObject({ desks: 5, ready: 5, requestsOffered: 40, errors: 0, errorSamples: [] });
    expect(d.assigned).toBeGreaterThanOrEqual(40);
    expect(d.completed).toBe(d.assigned);
    expect(d.chat).toEqual({ toCustomer: d.assigned * 2, toAgent: d.assigned * 2, skipped: 0 });
    expect(report.latencyMs.chat!.count).toBe(d.assigned * 4);
    expect(report.latencyMs.chat!.p50).toBeGreaterThan(0);
    expect(summaryTable(report)).toMatch(/chat latency +p50 .* \(n=/);
    expect(summaryTable(report)).toMatch(/chat +\d+ messages to customers, \d+ to agents, 0 assigned requests/);
  });

  it('refuses to run desks without a secret to mint their tokens', async () => {
    await expect(runLoadgen(options({ mintToken: undefined, durationS: 0.1 }), () => undefined)).rejects.toThrow(/needs a secret/);
  });
});
