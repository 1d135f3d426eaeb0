// The data dir lock (engine/data-dir-lock.ts): one owner per dir, refusals name the holder and
// write nothing, stale entries (dead pid, reused pid, other boot, garbage) are taken over, an entry
// from another pid namespace lives exactly as long as its lease, a held lock renews its lease and
// notices when it is lost, the engine takes and releases it, and processes racing for one dir —
// empty, stale or released — end with exactly one owner.

import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DataDirInUseError, DataDirLock, DataDirLockLostError, openEngine, stockProcessor } from '../engine/mod.ts';
import { bundle, type Bundle } from './bundle-harness.ts';
import { ROOT, tempDirs } from './fixtures/omni-process.ts';

const dirs = tempDirs('omni-lock-test-');
const held: DataDirLock[] = [];
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
});
afterAll(() => dirs.cleanup());

/** PID_MAX_LIMIT on 64-bit Linux is 2^22: no process ever has a pid above it. */
const NO_SUCH_PID = 2 ** 22 + 1;
const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const PIDNS = readlinkSync('/proc/self/ns/pid');
/** No real pid namespace has this number (the kernel numbers them from 0xEFFFFFFC up). */
const OTHER_PIDNS = 'pid:[1]';

function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function take(dir: string): DataDirLock {
  const lock = DataDirLock.acquire(dir, { checkEveryMs: 0 });
  held.push(lock);
  return lock;
}

function entry(dir: string, n: number, text: string): void {
  symlinkSync(text, join(dir, `omni.lock.${n}`));
}

