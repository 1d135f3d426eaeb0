// The loadgen leaves a server as it found it, as far as the protocol allows: after a short real
// run its holds and orders are released, every stock row it touched is at 0, its agents are
// offline and its requests closed; a server with service topics of its own is refused without
// --force, and with --force its data is left alone.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../flags/mod.ts';
import type { InputEvent } from '../engine/mod.ts';
import { runLoadgen } from '../loadgen/run.ts';
import { openScenario } from '../loadgen/scenario.ts';
import { TEST_SECRET, bearer, getJson, postJson, startTestServer, type TestServer } from './gateway-harness.ts';
import { shortRun } from './loadgen-harness.ts';
import { signToken } from '../gateway/mod.ts';

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'omni-cleanup-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const admin = () => bearer(server.token('admin', 'ops'));

describe('cleanup after a real run', () => {
  it('omnichannel: open orders cancelled, holds released, every stock row of the run at 0', async () => {
    // Follow-up lag 300 + 50 × 4 = 500 of 900 events: orders and holds are both closed and left open.
    const scenario = join(dir, 'shop.json');
    writeFileSync(scenario, JSON.stringify({ scenario: 'omnichannel', stores: 3, warehouses: 1, skus: 30, shoppers: 200 }));
    const { options } = shortRun(server, { durationS: 3, rate: 300, subscribers: 4, skus: 30, scenario });
    const { report } = await runLoadgen({ ...options, cleanup: true }, () => undefined);
    expect(report.sent).toBe(900);
    expect(report.acked).toBeGreaterThan(850);

    // The run's stream again, from its prefix: what it made.
    const twin = openScenario({ scenario, skus: 30, idPrefix: report.idPrefix, releaseLag: 500 });
    const seeded = twin.setup().flat().filter((ev) => ev.type === 'stock.received');
    const sent: InputEvent[] = Array.from({ length: 900 }, () => twin.next());
    const holds = sent.filter((ev) => ev.type === 'stock.reserve').map((ev) => ev.reservation as string);
    const orders = sent.filter((ev) => ev.type === 'order.placed').map((ev) => ev.order as string);
    expect(holds.length).toBeGreaterThan(20);
    expect(orders.length).toBeGreaterThan(10);

    const steps = Object.fromEntries(report.cleanup!.steps.map((s) => [s.type, s]));
    expect(steps['stock.release'].sent).toBe(holds.length);
    expect(steps['order.cancelled'].sent).toBe(orders.length);
    // Some were still open when the run ended: the cleanup, not the run, ended them.
    expect(steps['stock.release'].applied).toBeGreaterThan(0);
    expect(steps['order.cancelled'].applied).toBeGreaterThan(0);
    expect(steps['stock.adjusted']).toEqual({ type: 'stock.adjusted', sent: seeded.length, applied: seeded.length });
    expect(report.cleanup!.unexpected).toEqual({});

    for (const sku of new Set(seeded.map((ev) => ev.sku as string))) {
      const stock = await getJson(server.url, `/v1/stock/${encodeURIComponent(sku)}`);
      expect(stock.status).toBe(200);
      expect(stock.body).toMatchObject({ onHand: 0, reserved: 0, available: 0 });
      for (const row of Object.values(stock.body.locations) as Array<{ onHand: number; reserved: number }>) expect(row).toMatchObject({ onHand: 0, reserved: 0 });
    }
    // A hold of the run is gone: releasing it again finds nothing.
    const again = await postJson(server.url, [{ id: `${report.idPrefix}-probe`, type: 'stock.release', reservation: holds[holds.length - 1] }], admin());
    expect(again.body.results[0]).toMatchObject({ ok: false, error: { code: 'unknown_reservation' } });
  });

  it('service: every request closed and every agent offline at once (no presence grace to wait for)', async () => {
    const { options } = shortRun(server, { durationS: 1, rate: 20, subscribers: 0, skus: 1, scenario: 'service' });
    const { report } = await runLoadgen({ ...options, desks: 4, thinkMs: 10, handleMs: 30, chatMessages: 0, cleanup: true }, () => undefined);
    expect(report.acked).toBe(20);
    const steps = Object.fromEntries(report.cleanup!.steps.map((s) => [s.type, s]));
    expect(steps['agent.offline']).toEqual({ type: 'agent.offline', sent: 4, applied: 4 });
    expect(steps['service.completed'].sent).toBe(20);

    const queues = await getJson(server.url, '/v1/queues', admin());
    const mine = Object.values(queues.body as Record<string, { topic: string; waiting: number; offered: number; agentsAvailable: number; agentsEligible: number }>).filter((q) => q.topic.startsWith(report.idPrefix));
    expect(mine).toHaveLength(4);
    for (const q of mine) expect(q).toMatchObject({ waiting: 0, offered: 0, agentsAvailable: 0, agentsEligible: 0 });
    for (let n = 0; n < 20; n++) {
      const request = await getJson(server.url, `/v1/requests/${report.idPrefix}-rq-${n}`, admin());
      expect(request.body.status).toBe('completed');
    }
  });
});

describe("a server's own data", () => {
  let other: TestServer;
  beforeAll(async () => {
    other = await startTestServer();
    const ingest = bearer(other.token('ingest', 'shop'));
    const own = await postJson(
      other.url,
      [
        { id: 'own-1', type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.52, lon: 13.4 },
        { id: 'own-2', type: 'stock.received', sku: 'TSHIRT-M', location: 'berlin-1', qty: 20 },
        { id: 'own-3', type: 'service.requested', request: 'req-1', subject: 'c42', channel: 'chat', topic: 'billing' },
      ],
      ingest,
    );
    expect(own.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    // What these events send on to other partitions is written too before the entries are counted.
    await other.engine.idle();
  });
  afterAll(() => other?.stop());

  it('is refused without --force, naming its service topics', async () => {
    const entries = async () => Number(/^omni_state_entries (\d+)$/m.exec(await (await fetch(`${other.url}/metrics`)).text())![1]);
    const before = await entries();
    const { options } = shortRun(other, { durationS: 0.5, rate: 100, subscribers: 0, skus: 5, scenario: 'stock' });
    const run = runLoadgen({ ...options, cleanup: true }, () => undefined);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/service topics no loadgen run made \(billing\).*--force/);
    // Nothing was written.
    expect(before).toBeGreaterThan(0);
    expect(await entries()).toBe(before);
  });

  it('with --force the run goes ahead and its cleanup leaves that data alone', async () => {
    const { options } = shortRun(other, { durationS: 1, rate: 200, subscribers: 2, skus: 5, scenario: 'stock' });
    const lines: string[] = [];
    const { report } = await runLoadgen({ ...options, cleanup: true, force: true }, (l) => lines.push(l));
    expect(report.sent).toBe(200);
    expect(lines.join('\n')).toMatch(/--force: running against a server with service topics of its own \(billing\)/);
    expect(report.cleanup!.steps.find((s) => s.type === 'stock.adjusted')!.applied).toBe(50);
    const tshirt = await getJson(other.url, '/v1/stock/TSHIRT-M');
    expect(tshirt.body).toMatchObject({ onHand: 20, reserved: 0 });
    const request = await getJson(other.url, '/v1/requests/req-1', bearer(signToken({ role: 'admin', sub: 'ops' }, TEST_SECRET)));
    expect(request.body.status).toBe('queued');
  });
});
