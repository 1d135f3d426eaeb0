// One `omni serve` per data dir across pid namespaces, with real processes: each server runs as
// pid 1 of its own namespace (`unshare --pid`), as containers sharing one volume do. A second one
// is refused naming the holder's pid and namespace while the holder keeps serving and renewing its
// lease; after the holder is killed hard, starts are refused until its lease has run out, and then
// one takes the dir over with every acknowledged event. Needs util-linux `unshare` and root, as in
// CI (.ci/run, Debian 12).

import { spawnSync } from 'node:child_process';
import { lstatSync, lutimesSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { DataDirLock } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { getStock, killHard, listeningUrl, postEvents, spawnServe, startServe, tempDirs, type ServeOptions, type ServeProcess } from './fixtures/omni-process.ts';

const SECRET = 'data-dir-namespaces-test';
const TOKEN = signToken({ sub: 'namespaces-test', role: 'ingest' }, SECRET);
/** A new pid namespace (node is its pid 1, as in a container) with its own /proc; node dies with unshare. */
const CONTAINER = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

const dirs = tempDirs('omni-pidns-test-');
const running: ServeProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(killHard));
});
afterAll(() => dirs.cleanup());

beforeAll(() => {
  const probe = spawnSync(CONTAINER[0], [...CONTAINER.slice(1), 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`these tests need \`${CONTAINER.join(' ')}\` (util-linux, run as root): ${probe.error?.message ?? probe.stderr}`);
  }
});

function serve(dataDir: string, launcher: readonly string[] = CONTAINER): ServeProcess {
  const proc = spawnServe(options(dataDir, launcher));
  running.push(proc);
  return proc;
}

function options(dataDir: string, launcher: readonly string[] = CONTAINER): ServeOptions {
  return { dataDir, secret: SECRET, durability: 'fsync', launcher };
}

function lockEntries(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('omni.lock.'));
}

async function refused(dir: string, launcher?: readonly string[]): Promise<ServeProcess> {
  const proc = serve(dir, launcher);
  const serving = await Promise.race([listeningUrl(proc).then(() => true, () => false), proc.exited.then(() => false)]);
  expect(serving, 'a second server started serving on a data dir in use').toBe(false);
  expect((await proc.exited).code).toBe(1);
  return proc;
}

const location = { id: 'loc', type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 1 };
const receipt = (n: number) => ({ id: `rcv-${n}`, type: 'stock.received', sku: 'SKU', location: 'S1', qty: 1 });

it('containers on one volume: the second is refused while the first serves; after a kill -9, the lease decides', async () => {
  const dir = dirs.make();
  const holder = await startServe(options(dir));
  running.push(holder);
  const sent = [location, ...Array.from({ length: 20 }, (_, i) => receipt(i))];
  expect((await postEvents(holder.url, TOKEN, sent)).body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);

  const [name] = lockEntries(dir);
  const entry = join(dir, name);
  const record = /^pid=1 start=\d+ boot=\S+ pidns=(pid:\[\d+\]) since=(\S+)$/.exec(readlinkSync(entry));
  expect(record, readlinkSync(entry)).not.toBeNull();
  const [, holderNamespace, since] = record!;
  expect(holderNamespace).not.toBe(readlinkSync('/proc/self/ns/pid'));

  // The holder renews its lease by itself (every 2 s).
  const seen = lstatSync(entry).mtimeMs;
  await vi.waitFor(() => expect(lstatSync(entry).mtimeMs).toBeGreaterThan(seen), { timeout: 15_000, interval: 50 });

  // Another container, and a server outside any container: both pid 1 there or unrelated, both refused.
  for (const launcher of [CONTAINER, []]) {
    const second = await refused(dir, launcher);
    expect(second.stderr()).toContain(`omni: data dir ${dir} is in use by pid 1 in another pid namespace, ${holderNamespace} (started ${since}; if that process is gone, the dir is free in `);
    expect(second.stderr()).toContain('stop it or use another --data');
    expect(lockEntries(dir)).toEqual([name]);
    expect(readlinkSync(entry)).toBe(record![0]);
  }
  expect((await postEvents(holder.url, TOKEN, [receipt(20)])).body.results[0]).toMatchObject({ ok: true });
  expect((await getStock(holder.url, 'SKU')).body).toMatchObject({ onHand: 21 });

  // Killed hard: its entry stays, its lease still runs, so the next container is refused for now.
  await killHard(holder);
  expect(lockEntries(dir)).toEqual([name]);
  await refused(dir);
  // The lease running out, without waiting for it: the last renewal made older than the lease.
  const lapsed = new Date(Date.now() - DataDirLock.leaseMs - 1_000);
  lutimesSync(entry, lapsed, lapsed);
  const next = await startServe(options(dir));
  running.push(next);
  expect(next.stderr()).not.toContain('in use');
  expect((await getStock(next.url, 'SKU')).body).toMatchObject({ onHand: 21 });
  const again = await postEvents(next.url, TOKEN, sent);
  expect(again.body.results.every((r: { ok: boolean; duplicate?: boolean }) => r.ok && r.duplicate === true)).toBe(true);
});