/** Every name in the dir with its link text: what a refused taker must leave as it was. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    try {
      out[name] = readlinkSync(join(dir, name));
    } catch {
      out[name] = '(file)';
    }
  }
  return out;
}

describe('taking and releasing', () => {
  it('takes a dir that does not exist yet, naming this process, its start time and boot', () => {
    const dir = join(dirs.make(), 'nested', 'data');
    const lock = take(dir);
    expect(lock.entry).toBe(1);
    expect(readdirSync(dir)).toEqual(['omni.lock.1']);
    expect(readlinkSync(join(dir, 'omni.lock.1'))).toMatch(
      new RegExp(`^pid=${process.pid} start=${startTicks(process.pid)} boot=${BOOT} pidns=${PIDNS.replace(/[[\]]/g, '\\$&')} since=\\d{4}-\\d\\d-\\d\\dT\\S+Z$`),
    );
  });

  it('refuses a second taker while held, naming the holder, and writes nothing', () => {
    const dir = dirs.make();
    take(dir);
    const before = contents(dir);
    let refusal: unknown;
    try {
      take(dir);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataDirInUseError);
    expect((refusal as DataDirInUseError).holder).toMatchObject({ pid: process.pid, self: true });
    expect((refusal as Error).message).toContain(`data dir ${dir} is in use by pid ${process.pid} (this process)`);
    expect(contents(dir)).toEqual(before);
  });

  it('release leaves a free entry above its own; the next taker gets the dir and clears history', () => {
    const dir = dirs.make();
    const first = take(dir);
    first.release();
    expect(first.held).toBe(false);
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.2']);
    expect(contents(dir)['omni.lock.2']).toMatch(/^free since=/);
    first.release();
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.2']);
    const second = take(dir);
    expect(second.entry).toBe(3);
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.3']);
  });

  it('leaves every other file in the dir alone', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'secret'), 'x\n');
    writeFileSync(join(dir, 'omni.lock.tmp'), '');
    take(dir).release();
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.2', 'omni.lock.tmp', 'secret']);
  });

  it('is not misled by a name with a leading zero (omni.lock.07 is no entry)', () => {
    const dir = dirs.make();
    symlinkSync(`pid=${process.pid} start=1 boot=x since=x`, join(dir, 'omni.lock.07'));
    const lock = take(dir);
    expect(readlinkSync(join(dir, 'omni.lock.1'))).toMatch(new RegExp(`^pid=${process.pid} `));
    lock.release();
  });
});

describe('stale and live holders', () => {
  const pid1 = startTicks(1);
  const stale: Array<[string, (dir: string) => void]> = [
    ['a pid that does not exist', (dir) => entry(dir, 5, `pid=${NO_SUCH_PID} start=123 boot=${BOOT} since=2020-01-01T00:00:00.000Z`)],
    ['this process pid with another start time (a reused pid)', (dir) => entry(dir, 5, `pid=${process.pid} start=1 boot=${BOOT} since=x`)],
    ['pid 1 with another start time', (dir) => entry(dir, 5, `pid=1 start=${Number(pid1) + 7} boot=${BOOT} since=x`)],
    ['pid 1 with its start time but another boot', (dir) => entry(dir, 5, `pid=1 start=${pid1} boot=00000000-0000-0000-0000-000000000000 since=x`)],
    ['a dead pid in our own pid namespace, said so', (dir) => entry(dir, 5, `pid=${NO_SUCH_PID} start=1 boot=${BOOT} pidns=${PIDNS} since=x`)],
    ['another pid namespace on another boot, however fresh', (dir) => entry(dir, 5, `pid=1 start=1 boot=00000000-0000-0000-0000-000000000000 pidns=${OTHER_PIDNS} since=x`)],
    ['text this module never writes', (dir) => entry(dir, 5, 'hello')],
    ['a plain file instead of a link', (dir) => writeFileSync(join(dir, 'omni.lock.5'), 'pid=1')],
  ];

  it.each(stale)('takes over an entry naming %s', (_, write) => {
    const dir = dirs.make();
    write(dir);
    const lock = take(dir);
    expect(lock.entry).toBe(6);
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.6']);
  });

  it.each([
    ['without a pid namespace, as written before it was recorded', ''],
    ['in our pid namespace', ` pidns=${PIDNS}`],
  ])('refuses when a live unrelated process holds it (pid 1 with its real start time, %s)', (_, pidns) => {
    const dir = dirs.make();
    entry(dir, 4, `pid=1 start=${pid1} boot=${BOOT}${pidns} since=2021-02-03T04:05:06.000Z`);
    entry(dir, 3, 'free');
    const before = contents(dir);
    expect(() => take(dir)).toThrow(/in use by pid 1 \(started 2021-02-03T04:05:06.000Z\)$/);
    expect(contents(dir)).toEqual(before);
  });

  it('only the highest entry counts: a live record below a free one is history', () => {
    const dir = dirs.make();
    entry(dir, 6, `pid=1 start=${pid1} boot=${BOOT} since=x`);
    entry(dir, 7, 'free since=x');
    expect(take(dir).entry).toBe(8);
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.8']);
  });
});

describe('holders in another pid namespace (containers sharing a volume)', () => {
  const LEASE = DataDirLock.leaseMs;

  /** Pid 1 with another start time: stale if it were ours, the defect this lease fixes. */
  function foreign(dir: string, renewedMsAgo: number): void {
    entry(dir, 4, `pid=1 start=${Number(startTicks(1)) + 7} boot=${BOOT} pidns=${OTHER_PIDNS} since=2021-02-03T04:05:06.000Z`);
    const renewed = new Date(Date.now() - renewedMsAgo);
    lutimesSync(join(dir, 'omni.lock.4'), renewed, renewed);
  }

  function refusal(dir: string): DataDirInUseError {
    const before = contents(dir);
    const mtime = lstatSync(join(dir, 'omni.lock.4')).mtimeMs;
    try {
      take(dir);
    } catch (error) {
      expect(contents(dir)).toEqual(before);
      expect(lstatSync(join(dir, 'omni.lock.4')).mtimeMs).toBe(mtime);
      return error as DataDirInUseError;
    }
    throw new Error(`took ${dir} although it is held`);
  }

  it('refuses while its lease is fresh, naming its pid and namespace, and writes nothing', () => {
    const dir = dirs.make();
    foreign(dir, 0);
    const error = refusal(dir);
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect(error.holder).toMatchObject({ pid: 1, self: false, pidNamespace: OTHER_PIDNS });
    expect(error.holder.leaseLeftMs).toBeGreaterThan(LEASE - 5_000);
    expect(error.message).toMatch(
      /^data dir \S+ is in use by pid 1 in another pid namespace, pid:\[1\] \(started 2021-02-03T04:05:06.000Z; if that process is gone, the dir is free in \d+\.\d s\)$/,
    );
  });

  it('refuses until the lease runs out, telling how long is left', () => {
    const dir = dirs.make();
    foreign(dir, LEASE - 3_000);
    const { leaseLeftMs } = refusal(dir).holder;
    expect(leaseLeftMs).toBeGreaterThan(0);
    expect(leaseLeftMs).toBeLessThanOrEqual(3_000);
  });

  it('refuses when the renewal time is in the future (the clock stepped back)', () => {
    const dir = dirs.make();
    foreign(dir, -3_600_000);
    expect(refusal(dir).holder.pid).toBe(1);
  });

  it('takes it over once the lease has run out', () => {
    const dir = dirs.make();
    foreign(dir, LEASE + 1_000);
    expect(take(dir).entry).toBe(5);
    expect(Object.keys(contents(dir))).toEqual(['omni.lock.5']);
  });
});

