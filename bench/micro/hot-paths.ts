// `omni bench micro`: tinybench micro-benchmarks of the hot paths one event goes through:
// validation, the stock processor's pure apply step, the group commit of a batch, encoding an
// update for subscribers, fanning it out to a topic's subscribers, and verifying a bearer token.

import { pack, unpack } from 'msgpackr';
import { Bench, type Task } from 'tinybench';
import { defaultProcessors, envelopeProblem, isEventError, openEngine, readEvent, stockProcessor, unstorable, type Engine, type InputEvent, type Output, type Processor, type StateView } from '../../engine/mod.ts';
// Not re-exported by engine/mod.ts (the engine calls it inside submit); measured on its own here.
import { DEFAULT_WS_LIMITS, TopicHub, decodeWire, signToken, updateMessage, verifyToken, type OutMessage, type PushEngine, type Subscriber } from '../../gateway/mod.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, printTable } from '../shared/report.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { StockWorkload, chunked, locationEvents, seedEvents, skuName } from '../../loadgen/mod.ts';
import { addCodecTasks, hopBench, threadMessages } from './thread-hop.ts';

export const MICRO_FLAGS: FlagSpec[] = [
  { name: 'time', kind: 'value', valueName: 'MS', help: 'measuring time per task (default 1000)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs in the state the apply step reads (default 10000)' },
  { name: 'locations', kind: 'value', valueName: 'L', help: 'locations per SKU (default 10)' },
];

export const MICRO_HELP = `Usage: omni bench micro [flags]

tinybench micro-benchmarks: event validation (envelope, stock fields), the stock processor's
apply step over a Map-backed view, group commit of a 1,000-event batch through the engine
(durability commit), msgpack and JSON encoding of a stock update (raw, and as the push layer's
OutMessage), the topic hub delivering one update to 1, 100 and 10,000 subscribers of a topic
(stand-in subscribers that queue and, on flush, take the cached JSON encoding), JWT HS256
verification, the msgpack messages between the calling thread and the engine's own thread
(a submission of 500 built events, their answers, a batch's outputs), and one submit of one
event (durability none) to the engine in this thread and on a thread of its own.
Synchronous tasks run 100 operations per timed sample; their mean and p99 are per operation
(the p99 is that of 100-operation means). ops/s = 1 / mean latency.

Flags:
${describeFlags(MICRO_FLAGS)}`;

export interface MicroBenchOptions {
  timeMs: number;
  skus: number;
  locations: number;
}

export function readMicroOptions(argv: readonly string[]): MicroBenchOptions | 'help' {
  const f = readFlags(argv, MICRO_FLAGS);
  if (f.help) return 'help';
  return { timeMs: f.int('time', 1000, 10, 600_000), skus: f.int('skus', 10_000, 1, 1_000_000), locations: f.int('locations', 10, 1, 1000) };
}

export interface MicroRow {
  name: string;
  opsPerS: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** Operations measured (samples × operations per sample). */
  samples: number;
  /** For tasks that handle several events per operation. */
  eventsPerOp: number;
}

/**
 * A Map-backed view holding what the engine would hold after the setup events: built by
 * applying them through the processor itself, so it follows the processor's record format.
 */
function mapView(processor: Processor, skus: number, locations: number): StateView {
  const map = new Map<string, unknown>();
  const view: StateView = { get: <T>(key: string) => map.get(key) as T | undefined };
  const ctx = { eventTime: Date.now(), now: Date.now() };
  const setup = [...locationEvents(locations, 'm'), ...seedEvents(skus, locations, 'm')];
  for (const ev of setup) {
    const effects = processor.apply(view, ev, ctx);
    if (!effects.result.ok) throw new Error(`micro setup: ${ev.type} rejected: ${effects.result.error.message}`);
    for (const [key, value] of effects.writes ?? []) {
      if (value === undefined) map.delete(key);
      else map.set(key, value);
    }
  }
  return view;
}

const OPS_PER_SAMPLE = 100;

/** Queues like WsConnection and, on flush, takes each message's JSON encoding (cached after the first). */
class QueueingSubscriber implements Subscriber {
  queue: OutMessage[] = [];
  bytes = 0;
  push(message: OutMessage): void {
    this.queue.push(message);
  }
  flush(): void {
    for (const message of this.queue) this.bytes += message.encode('json').length;
    this.queue.length = 0;
  }
}

/**
 * A TopicHub with `subscribers` on one topic, fed by a stand-in engine: each call delivers one
 * committed batch holding one update of the topic (history append, per-subscriber seq filter,
 * push, flush). Returns the op and the hub's disposal.
 */
