// The subscribers, in this thread or split across worker threads (so that receiving thousands
// of pushes is not what limits the run). Either way the same calls: start, sample, stop.

import { Worker } from 'node:worker_threads';
import { LatencyRecorder } from './latency.ts';
import { SubscriberGroup, type GroupFinal, type GroupOptions, type GroupSample } from './subscriber-group.ts';

export interface PoolSample extends GroupSample {
  /** Push latencies since the previous sample. */
  interval: LatencyRecorder;
}

export interface PoolFinal extends GroupSample {
  perClient: number[];
  errorSamples?: string[];
  push: LatencyRecorder;
  workers: number;
}

interface Member {
  sample(): Promise<{ sample: GroupSample; interval: string | LatencyRecorder }>;
  stop(): Promise<GroupFinal>;
}

/** Worker threads for N subscribers: none up to 500, then 2. */
export function defaultWorkers(subscribers: number): number {
  return subscribers > 500 ? 2 : 0;
}

export class SubscriberPool {
  private constructor(
    private readonly members: Member[],
    private readonly workers: number,
  ) {}

  /** Starts the subscribers (workers = 0: in this thread) and waits until they are subscribed. */
  static async start(o: GroupOptions, workers: number): Promise<SubscriberPool> {
    if (workers <= 0 || o.topics.length === 0) {
      const group = new SubscriberGroup(o);
      await group.start();
      const member: Member = {
        sample: async () => {
          const interval = new LatencyRecorder();
          interval.add(group.interval);
          group.interval.reset();
          return { sample: group.sample(), interval };
        },
        stop: async () => group.stop(),
      };
      return new SubscriberPool([member], 0);
    }
    const n = Math.min(workers, o.topics.length);
    const per = Math.ceil(o.topics.length / n);
    const members = await Promise.all(Array.from({ length: n }, (_, w) => startWorker({ ...o, topics: o.topics.slice(w * per, (w + 1) * per), tokens: o.tokens?.slice(w * per, (w + 1) * per) })));
    return new SubscriberPool(members, n);
  }

  async sample(): Promise<PoolSample> {
    const parts = await Promise.all(this.members.map((m) => m.sample()));
    const interval = new LatencyRecorder();
    for (const p of parts) interval.add(typeof p.interval === 'string' ? LatencyRecorder.decode(p.interval) : p.interval);
    return { ...sum(parts.map((p) => p.sample)), interval };
  }

  async stop(): Promise<PoolFinal> {
    const finals = await Promise.all(this.members.map((m) => m.stop()));
    const push = new LatencyRecorder();
    for (const f of finals) push.add(LatencyRecorder.decode(f.push));
    const errorSamples = [...new Set(finals.flatMap((f) => f.errorSamples ?? []))];
    return { ...sum(finals), perClient: finals.flatMap((f) => f.perClient), errorSamples, push, workers: this.workers };
  }
}

const COUNTS = ['clients', 'connected', 'snapshots', 'received', 'errors', 'conflated', 'seqErrors'] as const;

function sum(samples: GroupSample[]): GroupSample {
  const total: Required<GroupSample> = { clients: 0, connected: 0, snapshots: 0, received: 0, errors: 0, conflated: 0, seqErrors: 0, receivedByFamily: {} };
  for (const s of samples) {
    for (const k of COUNTS) total[k] += s[k] ?? 0;
    for (const [family, n] of Object.entries(s.receivedByFamily ?? {})) total.receivedByFamily[family] = (total.receivedByFamily[family] ?? 0) + n;
  }
  return total;
}

// Worker threads do not inherit tsx's loader: from the sources a worker starts at worker-boot.mjs,
// which registers tsx; from the JavaScript build (dist/) it loads the compiled worker directly.
const WORKER_ENTRY = import.meta.url.endsWith('.ts') ? new URL('./worker-boot.mjs', import.meta.url) : new URL('./subscriber-worker.js', import.meta.url);

function startWorker(o: GroupOptions): Promise<Member> {
  const worker = new Worker(WORKER_ENTRY, { workerData: o });
  const waiting = new Map<string, Array<(msg: any) => void>>();
  const next = (type: string) => new Promise<any>((resolve) => waiting.set(type, [...(waiting.get(type) ?? []), resolve]));
  let failure: Error | undefined;
  worker.on('message', (msg: { type: string }) => waiting.get(msg.type)?.shift()?.(msg));
  const failAll = (error: Error) => {
    failure ??= error;
    for (const list of waiting.values()) for (const resolve of list.splice(0)) resolve({ type: 'failed' });
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`subscriber worker exited (${code})`)));
  const check = <T>(msg: { type: string } & T): T => {
    if (msg.type === 'failed') throw failure ?? new Error('subscriber worker failed');
    return msg;
  };
  return next('ready').then((msg) => {
    check(msg);
    return {
      async sample() {
        const reply = next('sample');
        worker.postMessage({ type: 'sample' });
        return check(await reply);
      },
      async stop() {
        const reply = next('final');
        worker.postMessage({ type: 'stop' });
        const { final } = check<{ final: GroupFinal }>(await reply);
        await worker.terminate();
        return final;
      },
    };
  });
}
