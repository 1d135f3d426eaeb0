// Redis for the comparison benches: the Debian redis-server on a free loopback port with a temp
// dir, AOF on (`appendonly yes`), the fsync policy as chosen, RDB snapshots off so no fork
// competes for the CPU. Each bench brings its Lua scripts (EVALSHA through ioredis
// defineCommand), each one round trip and atomic like a transaction.
//
// Connections: one ioredis connection per client, auto-pipelining off, so each client has one
// command in flight on its own connection — the same shape as the HTTP and PostgreSQL clients.
// (One shared auto-pipelined connection would batch round trips, which the others cannot.)

import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { peerDir, removePeerDir, spawnPeer } from './peer-processes.ts';
import { freePort } from './server-process.ts';
import type { Tier } from './tiers.ts';

export type RedisDurability = 'always' | 'everysec' | 'no';

export const REDIS_TIERS: Readonly<Record<RedisDurability, Tier>> = { always: 'durable', everysec: 'relaxed', no: 'unsynced' };

const REDIS_SERVER = process.env.OMNI_BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';

export function redisUnavailable(): string | undefined {
  return existsSync(REDIS_SERVER) ? undefined : `no ${REDIS_SERVER} (set OMNI_BENCH_REDIS_SERVER)`;
}

/** Lua scripts by command name, as ioredis defineCommand takes them. */
export type LuaCommands = Record<string, { numberOfKeys: number; lua: string }>;

export interface RunningRedis<C> {
  /** A connection for seeding and reading back. */
  readonly admin: Redis & C;
  /** The durability settings, for the report. */
  readonly settings: string;
  /** A client's own connection, with the scripts defined; closed by stop(). */
  connect(): Promise<Redis & C>;
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

function connection<C>(port: number, commands: LuaCommands): Redis & C {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableAutoPipelining: false, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined); // surfaced through the failing command instead
  for (const [name, definition] of Object.entries(commands)) r.defineCommand(name, definition);
  return r as Redis & C;
}

/** `C`: the commands `commands` defines, as the bench calls them. */
export async function startRedis<C>(durability: RedisDurability, o: { label: string; commands: LuaCommands }): Promise<RunningRedis<C>> {
  const dir = peerDir(o.label);
  const port = await freePort();
  const server = spawnPeer({
    file: REDIS_SERVER,
    args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', durability, '--save', '', '--daemonize', 'no', '--protected-mode', 'no'],
    readyPattern: /Ready to accept connections/,
    cwd: dir,
  });
  const admin = connection<C>(port, o.commands);
  const clients: Redis[] = [];
  const stop = async () => {
    for (const c of [admin, ...clients]) c.disconnect();
    await server.stop('SIGTERM'); // redis-server: flush the AOF and exit
    removePeerDir(dir);
  };
  try {
    await server.ready;
    await admin.connect();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    admin,
    settings: `appendonly yes, appendfsync ${durability}, save ""`,
    async connect() {
      const c = connection<C>(port, o.commands);
      clients.push(c);
      await c.connect();
      return c;
    },
    cpuSeconds: () => server.cpuSeconds(),
    stop,
  };
}
