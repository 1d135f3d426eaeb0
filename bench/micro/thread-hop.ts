// What putting the engine on a thread of its own costs per event, measured on its own: the
// msgpack encoding of the messages between the two threads (a submission of built events, its
// answers, a batch's outputs), and the round trip of one small submit (one event, durability
// none) to the engine in this thread against the engine on its own thread.

import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { Bench } from 'tinybench';
import { envelopeProblem, isEventError, readEvent, stockProcessor, type EventResult, type InputEvent, type Output } from '../../engine/mod.ts';
import { openBenchEngine, type BenchEngine } from '../shared/bench-engine.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { StockWorkload, chunked, locationEvents, seedEvents } from '../../loadgen/mod.ts';

/**
 * The codec of engine/thread-messages.ts (not exported by the engine): plain msgpack, no
 * records, no extensions. Its options are repeated here so the rows time the same encoding.
 */
const threadCodec = new Packr({ useRecords: false, moreTypes: false });

/** What crosses between the threads for one request body of `events`, as the engine sends it. */
export interface ThreadMessages {
  /** [sub, [[event, digest, arrival], …]]: the events built and checked on the calling thread. */
  submission: unknown;
  /** [sub, results]: the answers of those events. */
  answers: unknown;
  /** A batch's rendered outputs (one per changed topic). */
  outputs: Output[];
}

/** Builds the events as ThreadedEngine.submit does, and takes real answers and outputs from `engine`. */
export async function threadMessages(engine: BenchEngine, events: InputEvent[]): Promise<ThreadMessages> {
  const processor = stockProcessor();
  const arrival = Date.now();
  const built = events.map((raw, i) => {
    const event = envelopeProblem(raw) ? undefined : readEvent(() => processor, raw);
    if (event === undefined || isEventError(event)) throw new Error(`micro: event ${i} does not build`);
    // The digest is a 32-bit number: any one costs the same to encode.
    return [event, (0x9e3779b1 * (i + 1)) >>> 0, arrival];
  });
  const outputs: Output[] = [];
  const off = engine.onOutput((o) => outputs.push(...o));
  const results: EventResult[] = await engine.submit(events);
  off();
  return { submission: [[1, built]], answers: [[1, results]], outputs };
}

/** Adds the encode and decode of each message to a synchronous bench (`add` as hot-paths.ts's). */
export function addCodecTasks(add: (name: string, op: () => number) => void, m: ThreadMessages, bodyEvents: number): Record<string, number> {
  const packed = { submission: threadCodec.pack(m.submission), answers: threadCodec.pack(m.answers), outputs: threadCodec.pack(m.outputs) };
  const names = {
    submission: `thread message: submission of ${bodyEvents} built events`,
    answers: `thread message: answers to ${bodyEvents} events`,
    outputs: `thread message: a batch's ${m.outputs.length} outputs`,
  };
  const perOp: Record<string, number> = {};
  // Handing a message to the other thread and taking it there (structured clone both ways).
  // msgpackr's pack() returns a view into its reused output buffer, and a view posts its whole
  // buffer; copied out first, only the message's own bytes cross.
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  port2.unref();
  const post = (bytes: Uint8Array) => {
    port1.postMessage({ kind: 'submit', submissions: bytes });
    return (receiveMessageOnPort(port2)?.message as { submissions: Uint8Array }).submissions.length;
  };
  const viewName = `${names.submission}, post + receive: pack()'s view (${Math.round(threadCodec.pack(m.submission).buffer.byteLength / 1024)} KiB buffer)`;
  add(viewName, () => post(threadCodec.pack(m.submission)));
  add(`${names.submission}, post + receive: its own bytes`, () => post(new Uint8Array(threadCodec.pack(m.submission))));
  perOp[viewName] = bodyEvents;
  perOp[`${names.submission}, post + receive: its own bytes`] = bodyEvents;
  for (const kind of ['submission', 'answers', 'outputs'] as const) {
    const count = kind === 'outputs' ? m.outputs.length : bodyEvents;
    add(`${names[kind]}, pack`, () => threadCodec.pack(m[kind]).length);
    add(`${names[kind]}, unpack`, () => (threadCodec.unpack(packed[kind]) as unknown[]).length);
    perOp[`${names[kind]}, pack`] = count;
    perOp[`${names[kind]}, unpack`] = count;
  }
  return perOp;
}

const HOP_SKUS = 100;
const HOP_LOCATIONS = 10;

async function hopEngine(workers: number, runNo: number): Promise<{ engine: BenchEngine; dir: string; next: () => InputEvent }> {
  const dir = freshDir(`micro-hop${workers}`);
  const engine = await openBenchEngine({ path: dir, durability: 'none', workers });
  const prefix = `hop${runNo}w${workers}`;
  await engine.submit(locationEvents(HOP_LOCATIONS, prefix));
  await Promise.all(chunked(seedEvents(HOP_SKUS, HOP_LOCATIONS, prefix), 1000).map((c) => engine.submit(c)));
  const wl = new StockWorkload({ skus: HOP_SKUS, locations: HOP_LOCATIONS, dist: 'zipf', idPrefix: `${prefix}x`, releaseLag: 10 });
  return { engine, dir, next: () => wl.next() };
}

/** One submit of one event at a time, durability none: the engine in this thread, then on its own. */
export async function hopBench(timeMs: number, runNo: number): Promise<Bench> {
  const engines = await Promise.all([1, 2].map((w) => hopEngine(w, runNo)));
  const bench = new Bench({ name: 'hop', time: timeMs, warmupTime: Math.min(500, timeMs), iterations: 200, throws: true });
  let sink = 0;
  for (const [i, { engine, next }] of engines.entries()) {
    let event: InputEvent[] = [];
    const name = `engine: submit 1 event (none), ${i === 0 ? 'in this thread' : 'on its own thread'}`;
    bench.add(name, async () => void (sink ^= (await engine.submit(event)).length), { beforeEach: () => void (event = [next()]) });
  }
  try {
    await bench.run();
  } finally {
    for (const { engine, dir } of engines) {
      await engine.close();
      removeDir(dir);
    }
  }
  if (sink === 0.5) console.log(sink);
  return bench;
}
