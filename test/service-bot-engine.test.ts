// The bot's knowledge base through the real engine: the entries are stored, the index is derived.
// In this process, an engine reopened after another data dir's entries were used answers from its
// own stored entries (the index is rebuilt for the stored version). And `omni serve --bot first`
// killed with SIGKILL after the fixture knowledge base was stored answers from it once restarted:
// a new process has no index but the one it builds from what the store holds.

import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine, type InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { killHard, postEvents, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as InputEvent[];
const TRACK = 'How can I track my order?';
const request = (id: string, text = TRACK): InputEvent => ({ id, type: 'service.requested', request: id, subject: `cust-${id}`, channel: 'chat', topic: 'orders', language: 'en', text });

const dirs = tempDirs('omni-bot-engine-');
afterAll(() => dirs.cleanup());

describe('the knowledge base across an engine restart (same process)', () => {
  it('answers from its own stored entries after another store was used in between', async () => {
    const clock = { t: 1_700_000_000_000, now: () => clock.t };
    const outputs: Array<{ topic: string; data: any }> = [];
    const open = async (path: string): Promise<Engine> => {
      const engine = await openEngine({ path, processors: defaultProcessors({ service: { bot: 'first' } }), clock, autoTimers: false });
      engine.onOutput((batch) => outputs.push(...(batch as typeof outputs)));
      return engine;
    };
    const mine = dirs.make();
    let engine = await open(mine);
    expect((await engine.submit(FIXTURE)).filter((a) => !a.ok)).toEqual([]);
    await engine.close();

    // Another data dir's knowledge base is the last one this process indexed.
    const other = await open(dirs.make());
    const hours = { id: 'h', type: 'faq.upserted', faq: 'hours', topic: 'stores', questions: ['When are you open?'], answer: '9 to 21.' };
    expect(await other.submit([hours, request('o1')])).toMatchObject([{ ok: true }, { ok: true, status: 'queued' }]);
    await other.close();

    engine = await open(mine);
    expect(await engine.submit([request('r1')])).toMatchObject([{ ok: true, status: 'bot', bot: true }]);
    const said = outputs.filter((o) => o.topic === 'request/r1' && o.data.from === 'bot').map((o) => o.data);
    expect(said).toMatchObject([{ faq: 'order-status-en' }]);
    // A removal there reaches the index too.
    expect(await engine.submit([{ id: 'rm', type: 'faq.removed', faq: 'order-status-en' }, request('r2')])).toMatchObject([{ ok: true }, { ok: true }]);
    expect(outputs.filter((o) => o.topic === 'request/r2' && o.data.from === 'bot').map((o) => o.data.faq)).not.toContain('order-status-en');
    await engine.close();
  });
});

describe('the knowledge base across kill -9', () => {
  const SECRET = 'bot-crash-secret';
  const ADMIN = signToken({ sub: 'ops', role: 'admin' }, SECRET);
  let current: RunningServe | undefined;
  afterEach(async () => void (current && (await killHard(current))));

  it('a restarted omni serve --bot first answers from the entries stored before the kill', async () => {
    const dataDir = dirs.make();
    const start = async () => void (current = await startServe({ dataDir, secret: SECRET, workers: 1, args: ['--bot', 'first'] }));
    await start();
    const stored = await postEvents(current!.url, ADMIN, FIXTURE);
    expect(stored.status).toBe(200);
    expect(stored.body.results.filter((a: { ok: boolean }) => !a.ok)).toEqual([]);
    expect((await killHard(current!)).signal).toBe('SIGKILL');

    await start();
    const asked = await postEvents(current!.url, ADMIN, [request('after-kill'), request('unknown', 'my cat ate the parcel and it smells of fish')]);
    expect(asked.status).toBe(200);
    expect(asked.body.results).toMatchObject([{ ok: true, status: 'bot', bot: true }, { ok: true, status: 'queued', bot: true }]);
    const status = await fetch(`${current!.url}/v1/requests/after-kill`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(await status.json()).toMatchObject({ status: 'bot' });
  });
});
