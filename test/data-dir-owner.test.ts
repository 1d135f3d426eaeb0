// One `omni serve` per data dir, with real processes: a second one is refused naming the first's
// pid, without touching the dir, while the first keeps serving; after a kill -9 the next start
// takes the stale dir over with every acknowledged event; an entry naming a live but unrelated
// process is judged by its start time; of servers racing to start, exactly one serves; a server
// whose lock entry disappears stops and exits non-zero.

import { readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { signToken } from '../gateway/mod.ts';
import { getStock, killHard, listeningUrl, postEvents, spawnServe, startServe, tempDirs, type ServeProcess } from './fixtures/omni-process.ts';

const SECRET = 'data-dir-owner-test';
const TOKEN = signToken({ sub: 'owner-test', role: 'ingest' }, SECRET);
const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

const dirs = tempDirs('omni-owner-test-');
const running: ServeProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(killHard));
});
afterAll(() => dirs.cleanup());

function serve(dataDir: string): ServeProcess {
  const proc = spawnServe({ dataDir, secret: SECRET, durability: 'fsync' });
  running.push(proc);
  return proc;
}

async function started(dataDir: string): Promise<ServeProcess & { url: string }> {
  const proc = serve(dataDir);
  return { ...proc, url: await listeningUrl(proc) };
}

function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Names, link texts, sizes and modification times: what a refused process must leave alone. */
function snapshot(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      const link = name.startsWith('omni.lock.') ? readlinkSync(path) : '';
      return `${name} ${link} ${stat?.size ?? '-'} ${stat?.mtimeMs ?? '-'}`;
    });
}

const location = { id: 'loc', type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 1 };
const receipt = (n: number) => ({ id: `rcv-${n}`, type: 'stock.received', sku: 'SKU', location: 'S1', qty: 1 });

it('refuses a second server on the same dir, naming the first one, and leaves the dir as it was', async () => {
  const dir = dirs.make();
  const first = await started(dir);
  expect((await postEvents(first.url, TOKEN, [location, receipt(1)])).status).toBe(200);
  const before = snapshot(dir);
  const second = serve(dir);
  const exit = await second.exited;
  expect(exit.code).toBe(1);
  expect(second.stderr()).toContain(`omni: data dir ${dir} is in use by pid ${first.child.pid} (started `);
  expect(second.stderr()).toContain('stop it or use another --data');
  expect(second.stdout()).not.toContain('listening');
  expect(snapshot(dir)).toEqual(before);
  // The first one never noticed.
  expect((await postEvents(first.url, TOKEN, [receipt(2)])).body.results[0]).toMatchObject({ ok: true });
  expect((await getStock(first.url, 'SKU')).body).toMatchObject({ onHand: 2 });
});

it('after a kill -9 the next start takes the stale dir over, with every acknowledged event', async () => {
  const dir = dirs.make();
  const first = await started(dir);
  const sent = [location, ...Array.from({ length: 40 }, (_, i) => receipt(i))];
  for (let i = 0; i < sent.length; i += 8) {
    const { body } = await postEvents(first.url, TOKEN, sent.slice(i, i + 8));
    expect(body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
  }
  await killHard(first);
  expect(readdirSync(dir).filter((n) => n.startsWith('omni.lock.')).map((n) => readlinkSync(join(dir, n)))).toEqual([
    expect.stringMatching(new RegExp(`^pid=${first.child.pid} `)),
  ]);
  const second = await started(dir);
  expect(second.stderr()).not.toContain('in use');
  expect((await getStock(second.url, 'SKU')).body).toMatchObject({ onHand: 40 });
  const again = await postEvents(second.url, TOKEN, sent);
  expect(again.body.results.every((r: { ok: boolean; duplicate?: boolean }) => r.ok && r.duplicate === true)).toBe(true);
});

it('judges an entry naming a live process by its start time: a reused pid is stale, a real holder is not', async () => {
  const reused = dirs.make();
  symlinkSync(`pid=${process.pid} start=1 boot=${BOOT} since=2020-01-01T00:00:00.000Z`, join(reused, 'omni.lock.3'));
  const taken = await started(reused);
  expect((await postEvents(taken.url, TOKEN, [location])).status).toBe(200);
  expect(readdirSync(reused).filter((n) => n.startsWith('omni.lock.'))).toEqual(['omni.lock.4']);

  const held = dirs.make();
  symlinkSync(`pid=1 start=${startTicks(1)} boot=${BOOT} since=2020-01-01T00:00:00.000Z`, join(held, 'omni.lock.3'));
  const refused = serve(held);
  expect((await refused.exited).code).toBe(1);
  expect(refused.stderr()).toContain(`in use by pid 1 (started 2020-01-01T00:00:00.000Z)`);
  expect(readdirSync(held)).toEqual(['omni.lock.3']);
});

it('of three servers started at once on one dir, exactly one serves; the others name it', async () => {
  const dir = dirs.make();
  // A stale entry too, so that all three find the same dead owner and race to take over.
  symlinkSync(`pid=${2 ** 22 + 1} start=1 boot=${BOOT} since=x`, join(dir, 'omni.lock.9'));
  const procs = [serve(dir), serve(dir), serve(dir)];
  const outcomes = await Promise.all(
    procs.map((p) =>
      Promise.race([listeningUrl(p).then(() => 'serving' as const), p.exited.then(() => 'exited' as const)]).catch(() => 'exited' as const),
    ),
  );
  const winners = procs.filter((_, i) => outcomes[i] === 'serving');
  expect(winners).toHaveLength(1);
  for (const [i, p] of procs.entries()) {
    if (outcomes[i] === 'serving') continue;
    expect((await p.exited).code).toBe(1);
    expect(p.stderr()).toContain(`is in use by pid ${winners[0].child.pid} `);
  }
});

it('stops and exits non-zero when its lock entry is removed while serving', async () => {
  const dir = dirs.make();
  const server = await startServe({ dataDir: dir, secret: SECRET });
  running.push(server);
  const [entry] = readdirSync(dir).filter((n) => n.startsWith('omni.lock.'));
  unlinkSync(join(dir, entry));
  // The server checks its entry every 2 s; its exit is the event waited for.
  const exit = await server.exited;
  expect(exit.code).toBe(1);
  expect(server.stderr()).toContain(`data dir ${dir} is no longer owned by this process (its lock entry ${entry} was removed)`);
});
