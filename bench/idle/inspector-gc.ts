// A full garbage collection in a child node process, through the inspector protocol: the child
// is started with `--inspect=127.0.0.1:0`, prints its inspector URL on stderr, and we ask it for
// HeapProfiler.collectGarbage. Memory benchmarks use it to tell what a server retains from
// garbage it has not collected yet (a settle time alone leaves that to V8's heuristics).

import WebSocket from 'ws';

/** The node flag that makes a child reachable (loopback, a free port). */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

export interface HeapAfterGc {
  heapUsedKiB: number;
}

/** Runs a full GC in the child whose stderr so far is `stderr`; resolves with its heap after it. */
export async function collectGarbage(stderr: string, timeoutMs = 30_000): Promise<HeapAfterGc> {
  const m = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(stderr);
  if (m === null) throw new Error('the child printed no inspector URL (was it started with --inspect=127.0.0.1:0?)');
  const socket = new WebSocket(m[1]);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const call = inspectorCalls(socket, timeoutMs);
    await call('HeapProfiler.collectGarbage', {});
    const answer = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result?: { value?: string } };
    const usage = JSON.parse(answer.result?.value ?? '{}') as { heapUsed?: number };
    if (typeof usage.heapUsed !== 'number') throw new Error('the child did not report process.memoryUsage()');
    return { heapUsedKiB: Math.round(usage.heapUsed / 1024) };
  } finally {
    socket.close();
  }
}

function inspectorCalls(socket: WebSocket, timeoutMs: number): (method: string, params: object) => Promise<unknown> {
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  socket.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as { id?: number; result?: unknown; error?: { message?: string } };
    const w = msg.id === undefined ? undefined : waiting.get(msg.id);
    if (w === undefined) return;
    waiting.delete(msg.id!);
    if (msg.error) w.reject(new Error(`inspector: ${msg.error.message ?? 'error'}`));
    else w.resolve(msg.result);
  });
  return (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method} within ${timeoutMs} ms`)), timeoutMs);
      waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
}
