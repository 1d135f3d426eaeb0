// The service figures are durable: `omni serve` (a real child process, fsync) counts a mix of
// requests, answers, ends and ratings; GET /v1/service/stats gives the same figures by topic,
// channel and agent after a clean restart, and — after more traffic — after kill -9.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { killHard, postEvents, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';

const SECRET = 'service-stats-crash-secret';
const ADMIN = signToken({ sub: 'ops', role: 'admin' }, SECRET);

const dirs = tempDirs('omni-service-stats-crash-');
const running = new Set<RunningServe>();
afterEach(async () => {
  for (const s of running) await killHard(s);
  running.clear();
});
afterAll(() => dirs.cleanup());

async function serve(dataDir: string): Promise<RunningServe> {
  const server = await startServe({ dataDir, secret: SECRET, workers: 1 });
  running.add(server);
  return server;
}

async function apply(server: RunningServe, events: InputEvent[]): Promise<void> {
  const answer = await postEvents(server.url, ADMIN, events);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.results.filter((a: { ok: boolean }) => !a.ok)).toEqual([]);
}

/** The figures by each dimension over the last hour. */
async function figures(server: RunningServe): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const by of ['topic', 'channel', 'agent']) {
    const response = await fetch(`${server.url}/v1/service/stats?window=1h&by=${by}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(response.status).toBe(200);
    out.push(await response.json());
  }
  return out;
}

/** Requests `<prefix>0…` raised by `customers`, taken by a1/a2, answered (all but every third), ended and rated. */
function traffic(prefix: string, customers: string[]): InputEvent[][] {
  const ids = customers.map((_, i) => `${prefix}${i}`);
  const topic = (i: number) => (i % 2 === 0 ? 'billing' : 'shipping');
  return [
    ids.map((request, i) => ({ id: `rq-${request}`, type: 'service.requested', request, subject: customers[i], channel: 'chat', topic: topic(i) })),
    ids.map((request, i) => ({ id: `acc-${request}`, type: 'service.accepted', request, agent: i % 2 === 0 ? 'a1' : 'a2' })),
    ids.filter((_, i) => i % 3 !== 2).map((request) => ({ id: `say-${request}`, type: 'service.message', request, from: 'agent', text: 'On it.' })),
    ids.map((request) => ({ id: `end-${request}`, type: 'service.completed', request })),
    ids.map((request, i) => ({ id: `rate-${request}`, type: 'service.rated', request, score: 1 + (i % 5) })),
  ];
}

describe('service figures across restarts', () => {
  it('are the same after a clean restart and after kill -9', async () => {
    const dataDir = dirs.make();
    let server = await serve(dataDir);
    await apply(server, [
      { id: 'on1', type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 20 } },
      { id: 'on2', type: 'agent.online', agent: 'a2', skills: { shipping: 5 }, capacity: { chat: 20 } },
    ]);
    for (const batch of traffic('q', ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'])) await apply(server, batch);
    const before = await figures(server);
    expect(before[0]).toMatchObject({ by: 'topic', total: { requests: 6, ratings: 6, abandonment: 2 / 6 } });

    server.child.kill('SIGTERM');
    expect((await server.exited).signal ?? 'exited').not.toBe('SIGKILL');
    running.delete(server);
    server = await serve(dataDir);
    expect(await figures(server)).toEqual(before);

    // More traffic (c0 and c1 again on their topics: repeats within 72 h), acknowledged, then SIGKILL.
    await apply(server, [
      { id: 'on1b', type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 20 } },
      { id: 'on2b', type: 'agent.online', agent: 'a2', skills: { shipping: 5 }, capacity: { chat: 20 } },
    ]);
    for (const batch of traffic('r', ['c0', 'c1', 'c6'])) await apply(server, batch);
    const after = await figures(server);
    expect(after[0]).toMatchObject({ total: { requests: 9, ratings: 9, fcr: 7 / 9 } });
    expect((await killHard(server)).signal).toBe('SIGKILL');
    running.delete(server);
    server = await serve(dataDir);
    expect(await figures(server)).toEqual(after);
  }, 60_000);
});
