// `omni bench receiver`: what receiving one pushed update costs the load generator, per message:
// its WebSocket client (loadgen/ws-wire.ts: `ws` without UTF-8 validation) against `ws` as it
// comes, and the update scan (client/update-scan.ts) against a full decode. A sender child
// process (sender.ts) writes the same update frame at a fixed rate over N connections; each
// receiver is a child process (receiver-child.ts) whose CPU time (user + system) over the
// measured window is divided by the messages it received. The variants compared run at the same
// time, so that a busy machine disturbs them alike. The loadgen's former hand-written RFC 6455
// client was measured this way against `ws` before it was replaced (docs/benchmarks.md).

import { spawn, type ChildProcess } from 'node:child_process';
import { pack } from 'msgpackr';
import type { BenchDef } from '../shared/bench-def.ts';
import { describeFlags, readFlags, UsageError, type FlagSpec } from '../shared/flags.ts';
import { scriptArgs } from '../shared/server-process.ts';

export const RECEIVER_FLAGS: FlagSpec[] = [
  { name: 'connections', kind: 'value', valueName: 'N', help: 'connections per receiver (default 500: one loadgen subscriber thread at 1,000 subscribers)' },
  { name: 'rate', kind: 'value', valueName: 'R', help: 'messages per second per receiver (default 80000: one thread\'s half of the loadgen\'s top rate, 160,000 pushes/s)' },
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured window per variant (default 5)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'receiving before the window opens (default 1)' },
  { name: 'receivers', kind: 'value', valueName: 'LIST', help: 'of loadgen, ws (default loadgen,ws)' },
  { name: 'formats', kind: 'value', valueName: 'LIST', help: 'of json, msgpack (default json,msgpack)' },
  { name: 'reads', kind: 'value', valueName: 'LIST', help: 'of none, scan, decode (default none,scan,decode)' },
  { name: 'together', kind: 'value', valueName: 'receivers|reads', help: 'what runs at the same time: the receivers for each read, or the reads for each receiver (default receivers)' },
];

export const RECEIVER_HELP = `Usage: omni bench receiver [flags]

CPU per received message of the load generator's WebSocket receiver. Receivers: "loadgen" is
the loadgen's own client (loadgen/ws-wire.ts: the ws package without UTF-8 validation of text
frames), "ws" the ws package as it comes; both use the bufferutil and utf-8-validate helpers when
installed. Reads: "none" counts the message, "scan" reads topic, seq and ts with the client SDK's
update scan, "decode" decodes it in full with the SDK's decodeFrame.
A sender child process writes a ~500-byte stock update frame (as the gateway encodes it) on
5 ms ticks, round robin over the connections. The variants compared (--together) run at once,
each in its own child process with --connections and --rate of its own, so a busy machine
disturbs them alike: a fresh sender, --warmup s, then --seconds s measured: each child's CPU
time (user + system) / the messages it received.

Flags:
${describeFlags(RECEIVER_FLAGS)}`;

const RECEIVERS = ['loadgen', 'ws'] as const;
const FORMATS = ['json', 'msgpack'] as const;
const READS = ['none', 'scan', 'decode'] as const;
type Receiver = (typeof RECEIVERS)[number];
type Format = (typeof FORMATS)[number];
type Read = (typeof READS)[number];

export interface ReceiverOptions {
  connections: number;
  rate: number;
  seconds: number;
  warmup: number;
  receivers: Receiver[];
  formats: Format[];
  reads: Read[];
  together: 'receivers' | 'reads';
}

export function readReceiverOptions(argv: readonly string[]): ReceiverOptions | 'help' {
  const f = readFlags(argv, RECEIVER_FLAGS);
  if (f.help) return 'help';
  return {
    connections: f.int('connections', 500, 1, 20_000),
    rate: f.int('rate', 80_000, 1, 2_000_000),
    seconds: f.num('seconds', 5, 0.5, 600),
    warmup: f.num('warmup', 1, 0, 60),
    receivers: list(f.string('receivers'), 'receivers', RECEIVERS, [...RECEIVERS]),
    formats: list(f.string('formats'), 'formats', FORMATS, [...FORMATS]),
    reads: list(f.string('reads'), 'reads', READS, [...READS]),
    together: f.choice('together', 'receivers', ['receivers', 'reads'] as const),
  };
}

function list<T extends string>(raw: string | undefined, flag: string, choices: readonly T[], fallback: T[]): T[] {
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!(choices as readonly string[]).includes(item)) throw new UsageError(`--${flag} must list some of ${choices.join(', ')} (got '${item}')`);
  if (items.length === 0) throw new UsageError(`--${flag} must list at least one of ${choices.join(', ')}`);
  return items as T[];
}

export interface ReceiverResult {
  receiver: Receiver;
  format: Format;
  read: Read;
  messages: number;
  messagesPerSecond: number;
  cpuMicrosPerMessage: number;
  /** Share of one core this process used over the window. */
  cpuShare: number;
}

/** A stock update as the gateway writes it: keys op, topic, seq, data, ts in that order (gateway/ws/out-message.ts). */
function updateFrame(format: Format): Buffer {
  const locations: Record<string, unknown> = {};
  for (let i = 1; i <= 4; i++) locations[`berlin-${i}`] = { onHand: 180 + i, reserved: 3, available: 177 + i, safety: 2, ts: 1_765_000_000_000 + i, seq: 4000 + i };
  const body = { op: 'update', topic: 'stock/TSHIRT-M-00042', seq: 123_456, data: { sku: 'TSHIRT-M-00042', onHand: 730, reserved: 12, available: 718, locations }, ts: 1_765_000_000_123.5 };
  const payload = format === 'json' ? Buffer.from(JSON.stringify(body)) : pack(body);
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | (format === 'json' ? 1 : 2), length]) : Buffer.from([0x80 | (format === 'json' ? 1 : 2), 126, length >> 8, length & 0xff]);
  return Buffer.concat([head, payload]);
}


