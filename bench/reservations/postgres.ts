// PostgreSQL as a target of `omni bench reservations`: the Debian server binaries, a fresh
// cluster (initdb) in a temp dir, on a free loopback port, stopped and removed afterwards.
//
// The reservation logic in SQL, each operation ONE statement = one transaction = one round
// trip (a named prepared statement, so after the first use only Bind/Execute/Sync travel):
//   reserve: a CTE that takes the row lock with `UPDATE stock … WHERE on_hand - reserved >= qty`
//            and inserts the reservation only if that UPDATE matched — 0 rows = insufficient stock;
//   commit / release: a CTE that `DELETE … RETURNING`s the reservation and updates its row.
// A data-modifying CTE was chosen over a plpgsql function: the same single round trip, and the
// plan is visible in one place. Clients: a pg.Pool of C connections, each client holding one.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { rowsOf, rowKey, type RowState } from './workload.ts';
import type { ReserveAnswer, TargetKind } from './target.ts';
import { freePort } from '../shared/server-process.ts';
import { asUser, peerDir, removePeerDir, runCommand, spawnPeer } from './processes.ts';

type Durability = 'on' | 'off' | 'nofsync';

const PG_BIN = process.env.OMNI_BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PG_USER = 'postgres';

/** The server settings of each choice; everything else is initdb's default configuration. */
const SETTINGS: Record<Durability, Record<string, string>> = {
  on: { fsync: 'on', synchronous_commit: 'on' },
  off: { fsync: 'on', synchronous_commit: 'off' },
  nofsync: { fsync: 'off', synchronous_commit: 'on' },
};

const SCHEMA = `
CREATE TABLE stock (
  sku      text    NOT NULL,
  location text    NOT NULL,
  on_hand  integer NOT NULL,
  reserved integer NOT NULL DEFAULT 0,
  PRIMARY KEY (sku, location)
);
CREATE TABLE reservations (
  id       text    PRIMARY KEY,
  sku      text    NOT NULL,
  location text    NOT NULL,
  qty      integer NOT NULL
);`;

const RESERVE = {
  name: 'reserve',
  text: `WITH held AS (
           UPDATE stock SET reserved = reserved + $4
            WHERE sku = $2 AND location = $3 AND on_hand - reserved >= $4
           RETURNING sku, location)
         INSERT INTO reservations (id, sku, location, qty)
         SELECT $1, sku, location, $4 FROM held`,
};

const endStatement = (name: 'commit' | 'release') => ({
  name,
  text: `WITH gone AS (DELETE FROM reservations WHERE id = $1 RETURNING sku, location, qty)
         UPDATE stock s SET ${name === 'commit' ? 'on_hand = s.on_hand - gone.qty, ' : ''}reserved = s.reserved - gone.qty
           FROM gone WHERE s.sku = gone.sku AND s.location = gone.location`,
});
const END = { commit: endStatement('commit'), release: endStatement('release') };

export const postgresTarget: TargetKind<Durability> = {
  name: 'postgres',
  durabilities: { on: 'durable', off: 'relaxed', nofsync: 'unsynced' },
  unavailable: () => (existsSync(join(PG_BIN, 'postgres')) && existsSync(join(PG_BIN, 'initdb')) ? undefined : `no PostgreSQL binaries in ${PG_BIN} (set OMNI_BENCH_PG_BIN)`),
  async start(durability, o) {
    const dir = peerDir('resv-pg', PG_USER);
    const data = join(dir, 'data');
    const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
    // --no-sync: only initdb's own files go unsynced; the server's WAL follows the settings below.
    await runCommand(...asUser(PG_USER, join(PG_BIN, 'initdb'), ['-D', data, '-U', PG_USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']), { env, cwd: dir });
    const port = await freePort();
    const settings = { ...SETTINGS[durability], listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: dir, max_connections: String(o.concurrency + 10) };
    const [file, args] = asUser(PG_USER, join(PG_BIN, 'postgres'), ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
    const server = spawnPeer({
      file,
      args,
      readyPattern: /database system is ready to accept connections/,
      env,
      cwd: dir,
    });
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
      await pool.query(SCHEMA);
    } catch (error) {
      await stop();
      throw error;
    }
    return {
      settings: Object.entries(SETTINGS[durability]).map(([k, v]) => `${k}=${v}`).join(', '),
      connections: `pg.Pool of ${o.concurrency} connections (one held per client), named prepared statements`,
      async seed(shape, stock) {
        const rows = rowsOf(shape);
        await pool.query('INSERT INTO stock (sku, location, on_hand) SELECT sku, location, $3::integer FROM unnest($1::text[], $2::text[]) AS r(sku, location)', [
          rows.map((r) => r.sku),
          rows.map((r) => r.location),
          stock,
        ]);
        await pool.query('VACUUM ANALYZE stock');
      },
      async session() {
        const client = await pool.connect();
        return {
          async reserve(r): Promise<ReserveAnswer> {
            const res = await client.query({ ...RESERVE, values: [r.id, r.sku, r.location, r.qty] });
            return res.rowCount === 1 ? 'ok' : 'insufficient_stock';
          },
          async end(r) {
            const res = await client.query({ ...END[r.end], values: [r.id] });
            return res.rowCount === 1;
          },
          close: async () => client.release(),
        };
      },
      async snapshot() {
        const res = await pool.query<{ sku: string; location: string; on_hand: number; reserved: number }>('SELECT sku, location, on_hand, reserved FROM stock');
        return new Map<string, RowState>(res.rows.map((r) => [rowKey(r.sku, r.location), { onHand: r.on_hand, reserved: r.reserved }]));
      },
      serverCpuSeconds: () => server.cpuSeconds(),
      stop,
    };
  },
};