function hubFanout(subscribers: number, topic: string, data: unknown): { op: () => number; dispose: () => void } {
  let seq = 0;
  let listener: ((outputs: Output[]) => void) | undefined;
  const engine: PushEngine = {
    epoch: 'bench',
    snapshot: () => undefined,
    lastSeq: () => seq,
    setInterest() {},
    onOutput(l) {
      listener = l;
      return () => (listener = undefined);
    },
  };
  const hub = new TopicHub(engine, DEFAULT_WS_LIMITS, { historyHit() {}, historyMiss() {} });
  const subs = Array.from({ length: subscribers }, () => new QueueingSubscriber());
  for (const sub of subs) hub.subscribe(sub, topic);
  const ts = Date.now();
  return {
    op: () => {
      listener!([{ topic, seq: ++seq, data, ts }]);
      // What the last subscriber took proves every one was reached.
      return subs[subscribers - 1].bytes;
    },
    dispose: () => hub.dispose(),
  };
}

/** `opsPerSample`: operations one tinybench sample ran; `eventsPerOp`: events one operation handles. */
function rowsOf(tasks: Task[], opsPerSample: number, eventsPerOp: Record<string, number>): MicroRow[] {
  const rows: MicroRow[] = [];
  for (const t of tasks) {
    const r = t.result;
    if (r.state === 'errored') throw new Error(`micro task '${t.name}' failed: ${r.error.message}`);
    if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') continue;
    rows.push({
      name: t.name,
      opsPerS: (1000 * opsPerSample) / r.latency.mean,
      meanUs: (r.latency.mean * 1000) / opsPerSample,
      p50Us: (r.latency.p50 * 1000) / opsPerSample,
      p99Us: (r.latency.p99 * 1000) / opsPerSample,
      samples: r.latency.samplesCount * opsPerSample,
      eventsPerOp: eventsPerOp[t.name] ?? 1,
    });
  }
  return rows;
}

async function openSeededEngine(o: MicroBenchOptions): Promise<{ engine: Engine; dir: string }> {
  const dir = freshDir('micro');
  const engine = await openEngine({ path: dir, processors: defaultProcessors(), durability: 'commit' });
  await engine.submit(locationEvents(o.locations, 'm'));
  await Promise.all(chunked(seedEvents(o.skus, o.locations, 'm'), 10_000).map((c) => engine.submit(c)));
  return { engine, dir };
}

