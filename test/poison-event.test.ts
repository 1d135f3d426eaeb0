// A processor bug that throws, or that would hand the store a value it cannot encode, costs
// only the event that met it: answered `internal` with its id, logged once, counted in
// /metrics; the rest of its batch is committed and the server goes on serving.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProcessors, openEngine, type Engine, type Processor } from '../engine/mod.ts';
import { startGateway, type Gateway } from '../gateway/mod.ts';
import { bearer, getJson, location, postJson, received, TEST_SECRET } from './gateway-harness.ts';
import { signToken } from '../gateway/mod.ts';
import { WsClient } from './ws-harness.ts';

/** The stock processor, but some event ids meet a bug: a throw, a BigInt, a cycle. */
function buggy(stock: Processor): Processor {
  return {
    ...stock,
    apply(view, ev, ctx) {
      if (ev.id === 'poison-throw') throw new Error('a bug we have not found yet');
      const effects = stock.apply(view, ev, ctx);
      if (ev.id === 'poison-bigint') effects.writes = [...(effects.writes ?? []), ['poison/bigint', { n: 2n ** 70n }]];
      if (ev.id === 'poison-answer' && effects.result.ok) effects.result = { ...effects.result, n: 2n ** 70n };
      if (ev.id === 'poison-cycle') {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        effects.writes = [...(effects.writes ?? []), ['poison/cycle', cyclic]];
      }
      return effects;
    },
    render(view, topic) {
      const data = stock.render(view, topic);
      // Once there is something to render (a snapshot of nothing still works).
      if (topic === 'stock/BOOM' && data !== undefined) throw new Error('a render bug');
      return data;
    },
  };
}

describe('a poison event', () => {
  let dir: string | undefined;
  let engine: Engine | undefined;
  let gateway: Gateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('is answered internal; the rest of its batch commits and the server keeps serving', async () => {
    dir = mkdtempSync(join(tmpdir(), 'omni-poison-'));
    const processors = defaultProcessors().map((p) => (p.name === 'stock' ? buggy(p) : p));
    engine = await openEngine({ path: dir, processors, durability: 'none' });
    gateway = await startGateway({ engine, secret: TEST_SECRET, port: 0 });
    const auth = bearer(signToken({ role: 'ingest', sub: 'test' }, TEST_SECRET));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    // Someone watches the topic whose render fails, so the batch renders it.
    const watcher = await WsClient.open(`${gateway.url.replace('http', 'ws')}/v1/ws`);
    expect((await watcher.sub('stock/BOOM')).op).toBe('snapshot');

    // One request: one batch, the poison events between good ones.
    const { status, body } = await postJson(
      gateway.url,
      [
        location('l', 'S1'),
        received('good-1', 'A', 'S1', 1),
        received('poison-throw', 'A', 'S1', 10),
        received('good-2', 'A', 'S1', 2),
        received('poison-bigint', 'A', 'S1', 100),
        received('poison-cycle', 'A', 'S1', 1000),
        received('poison-answer', 'A', 'S1', 10000),
        received('boom', 'BOOM', 'S1', 1),
        received('good-3', 'A', 'S1', 4),
      ],
      auth,
    );
    expect(status).toBe(200);
    expect(body.results.map((r: { id: string; ok: boolean; error?: { code: string } }) => [r.id, r.ok ? 'ok' : r.error!.code])).toEqual([
      ['l', 'ok'],
      ['good-1', 'ok'],
      ['poison-throw', 'internal'],
      ['good-2', 'ok'],
      ['poison-bigint', 'internal'],
      ['poison-cycle', 'internal'],
      ['poison-answer', 'internal'],
      ['boom', 'ok'],
      ['good-3', 'ok'],
    ]);
    // Only the good events' quantities, none of the poison ones' (nothing partly applied).
    expect((await getJson(gateway.url, '/v1/stock/A')).body.onHand).toBe(7);
    expect(engine.read('poison/bigint')).toBeUndefined();
    expect(engine.read('poison/cycle')).toBeUndefined();

    // Logged once each, naming the event's id and type.
    const logged = errors.mock.calls.map((args) => String(args[0]));
    for (const id of ['poison-throw', 'poison-bigint', 'poison-cycle', 'poison-answer']) {
      expect(logged.filter((line) => line.includes(`'${id}'`) && line.includes('stock.received'))).toHaveLength(1);
    }

    // Counted in /metrics, and the server still serves events and reads.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/omni_events_total\{type="stock\.received",result="internal"\} 4/);
    // The render bug lost only its own update, logged once.
    expect(logged.filter((line) => line.includes("'stock/BOOM'"))).toHaveLength(1);
    const after = await postJson(gateway.url, [received('good-4', 'A', 'S1', 8)], auth);
    expect(after.body.results[0]).toEqual({ id: 'good-4', ok: true });
    expect((await getJson(gateway.url, '/v1/stock/A')).body.onHand).toBe(15);

    // Nothing was applied, so the id is not remembered: once fixed, it may be sent again.
    const retry = await postJson(gateway.url, [received('poison-throw', 'A', 'S1', 10)], auth);
    expect(retry.body.results[0]).toMatchObject({ id: 'poison-throw', ok: false, error: { code: 'internal' } });
    expect(retry.body.results[0].duplicate).toBeUndefined();
    // The watcher's connection stays, and it got no update of the failed render.
    watcher.send({ op: 'ping', id: 'alive' });
    expect((await watcher.next((m) => m.op === 'pong')).msg.id).toBe('alive');
    expect(watcher.messages.filter((m) => m.op === 'update' && m.topic === 'stock/BOOM')).toEqual([]);
    await watcher.close();
  });
});