interface Child {
  process: ChildProcess;
  /** The next stdout text matching `pattern` (consumed); rejects if the child exits first. */
  next(pattern: RegExp): Promise<string>;
}

/** The script `name` beside this one, in a child process. */
function child(name: string, args: string[]): Child {
  const proc = spawn(process.execPath, [...scriptArgs(`./${name}`, import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`${name} exited (${code})`))));
  exited.catch(() => {});
  const next = (pattern: RegExp) =>
    Promise.race([
      exited,
      new Promise<string>((resolve) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m === null) return void waiters.push(check);
          out = out.slice(m.index + m[0].length);
          resolve(m[0]);
        };
        check();
      }),
    ]);
  return { process: proc, next };
}

interface Lane {
  receiver: Receiver;
  read: Read;
}

/**
 * Lanes of one format at once: one sender over N connections per lane, one child process per
 * lane, the same window for all — so a busy machine disturbs them alike.
 */
async function runTogether(o: ReceiverOptions, format: Format, lanes: Lane[]): Promise<ReceiverResult[]> {
  const frame = updateFrame(format);
  const n = lanes.length;
  const sender = child('sender', ['--connections', String(o.connections * n), '--rate', String(o.rate * n), '--frame', frame.toString('hex')]);
  const receivers: Child[] = [];
  try {
    const port = Number(/\d+$/.exec(await sender.next(/sender listening on \d+/))![0]);
    for (const { receiver, read } of lanes) {
      receivers.push(child('receiver-child', ['--receiver', receiver, '--url', `ws://127.0.0.1:${port}/v1/ws`, '--connections', String(o.connections), '--read', read]));
    }
    await Promise.all(receivers.map((r) => r.next(/^open$/m)));
    await sleep(o.warmup * 1000);
    for (const r of receivers) r.process.stdin!.write('start\n');
    await sleep(o.seconds * 1000);
    for (const r of receivers) r.process.stdin!.write('stop\n');
    const windows = await Promise.all(receivers.map(async (r) => JSON.parse(await r.next(/^\{.*\}$/m)) as { messages: number; cpuMicros: number; seconds: number }));
    // A child starved of CPU for the whole window reads `start` and `stop` together: no figure.
    for (const [i, w] of windows.entries()) if (w.seconds < o.seconds / 2) throw new Error(`receiver ${lanes[i].receiver} (${lanes[i].read}): measured ${w.seconds.toFixed(3)} s of ${o.seconds} (starved of CPU: the machine is too busy)`);
    return windows.map((w, i) => ({
      ...lanes[i],
      format,
      messages: w.messages,
      messagesPerSecond: w.messages / w.seconds,
      cpuMicrosPerMessage: w.cpuMicros / Math.max(1, w.messages),
      cpuShare: w.cpuMicros / 1e6 / w.seconds,
    }));
  } finally {
    for (const r of [...receivers, sender]) r.process.kill('SIGKILL');
  }
}

// A timer, not an event, on purpose: the window is a span of wall-clock time to measure over.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runReceiverBench(o: ReceiverOptions): Promise<ReceiverResult[]> {
  const results: ReceiverResult[] = [];
  console.log(`${o.connections} connections and ${o.rate.toLocaleString('en-US')} messages/s per receiver, ${o.seconds} s measured after ${o.warmup} s; at once: the ${o.together}`);
  console.log('receiver      format   read     msgs/s     CPU µs/msg  CPU share');
  const groups: Lane[][] =
    o.together === 'receivers'
      ? o.reads.map((read) => o.receivers.map((receiver) => ({ receiver, read })))
      : o.receivers.map((receiver) => o.reads.map((read) => ({ receiver, read })));
  for (const format of o.formats) {
    for (const lanes of groups) {
      for (const r of await runTogether(o, format, lanes)) {
        results.push(r);
        console.log(`${r.receiver.padEnd(13)} ${format.padEnd(8)} ${r.read.padEnd(8)} ${Math.round(r.messagesPerSecond).toLocaleString('en-US').padStart(9)}  ${r.cpuMicrosPerMessage.toFixed(2).padStart(9)}  ${(r.cpuShare * 100).toFixed(0).padStart(6)}%`);
      }
    }
  }
  return results;
}

export function receiverHeadline(results: ReceiverResult[]): Record<string, number> {
  const headline: Record<string, number> = {};
  for (const r of results) headline[`cpuMicrosPerMessage.${r.receiver}.${r.format}.${r.read}`] = r.cpuMicrosPerMessage;
  return headline;
}

/** The registration bench/mod.ts lists under `receiver`. */
export const RECEIVER_BENCH: BenchDef = {
  title: 'receiver: CPU per received WebSocket message, the loadgen\'s client vs the ws package as it comes, update scan vs full decode',
  help: RECEIVER_HELP,
  flags: RECEIVER_FLAGS,
  prepare(argv) {
    const o = readReceiverOptions(argv);
    if (o === 'help') return o;
    return { options: o, run: async () => { const r = await runReceiverBench(o); return { result: r, headline: receiverHeadline(r) }; } };
  },
};
