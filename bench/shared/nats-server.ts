// A real nats-server (JetStream) for the cluster benchmark, and the two pieces the cluster tests'
// harness (test/nats-harness.ts) shares with it: finding the binary, and knowing when a port
// accepts connections. Every server started here is killed when the bench exits.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { freePort, freshDir, removeDir } from './server-process.ts';

const START_TIMEOUT_MS = 15_000;
const POLL_MS = 25;

/** The nats-server on the PATH, else Debian's; a missing one fails loudly (it is a dependency, not optional). */
export function natsBinary(): string {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('nats-server is not installed (Debian: apt-get install -y nats-server)');
}

/** Whether something accepts TCP connections on the loopback port right now. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface BenchNatsServer {
  url: string;
  /** Kills it and removes its store. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let hooked = false;

/** One JetStream server on a free loopback port with a store of its own, once it accepts connections. */
export async function startNatsServer(label: string): Promise<BenchNatsServer> {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  const port = await freePort();
  const dir = freshDir(`nats-${label}`);
  const child = spawn(natsBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-n', `omni-bench-${label}-${process.pid}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (tail = (tail + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    running.delete(child);
    removeDir(dir);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  // Polled: the server writes no file when ready, and its log line may come before the listener.
  while (!(await portAccepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not listen on ${port} within ${START_TIMEOUT_MS} ms:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { url: `127.0.0.1:${port}`, stop };
}
