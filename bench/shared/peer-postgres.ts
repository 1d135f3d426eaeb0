// PostgreSQL for the comparison benches: the Debian server binaries, a fresh cluster (initdb) in
// a temp dir, on a free loopback port, with the durability setting asked for, stopped and
// removed afterwards. Each bench brings its schema and its statements; clients hold a
// connection each from the pool.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { asUser, peerDir, removePeerDir, runCommand, spawnPeer } from './peer-processes.ts';
import { freePort } from './server-process.ts';
import type { Tier } from './tiers.ts';

export type PgDurability = 'on' | 'off' | 'nofsync';

export const PG_TIERS: Readonly<Record<PgDurability, Tier>> = { on: 'durable', off: 'relaxed', nofsync: 'unsynced' };

export const PG_BIN = process.env.OMNI_BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PG_USER = 'postgres';

/** The server settings of each choice; everything else is initdb's default configuration. */
const SETTINGS: Record<PgDurability, Record<string, string>> = {
  on: { fsync: 'on', synchronous_commit: 'on' },
  off: { fsync: 'on', synchronous_commit: 'off' },
  nofsync: { fsync: 'off', synchronous_commit: 'on' },
};

export function postgresUnavailable(): string | undefined {
  return existsSync(join(PG_BIN, 'postgres')) && existsSync(join(PG_BIN, 'initdb')) ? undefined : `no PostgreSQL binaries in ${PG_BIN} (set OMNI_BENCH_PG_BIN)`;
}

export interface RunningPostgres {
  /** C + 1 connections: one per client and one for seeding and reading back. */
  readonly pool: pg.Pool;
  /** The durability settings, for the report. */
  readonly settings: string;
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

export interface PostgresStart {
  /** Names the temp dir. */
  label: string;
  concurrency: number;
  /** Run once the server is up. */
  schema: string;
}

export async function startPostgres(durability: PgDurability, o: PostgresStart): Promise<RunningPostgres> {
  const dir = peerDir(o.label, PG_USER);
  const data = join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  // --no-sync: only initdb's own files go unsynced; the server's WAL follows the settings below.
  await runCommand(...asUser(PG_USER, join(PG_BIN, 'initdb'), ['-D', data, '-U', PG_USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']), { env, cwd: dir });
  const port = await freePort();
  const settings = { ...SETTINGS[durability], listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: dir, max_connections: String(o.concurrency + 10) };
  const [file, args] = asUser(PG_USER, join(PG_BIN, 'postgres'), ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
  const server = spawnPeer({ file, args, readyPattern: /database system is ready to accept connections/, env, cwd: dir });
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: PG_USER, database: 'postgres', max: o.concurrency + 1 });
  // A pool error (e.g. a backend killed at shutdown) must not crash the bench.
  pool.on('error', () => undefined);
  const stop = async () => {
    await pool.end().catch(() => undefined);
    await server.stop('SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
    removePeerDir(dir);
  };
  try {
    await server.ready;
    await pool.query(o.schema);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pool,
    settings: Object.entries(SETTINGS[durability]).map(([k, v]) => `${k}=${v}`).join(', '),
    cpuSeconds: () => server.cpuSeconds(),
    stop,
  };
}
