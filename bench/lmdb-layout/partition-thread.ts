// One thread of the lmdb-layout bench (layouts.ts starts them). An "apply" thread owns one
// partition: it reads a record by key, modifies it, writes it back and adds a dedup entry per
// event, and group-commits (a batch is what it applied while its previous commit was in flight).
// Its commits go to its own environment (A), to the environment all threads share (B), or as
// msgpack bytes to the one "writer" thread (C), which commits every write set it holds in one
// transaction per turn. Every commit is an fsync'd LMDB commit, as the engine's durability fsync.

import { readFileSync } from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { open, type Database, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { ZipfSampler, prng } from '../../loadgen/mod.ts';

export type Layout = 'A' | 'B' | 'C';

export interface ApplyConfig {
  role: 'apply';
  layout: Layout;
  path: string;
  thread: number;
  keys: number;
  maxBatch: number;
  /** Events this thread is offered per second; 0: without limit. */
  rate: number;
  /** C: where this thread sends its write sets. */
  writer?: MessagePort;
}

export interface WriterConfig {
  role: 'writer';
  path: string;
  /** One port per apply thread. */
  ports: MessagePort[];
}

/** What a thread reports over the measured window (between 'mark' and 'stop'). */
export interface WindowStats {
  windowMs: number;
  /** Events made durable in the window. */
  events: number;
  /** LMDB commits (each one fsync) for A, B and the writer; write sets sent for C's apply threads. */
  commits: number;
  /** Issue → durable of each commit ended in the window, ms. */
  latenciesMs: number[];
  /** This thread's own CPU (user + system) over the window, µs. */
  cpuUs: number;
}

export interface ApplyDone extends WindowStats {
  kind: 'done';
  /** Events applied from go to stop, all made durable before reporting. */
  applied: number;
  /** Read back from LMDB after the drain: sum of the records' versions (one per event) and dedup entries. */
  storedVersions: number;
  storedDedup: number;
  recordBytes: number;
}

export type FromThread = { kind: 'ready' } | ApplyDone | ({ kind: 'writer-done' } & WindowStats);
/** go: start applying; mark / stop: the measured window; close (writer): every apply thread is done. */
export type ToThread = { kind: 'go' } | { kind: 'mark' } | { kind: 'stop' } | { kind: 'close' };

interface PartitionRecord {
  sku: string;
  location: string;
  onHand: number;
  reserved: number;
  sold: number;
  version: number;
  updatedAt: number;
  holds: Array<{ id: string; qty: number; until: number }>;
  note: string;
}

/** The engine's options for durability fsync (engine/store.ts, lmdbOptions), with a smaller map. */
function openEnv(path: string): { root: RootDatabase; state: Database<Buffer, string>; dedup: Database<Buffer, string> } {
  const root = open({ path, noSubdir: false, overlappingSync: false, noSync: false, commitDelay: 0, mapSize: 8 * 1024 ** 3, maxDbs: 4 });
  return { root, state: root.openDB<Buffer, string>({ name: 'state', encoding: 'binary' }), dedup: root.openDB<Buffer, string>({ name: 'dedup', encoding: 'binary' }) };
}

const codec = new Packr({ useRecords: false, moreTypes: false });
const encode = (value: unknown) => new Uint8Array(codec.pack(value)) as Buffer;

/** This thread's CPU time in µs: /proc/thread-self is the calling thread's own task entry (Linux). */
function threadCpuUs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime in USER_HZ (100 on mainstream Linux builds).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Counters that the 'mark' and 'stop' messages take snapshots of. */
class Window {
  events = 0;
  commits = 0;
  latenciesMs: number[] = [];
  private start?: { at: number; events: number; commits: number; latencies: number; cpu: number };
  private end?: WindowStats;
  mark(): void {
    this.start = { at: performance.now(), events: this.events, commits: this.commits, latencies: this.latenciesMs.length, cpu: threadCpuUs() };
  }
  stop(): void {
    const s = this.start ?? { at: performance.now(), events: this.events, commits: this.commits, latencies: this.latenciesMs.length, cpu: threadCpuUs() };
    this.end = {
      windowMs: performance.now() - s.at,
      events: this.events - s.events,
      commits: this.commits - s.commits,
      latenciesMs: this.latenciesMs.slice(s.latencies),
      cpuUs: threadCpuUs() - s.cpu,
    };
  }
  stats(): WindowStats {
    if (!this.end) this.stop();
    return this.end!;
  }
}

interface Batch {
  records: Map<number, PartitionRecord>;
  firstEvent: number;
  events: number;
}

async function runApply(config: ApplyConfig): Promise<void> {
  const { layout, thread, keys, maxBatch, rate } = config;
  const { root, state, dedup } = openEnv(config.path);
  const key = (rank: number) => `t${thread}:r${rank}`;
  const dedupKey = (seq: number) => `t${thread}:e${seq}`;
  const zipf = new ZipfSampler(keys);
  const random = prng(1000 + thread);
  const window = new Window();
  let stopping = false;
  let started: () => void = () => {};
  const go = new Promise<void>((resolve) => (started = resolve));
  let durableFromWriter: (() => void) | undefined;
  config.writer?.on('message', () => durableFromWriter?.());
  parentPort!.on('message', (m: ToThread) => {
    if (m.kind === 'go') started();
    else if (m.kind === 'mark') window.mark();
    else if (m.kind === 'stop') {
      window.stop();
      stopping = true;
    }
  });

  /** Writes the batch through this thread's layout; resolves when it is durable. */
  const commit = (b: Batch): Promise<unknown> => {
    const values = [...b.records].map(([rank, rec]) => [key(rank), encode(rec)] as const);
    const dedupEntries = Array.from({ length: b.events }, (_, i) => [dedupKey(b.firstEvent + i), dedupValue(b.firstEvent + i)] as const);
    if (layout !== 'C') {
      return root.batch(() => {
        for (const [k, v] of values) state.put(k, v);
        for (const [k, v] of dedupEntries) dedup.put(k, v);
      }) as Promise<unknown>;
    }
    const bytes = new Uint8Array(codec.pack([values, dedupEntries]));
    const durable = new Promise<void>((resolve) => (durableFromWriter = resolve));
    config.writer!.postMessage(bytes, [bytes.buffer]);
    return durable;
  };

  let recordBytes = 0;
  const seed = new Map<number, PartitionRecord>();
  for (let rank = 0; rank < keys; rank++) seed.set(rank, seedRecord(rank));
  recordBytes = encode(seed.get(0)).length;
  await commit({ records: seed, firstEvent: 0, events: 0 });
  root.resetReadTxn();
  parentPort!.postMessage({ kind: 'ready' } satisfies FromThread);
  await go;

  let applied = 0;
  let pending: Batch = { records: new Map(), firstEvent: 0, events: 0 };
  let inflight: { batch: Batch; done: Promise<unknown> } | undefined;
  const read = (rank: number): PartitionRecord =>
    pending.records.get(rank) ?? inflight?.batch.records.get(rank) ?? (codec.unpack(state.get(key(rank))!) as PartitionRecord);

  const applyEvent = () => {
    const rank = zipf.sample(random());
    const rec = { ...read(rank) };
    const delta = random() < 0.5 ? -1 : 1;
    rec.onHand += delta;
    rec.sold += delta < 0 ? 1 : 0;
    rec.version += 1;
    rec.updatedAt = Date.now();
    pending.records.set(rank, rec);
    pending.events++;
    applied++;
  };
  const startCommit = () => {
    const batch = pending;
    pending = { records: new Map(), firstEvent: batch.firstEvent + batch.events, events: 0 };
    const issued = performance.now();
    const done = commit(batch).then(() => {
      // lmdb-js renews its read snapshot on a later turn; reads of keys leaving `inflight` must
      // see this commit now (for C, made by another thread).
      root.resetReadTxn();
      window.latenciesMs.push(performance.now() - issued);
      window.events += batch.events;
      window.commits++;
      inflight = undefined;
    });
    inflight = { batch, done };
  };

  // Events arrive without limit, or at `rate` a second: apply while the previous commit is in
  // flight, up to maxBatch.
  const startedAt = performance.now();
  while (!stopping) {
    const due = rate > 0 ? Math.min(64, Math.floor((rate * (performance.now() - startedAt)) / 1000) - applied) : 64;
    for (let i = 0; i < due && pending.events < maxBatch; i++) applyEvent();
    if (!inflight && pending.events > 0) startCommit();
    else if (inflight && pending.events >= maxBatch) await inflight.done;
    // Nothing due yet: wait a millisecond for the next arrivals rather than spin.
    await (due <= 0 ? new Promise((resolve) => setTimeout(resolve, 1)) : turn());
  }
  // Drain: everything applied becomes durable, so the counts can be checked against LMDB.
  if (inflight) await inflight.done;
  if (pending.events > 0) startCommit();
  if (inflight) await (inflight as { done: Promise<unknown> }).done;
  root.resetReadTxn();
  let storedVersions = 0;
  for (let rank = 0; rank < keys; rank++) storedVersions += (codec.unpack(state.get(key(rank))!) as PartitionRecord).version;
  const storedDedup = dedup.getKeysCount({ start: `t${thread}:`, end: `t${thread};` });
  const done: ApplyDone = { kind: 'done', ...window.stats(), applied, storedVersions, storedDedup, recordBytes };
  config.writer?.close();
  await root.close();
  parentPort!.postMessage(done satisfies FromThread);
}

function dedupValue(seq: number): Buffer {
  const v = Buffer.alloc(20);
  v.writeDoubleLE(Date.now(), 0);
  v.writeUInt32LE(seq >>> 0, 8);
  return v;
}

/** ≈300 bytes of msgpack: a stock row with a few holds, as the engine keeps per SKU and location. */
function seedRecord(rank: number): PartitionRecord {
  const holds = Array.from({ length: 3 }, (_, i) => ({ id: `cart-${rank}-${i}`, qty: 1 + i, until: 1_800_000_000_000 + i }));
  return { sku: `SKU-${String(rank).padStart(6, '0')}`, location: 'L001', onHand: 1000, reserved: 6, sold: 0, version: 0, updatedAt: 0, holds, note: 'x'.repeat(130) };
}

async function runWriter(config: WriterConfig): Promise<void> {
  const { root, state, dedup } = openEnv(config.path);
  const window = new Window();
  let queue: Array<{ port: MessagePort; entries: [Array<[string, Buffer]>, Array<[string, Buffer]>] }> = [];
  let inflight = false;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (inflight || queue.length === 0) return;
    const sets = queue;
    queue = [];
    inflight = true;
    const issued = performance.now();
    void (root.batch(() => {
      for (const { entries: [values, dedupEntries] } of sets) {
        for (const [k, v] of values) state.put(k, v);
        for (const [k, v] of dedupEntries) dedup.put(k, v);
      }
    }) as Promise<unknown>).then(() => {
      window.latenciesMs.push(performance.now() - issued);
      window.commits++;
      for (const { port, entries } of sets) {
        window.events += entries[1].length;
        port.postMessage(0);
      }
      inflight = false;
      flush();
    });
  };
  for (const port of config.ports) {
    port.on('message', (bytes: Uint8Array) => {
      queue.push({ port, entries: codec.unpack(bytes) as [Array<[string, Buffer]>, Array<[string, Buffer]>] });
      // Every write set that arrived in this turn goes into the same transaction.
      if (!inflight && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  }
  parentPort!.on('message', async (m: ToThread) => {
    if (m.kind === 'mark') window.mark();
    else if (m.kind === 'stop') window.stop();
    else if (m.kind === 'close') {
      for (const port of config.ports) port.close();
      await root.close();
      parentPort!.postMessage({ kind: 'writer-done', ...window.stats() } satisfies FromThread);
    }
  });
  parentPort!.postMessage({ kind: 'ready' } satisfies FromThread);
}

const config = workerData as ApplyConfig | WriterConfig;
if (config.role === 'apply') await runApply(config);
else await runWriter(config);
