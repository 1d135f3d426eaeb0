// Real nats-server processes for the cluster/ tests: one JetStream server, or three clustered on
// loopback, each on free ports with a store dir of its own, killed and restarted on the same
// port and store as a crashed machine would come back. A missing nats-server fails loudly: it is
// a test dependency (.ci/run installs it), never a reason to skip.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsBinary, portAccepts } from '../bench/shared/nats-server.ts';
import { freePort } from '../bench/shared/server-process.ts';

export interface NatsServer {
  /** The server name (`-n`): a cluster member's raft identity, so it stays the same across restarts. */
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Kills the process (SIGKILL by default: a crash, nothing flushed) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, store and name, once it accepts connections. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: NatsServer[];
  readonly urls: string[];
  /** The member a server name (as JetStream reports leaders) belongs to. */
  byName(name: string): NatsServer;
}

const START_TIMEOUT_MS = 15_000;
const POLL_MS = 25;
/** Every process and dir started here, so `stopNatsServers()` leaves nothing behind whatever failed. */
const live = new Set<{ stop(): Promise<void> }>();
let names = 0;

/** A free loopback port not in `taken` (nats-server's -p 0 means 4222, not "any"; a cluster needs each port once). */
async function unusedPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

class ServerProcess implements NatsServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private tail: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: string[],
  ) {
    this.url = `127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is still running`);
    const child = spawn(natsBinary(), this.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.tail = [];
    // Keep the last lines of its log for the error when it dies or never listens.
    child.stderr!.on('data', (data: Buffer) => (this.tail = [...this.tail, ...data.toString().split('\n')].slice(-30)));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + START_TIMEOUT_MS;
    // Polling the port: the server writes no file when ready, and its log line comes before the listener in some versions.
    while (!(await portAccepts(this.port))) {
      if (!this.running) throw new Error(`nats-server ${this.name} exited before listening on ${this.port}:\n${this.tail.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`nats-server ${this.name} did not listen on ${this.port} within ${START_TIMEOUT_MS} ms:\n${this.tail.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** For the exit hook, which cannot wait. */
  killNow(): void {
    if (this.running) this.child!.kill('SIGKILL');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child!.kill(signal);
    await this.exited;
  }
}

/** Servers are not killed with the test process: if it dies before its afterEach, kill them on the way out. */
const running = new Set<ServerProcess>();
process.once('exit', () => {
  for (const server of running) server.killNow();
});

function register(servers: ServerProcess[], dirs: string[]): void {
  for (const server of servers) running.add(server);
  const entry = {
    stop: async () => {
      live.delete(entry);
      await Promise.all(servers.map((s) => s.kill('SIGKILL')));
      for (const server of servers) running.delete(server);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(entry);
}

/** One JetStream server on a free loopback port with a temp store. */
export async function startNatsServer(): Promise<NatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'omni-nats-'));
  const name = `omni-test-${process.pid}-${++names}`;
  const server = new ServerProcess(name, port, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-n', name]);
  register([server], [dir]);
  await server.restart();
  return server;
}

/**
 * `size` JetStream servers clustered on loopback: distinct client and route ports, every route
 * listed on every server (its own included, which nats-server ignores), distinct stores.
 * JetStream is not usable the moment they listen: the meta leader is elected about 2.5 s later
 * (connectCluster in cluster/ waits for it).
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const taken = new Set<number>();
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await unusedPort(taken));
    routePorts.push(await unusedPort(taken));
  }
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const id = `${process.pid}-${++names}`;
  const dirs = clientPorts.map(() => mkdtempSync(join(tmpdir(), 'omni-nats-')));
  const servers = clientPorts.map(
    (port, i) =>
      new ServerProcess(`omni-c${id}-s${i + 1}`, port, [
        '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dirs[i], '-n', `omni-c${id}-s${i + 1}`,
        '--cluster_name', `omni-c${id}`, '-cluster', `nats://127.0.0.1:${routePorts[i]}`, '-routes', routes,
      ]),
  );
  register(servers, dirs);
  await Promise.all(servers.map((s) => s.restart()));
  return {
    servers,
    urls: servers.map((s) => s.url),
    byName: (name) => {
      const found = servers.find((s) => s.name === name);
      if (!found) throw new Error(`no cluster member named ${name}`);
      return found;
    },
  };
}

/** Kills every server started here and removes its store: for afterEach/afterAll. */
export async function stopNatsServers(): Promise<void> {
  await Promise.all([...live].map((entry) => entry.stop()));
}