export async function runMicroBench(o: MicroBenchOptions, runNo = 0): Promise<MicroRow[]> {
  const processor = stockProcessor();
  const view = mapView(processor, o.skus, o.locations);
  const ctx = { eventTime: Date.now(), now: Date.now() };
  const wl = new StockWorkload({ skus: o.skus, locations: o.locations, dist: 'zipf', idPrefix: `m${runNo}` });
  const byType = new Map<string, InputEvent[]>();
  for (let i = 0; i < 100_000; i++) {
    const ev = wl.next();
    let list = byType.get(ev.type);
    if (!list) byType.set(ev.type, (list = []));
    if (list.length < 4096) list.push(ev);
  }
  const mix = Array.from({ length: 4096 }, () => wl.next());
  const cycle = (events: InputEvent[]) => {
    let i = 0;
    return () => {
      if (i === events.length) i = 0;
      return events[i++];
    };
  };
  const nextSold = cycle(byType.get('stock.sold')!);
  const nextReserve = cycle(byType.get('stock.reserve')!);
  const nextTransfer = cycle(byType.get('stock.transfer')!);
  const nextMix = cycle(mix);
  const body = mix.slice(0, 500);
  const bodyPacked = pack(body);
  const bodyJson = Buffer.from(JSON.stringify(body));
  const skuRecord = view.get(`stock/sku/${skuName(0)}`);

  const topic = `stock/${skuName(0)}`;
  const update = { op: 'update', topic, seq: 123_456, data: processor.render(view, topic), ts: Date.now() };
  const packed = pack(update);
  const json = JSON.stringify(update);
  const secret = 'bench-secret-0123456789abcdef0123456789';
  const token = signToken({ sub: 'bench', role: 'ingest', exp: Math.floor(Date.now() / 1000) + 3600 }, secret);
  let sink = 0;
  // The engine is opened first: the thread messages' answers and outputs are its own.
  const { engine, dir } = await openSeededEngine(o);
  const messages = await threadMessages(engine, body);

  // Each sample of a synchronous task runs it OPS_PER_SAMPLE times: single calls of a few
  // hundred nanoseconds are below what the timer can resolve.
  const sync = new Bench({ name: 'sync', time: o.timeMs, warmupTime: Math.min(500, o.timeMs), throws: true });
  const add = (name: string, op: () => number) =>
    sync.add(name, () => {
      for (let i = 0; i < OPS_PER_SAMPLE; i++) sink ^= op();
    });
  add('validate: envelope', () => (envelopeProblem(nextMix()) === null ? 1 : 0));
  add('validate: stock fields (fresh event and digest)', () => (isEventError(readEvent(() => processor, nextMix())) ? 0 : 1));
  // A request body of 500 stock events (the HTTP bench's), decoded by the general decoders and by
  // the server's strict ones; and the storable check of one written SKU record.
  add('decode body of 500: msgpackr unpack', () => (unpack(bodyPacked) as unknown[]).length);
  add('decode body of 500: strict msgpack', () => ((decodeWire(bodyPacked, 'msgpack') as { value: unknown[] }).value).length);
  add('decode body of 500: JSON.parse', () => (JSON.parse(bodyJson.toString('utf8')) as unknown[]).length);
  add('decode body of 500: strict JSON', () => ((decodeWire(bodyJson, 'json') as { value: unknown[] }).value).length);
  add('storable check: a SKU record', () => (unstorable(skuRecord) === null ? 1 : 0));
  add('apply: stock.sold', () => (processor.apply(view, nextSold(), ctx).result.ok ? 1 : 0));
  add('apply: stock.reserve', () => (processor.apply(view, nextReserve(), ctx).result.ok ? 1 : 0));
  add('apply: stock.transfer', () => (processor.apply(view, nextTransfer(), ctx).result.ok ? 1 : 0));
  add('apply: mix (release/commit miss)', () => (processor.apply(view, nextMix(), ctx).result.ok ? 1 : 0));
  add('msgpackr pack: stock update', () => pack(update).length);
  add('msgpackr unpack: stock update', () => (unpack(packed) as { seq: number }).seq);
  add('JSON.stringify: stock update', () => JSON.stringify(update).length);
  add('JSON.parse: stock update', () => (JSON.parse(json) as { seq: number }).seq);
  // A fresh OutMessage each time: its encodings are cached, and the first one is what a fan-out pays.
  add('ws OutMessage encode: JSON', () => updateMessage(topic, update.seq, update.data, update.ts).encode('json').length);
  add('ws OutMessage encode: msgpack', () => updateMessage(topic, update.seq, update.data, update.ts).encode('msgpack').length);
  const fanouts = [1, 100, 10_000].map((n) => {
    const fanout = hubFanout(n, topic, update.data);
    add(`ws hub fan-out: 1 update → ${fmtInt(n)} subscriber${n === 1 ? '' : 's'}`, fanout.op);
    return fanout;
  });
  add('JWT HS256 verify', () => (verifyToken(token, secret).ok ? 1 : 0));
  const eventsPerOp = addCodecTasks(add, messages, body.length);
  console.log(`\nrunning ${sync.tasks.length} synchronous tasks, ${o.timeMs} ms each (+ warm-up)…`);
  await sync.run();
  for (const fanout of fanouts) fanout.dispose();

  // Group commit: one 1,000-event batch per iteration, each with fresh ids (made before the timer starts).
  const commitTask = 'engine: submit 1,000 events (commit)';
  let chunk: InputEvent[] = [];
  const commitWl = new StockWorkload({ skus: o.skus, locations: o.locations, dist: 'zipf', idPrefix: `mc${runNo}`, releaseLag: 1000 });
  const asyncBench = new Bench({ name: 'async', time: o.timeMs, warmupTime: Math.min(500, o.timeMs), iterations: 20, throws: true });
  asyncBench.add(
    commitTask,
    async () => {
      const results = await engine.submit(chunk);
      sink ^= results.length;
    },
    {
      beforeEach() {
        chunk = commitWl.chunks(1000, 1000)[0];
      },
    },
  );
  try {
    console.log(`running the group-commit task…`);
    await asyncBench.run();
  } finally {
    await engine.close();
    removeDir(dir);
  }
  if (sink === 0.5) console.log(sink); // keeps the results alive for the optimiser

  console.log('running one submit of one event, in this thread and on its own…');
  const hop = await hopBench(o.timeMs, runNo);
  const rows = [...rowsOf(sync.tasks, OPS_PER_SAMPLE, eventsPerOp), ...rowsOf(asyncBench.tasks, 1, { [commitTask]: 1000 }), ...rowsOf(hop.tasks, 1, {})];
  printMicro(rows);
  return rows;
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(3)} µs`;
}

export function printMicro(rows: MicroRow[]): void {
  console.log('');
  printTable([
    ['task', 'ops/s', 'mean', 'p50', 'p99', 'samples', 'events/s'],
    ...rows.map((r) => [r.name, fmtInt(r.opsPerS), fmtUs(r.meanUs), fmtUs(r.p50Us), fmtUs(r.p99Us), fmtInt(r.samples), r.eventsPerOp > 1 ? fmtInt(r.opsPerS * r.eventsPerOp) : '']),
  ]);
}

export function microHeadline(rows: MicroRow[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [`${r.name} ops/s`, r.opsPerS]));
}
