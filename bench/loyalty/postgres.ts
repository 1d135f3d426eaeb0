// PostgreSQL as a target of `omni bench loyalty`: a fresh server (bench/shared/peer-postgres.ts).
// A redemption is the statement people write for it, one statement = one transaction = one round
// trip (a named prepared statement):
//   UPDATE loyalty SET balance = balance - $1 WHERE customer = $2 AND balance >= $1
// 1 row = redeemed, 0 rows = not enough points. The row lock serialises redemptions of one
// customer; nothing else is recorded (no redemption id, no history: see docs/benchmarks.md).

import { PG_TIERS, postgresUnavailable, startPostgres, type PgDurability } from '../shared/peer-postgres.ts';
import type { LoyaltyTargetKind, RedeemAnswer } from './target.ts';

const SCHEMA = `CREATE TABLE loyalty (customer text PRIMARY KEY, balance bigint NOT NULL);`;

const REDEEM = { name: 'redeem', text: 'UPDATE loyalty SET balance = balance - $1 WHERE customer = $2 AND balance >= $1' };

export const postgresLoyalty: LoyaltyTargetKind<PgDurability> = {
  name: 'postgres',
  durabilities: PG_TIERS,
  unavailable: postgresUnavailable,
  async start(durability, o) {
    const { pool, settings, cpuSeconds, stop } = await startPostgres(durability, { label: 'loyalty-pg', concurrency: o.concurrency, schema: SCHEMA });
    return {
      settings,
      connections: `pg.Pool of ${o.concurrency} connections (one held per client), one prepared UPDATE per redemption`,
      async seed(customers, balance) {
        await pool.query('INSERT INTO loyalty (customer, balance) SELECT c, $2::bigint FROM unnest($1::text[]) AS c', [customers, balance]);
        await pool.query('VACUUM ANALYZE loyalty');
      },
      async session() {
        const client = await pool.connect();
        return {
          async redeem(r): Promise<RedeemAnswer> {
            const res = await client.query({ ...REDEEM, values: [r.points, r.customer] });
            return res.rowCount === 1 ? 'ok' : 'insufficient_points';
          },
          close: async () => client.release(),
        };
      },
      async balances() {
        const res = await pool.query<{ customer: string; balance: string }>('SELECT customer, balance FROM loyalty');
        return new Map(res.rows.map((r) => [r.customer, Number(r.balance)]));
      },
      serverCpuSeconds: cpuSeconds,
      stop,
    };
  },
};