describe('renewing the lease', () => {
  const HOUR_AGO = new Date(Date.now() - 3_600_000);

  function age(dir: string, n: number): number {
    lutimesSync(join(dir, `omni.lock.${n}`), HOUR_AGO, HOUR_AGO);
    return lstatSync(join(dir, `omni.lock.${n}`)).mtimeMs;
  }

  it('each check renews the entry it holds', () => {
    const dir = dirs.make();
    const lock = take(dir);
    const before = Date.now();
    expect(age(dir, 1)).toBeLessThan(before - 3_000_000);
    expect(lock.check()).toBe(true);
    // Set from a Date: seconds as a double, which may land a hair under the millisecond.
    expect(lstatSync(join(dir, 'omni.lock.1')).mtimeMs).toBeGreaterThanOrEqual(before - 1);
  });

  it('a held lock renews on its own timer', async () => {
    const dir = dirs.make();
    const lock = DataDirLock.acquire(dir, { checkEveryMs: 20 });
    held.push(lock);
    const aged = age(dir, 1);
    await vi.waitFor(() => expect(lstatSync(join(dir, 'omni.lock.1')).mtimeMs).toBeGreaterThan(aged), { timeout: 10_000, interval: 10 });
  });

  it('a lock taken over renews nothing: not its old entry, not the new owner', () => {
    const dir = dirs.make();
    const lock = take(dir);
    entry(dir, 2, `pid=1 start=${startTicks(1)} boot=${BOOT} pidns=${OTHER_PIDNS} since=x`);
    const ours = age(dir, 1);
    const theirs = age(dir, 2);
    expect(lock.check()).toBe(false);
    expect(lstatSync(join(dir, 'omni.lock.1')).mtimeMs).toBe(ours);
    expect(lstatSync(join(dir, 'omni.lock.2')).mtimeMs).toBe(theirs);
  });

  it('refuses a check period the lease could lapse in, taking nothing', () => {
    const dir = dirs.make();
    expect(() => DataDirLock.acquire(dir, { checkEveryMs: DataDirLock.leaseMs })).toThrow(RangeError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('losing a held dir', () => {
  function watched(dir: string): { lock: DataDirLock; lost: DataDirLockLostError[] } {
    const lock = take(dir);
    const lost: DataDirLockLostError[] = [];
    lock.onLost((error) => lost.push(error));
    return { lock, lost };
  }

  it('stays held while nobody touches it', () => {
    const { lock, lost } = watched(dirs.make());
    expect(lock.check()).toBe(true);
    expect(lost).toEqual([]);
  });

  it('notices its entry removed, tells the listeners once, and then writes nothing on release', () => {
    const dir = dirs.make();
    const { lock, lost } = watched(dir);
    unlinkSync(join(dir, 'omni.lock.1'));
    expect(lock.check()).toBe(false);
    expect(lock.check()).toBe(false);
    expect(lost).toHaveLength(1);
    expect(lost[0].message).toContain(`data dir ${dir} is no longer owned by this process (its lock entry omni.lock.1 was removed)`);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('notices its entry replaced', () => {
    const dir = dirs.make();
    const { lock, lost } = watched(dir);
    unlinkSync(join(dir, 'omni.lock.1'));
    entry(dir, 1, `pid=1 start=${startTicks(1)} boot=${BOOT} since=x`);
    expect(lock.check()).toBe(false);
    expect(lost[0].reason).toBe('its lock entry omni.lock.1 was replaced');
  });

  it('notices a newer entry, naming who took it over', () => {
    const dir = dirs.make();
    const { lock, lost } = watched(dir);
    entry(dir, 2, `pid=1 start=${startTicks(1)} boot=${BOOT} since=x`);
    expect(lock.check()).toBe(false);
    expect(lost[0].reason).toBe('pid 1 took it over (omni.lock.2)');
  });

  it('notices the dir removed', () => {
    const parent = dirs.make();
    const dir = join(parent, 'data');
    const { lock, lost } = watched(dir);
    unlinkSync(join(dir, 'omni.lock.1'));
    rmdirSync(dir);
    expect(lock.check()).toBe(false);
    expect(lost[0].reason).toBe('the data dir was removed');
  });
});

describe('the engine', () => {
  it('takes its data dir, refuses a second engine on it, and hands it back on close', async () => {
    const dir = dirs.make();
    const first = await openEngine({ path: dir, processors: [stockProcessor()], durability: 'none' });
    await expect(openEngine({ path: dir, processors: [stockProcessor()], durability: 'none' })).rejects.toBeInstanceOf(DataDirInUseError);
    await first.close();
    const second = await openEngine({ path: dir, processors: [stockProcessor()], durability: 'none' });
    expect(second.epoch).toBe(first.epoch);
    await second.close();
    expect(Object.keys(contents(dir)).filter((name) => name.startsWith('omni.lock.'))).toEqual(['omni.lock.4']);
  });

  it('stops through onFatal when its dir is lost, refusing events from then on', async () => {
    const dir = dirs.make();
    const lock = DataDirLock.acquire(dir, { checkEveryMs: 0 });
    const engine = await openEngine({ path: dir, processors: [stockProcessor()], durability: 'none', dataDirLock: lock });
    const fatal: Error[] = [];
    engine.onFatal((error) => fatal.push(error));
    unlinkSync(join(dir, `omni.lock.${lock.entry}`));
    lock.check();
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(DataDirLockLostError);
    await expect(engine.submit([{ id: 'l', type: 'location.upserted', location: 'S', kind: 'store' }])).rejects.toBeInstanceOf(DataDirLockLostError);
    await engine.close();
    // Lost: closing must not write a free entry over whoever holds the dir now.
    expect(readdirSync(dir).filter((name) => name.startsWith('omni.lock.'))).toEqual([]);
  });

  it('refuses a lock taken for another dir', async () => {
    const lock = take(dirs.make());
    await expect(openEngine({ path: dirs.make(), processors: [stockProcessor()], dataDirLock: lock })).rejects.toThrow(/the data dir lock given is for/);
  });
});

/**
 * The contender bundled once (bundle-harness.ts): each of the racing processes loads plain
 * JavaScript instead of compiling the engine's modules through tsx.
 */
let contender: Bundle;
beforeAll(async () => {
  contender = await bundle({ 'lock-contender': 'test/fixtures/lock-contender.ts' });
});
afterAll(() => contender?.remove());

/** A contender process (test/fixtures/lock-contender.ts), asked one line at a time. */
class Contender {
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, [contender.file('lock-contender')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.answers.push(line);
    });
  }

  next(): Promise<string> {
    const line = this.answers.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  tell(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }
}

describe('processes racing for one dir', () => {
  it('end with exactly one owner, whether the dir is new, stale or released, and every refusal names it', async () => {
    const contenders = Array.from({ length: 4 }, () => new Contender());
    try {
      for (const c of contenders) expect(await c.next()).toBe('ready');
      const dir = join(dirs.make(), 'data');
      mkdirSync(dir);
      for (let round = 0; round < 45; round++) {
        // Round kinds: a released dir (left by the previous round), a stale owner, a new dir.
        if (round % 3 === 1) entry(dir, 1_000 + round, `pid=${NO_SUCH_PID} start=1 boot=${BOOT} since=x`);
        const target = round % 3 === 2 ? join(dirs.make(), 'fresh') : dir;
        const at = Date.now() + 30;
        for (const c of contenders) c.tell(`take ${target} ${at}`);
        const answers = await Promise.all(contenders.map((c) => c.next()));
        const winners = contenders.filter((_, i) => answers[i].startsWith('held '));
        expect(winners, `round ${round}: ${answers.join(', ')}`).toHaveLength(1);
        const owner = winners[0].child.pid;
        for (const answer of answers) if (!answer.startsWith('held ')) expect(answer).toBe(`refused ${owner}`);
        winners[0].tell('release');
        expect(await winners[0].next()).toBe('released');
      }
    } finally {
      for (const c of contenders) c.child.kill('SIGKILL');
    }
  });
});
