// Cases through the real engine on a data dir, with a manual clock: the overdue timer is durable.
// The engine is closed before the due time and reopened on the same dir after it: the alert is
// raised once on reopening (not again on a later reopen), and a case resolved before closing
// raises nothing.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine } from '../engine/mod.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const HOUR = 3_600_000;

describe('the case overdue timer across a restart', () => {
  it('fires once after the engine is reopened past the due time; a resolved case stays quiet', async () => {
    const path = mkdtempSync(join(tmpdir(), 'omni-cases-'));
    dirs.push(path);
    const clock = { t: 1_700_000_000_000, now: () => clock.t };
    const alerts: unknown[] = [];
    const open = async (): Promise<Engine> => {
      const engine = await openEngine({ path, processors: defaultProcessors(), clock, autoTimers: false });
      engine.onOutput((batch) => alerts.push(...batch.filter((o) => o.topic === 'alerts/service').map((o) => o.data)));
      // Timers that came due while it was closed fire on open.
      await engine.idle();
      return engine;
    };
    let engine = await open();
    const answers = await engine.submit([
      { id: 'link', type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' },
      { id: 'o1', type: 'case.opened', case: 'late', subject: 'phone:+1', topic: 'refunds', team: 'billing', summary: 'refund not arrived', dueMs: HOUR },
      { id: 'o2', type: 'case.opened', case: 'quick', subject: 'c1', topic: 'refunds', team: 'billing', summary: 'wrong size', dueMs: HOUR },
    ]);
    expect(answers.map((a) => a.ok)).toEqual([true, true, true]);
    clock.t += HOUR / 2;
    expect(await engine.submit([{ id: 'u1', type: 'case.updated', case: 'quick', status: 'resolved', note: 'exchanged' }, { id: 'u2', type: 'case.updated', case: 'late', status: 'pending', note: 'asked the bank' }])).toMatchObject([{ ok: true }, { ok: true }]);
    // Not due yet: nothing raised before the restart, so the one alert below is the reopening's.
    await engine.runDueTimers();
    expect(alerts).toEqual([]);
    await engine.close();

    clock.t += HOUR;
    engine = await open();
    await engine.runDueTimers();
    expect(alerts).toEqual([{ type: 'case_overdue', case: 'late', customer: 'c1', team: 'billing', dueAt: 1_700_000_000_000 + HOUR }]);
    const shown = engine.snapshot('cases/c1')?.data as { cases: Array<{ case: string; status: string; overdue?: boolean }> };
    expect(shown.cases.map((k) => [k.case, k.status, k.overdue ?? false])).toEqual([
      ['quick', 'resolved', false],
      ['late', 'pending', true],
    ]);
    await engine.close();

    clock.t += 48 * HOUR;
    engine = await open();
    await engine.runDueTimers();
    expect(alerts).toHaveLength(1);
    await engine.close();
  });
});
