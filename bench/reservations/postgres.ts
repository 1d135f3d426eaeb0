// PostgreSQL as a target of `omni bench reservations`: a fresh server started by
// bench/shared/peer-postgres.ts (the Debian binaries, initdb in a temp dir, loopback).
//
// The reservation logic in SQL, each operation ONE statement = one transaction = one round
// trip (a named prepared statement, so after the first use only Bind/Execute/Sync travel):
//   reserve: a CTE that takes the row lock with `UPDATE stock … WHERE on_hand - reserved >= qty`
//            and inserts the reservation only if that UPDATE matched — 0 rows = insufficient stock;
//   commit / release: a CTE that `DELETE … RETURNING`s the reservation and updates its row.
// A data-modifying CTE was chosen over a plpgsql function: the same single round trip, and the
// plan is visible in one place. Clients: a pg.Pool of C connections, each client holding one.

import { rowsOf, rowKey, type RowState } from './workload.ts';
import type { ReserveAnswer, TargetKind } from './target.ts';
import { PG_TIERS, postgresUnavailable, startPostgres, type PgDurability } from '../shared/peer-postgres.ts';

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

export const postgresTarget: TargetKind<PgDurability> = {
  name: 'postgres',
  durabilities: PG_TIERS,
  unavailable: postgresUnavailable,
  async start(durability, o) {
    const { pool, settings, cpuSeconds, stop } = await startPostgres(durability, { label: 'resv-pg', concurrency: o.concurrency, schema: SCHEMA });
    return {
      settings,
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
      serverCpuSeconds: cpuSeconds,
      stop,
    };
  },
};
