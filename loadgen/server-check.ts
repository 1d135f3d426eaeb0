// The run's prefix, and a cheap look at the server before the set-up writes into it. Every name
// a run writes starts with `lg-<time>-<random>-`, so the loadgen can tell its own service topics
// from anyone else's in GET /v1/queues (every topic that ever had an agent or a request). A
// server with other topics is refused without --force. Stock and customers cannot be listed
// through the API, so other data of those kinds cannot be told from earlier runs' leftovers: the
// run only says how many state entries the server holds (GET /metrics, `omni_state_entries`).

import { randomBytes } from 'node:crypto';
import { UsageError } from '../flags/mod.ts';

/** A run's prefix: time (base 36) and 3 random bytes, so two runs never share one. */
export function runPrefix(): string {
  return `lg-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Names made by some loadgen run (runPrefix, then the scenario's own name). */
const LOADGEN_NAME = /^lg-[0-9a-z]+-[0-9a-f]{6}-/;

export interface ServerHoldings {
  /** Keys in the server's state store; undefined when /metrics could not be read. */
  stateEntries?: number;
  /** Service topics not made by a loadgen run; undefined when /v1/queues could not be read. */
  foreignTopics?: string[];
}

export async function probeServer(url: string, token: string): Promise<ServerHoldings> {
  const get = async (path: string, headers: Record<string, string> = {}) => {
    try {
      const response = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
      return response.ok ? await response.text() : undefined;
    } catch {
      return undefined;
    }
  };
  const [metrics, queues] = await Promise.all([get('/metrics'), get('/v1/queues', { authorization: `Bearer ${token}` })]);
  const entries = metrics === undefined ? undefined : /^omni_state_entries(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(metrics)?.[1];
  let foreignTopics: string[] | undefined;
  try {
    foreignTopics = queues === undefined ? undefined : Object.keys(JSON.parse(queues) as object).filter((topic) => !LOADGEN_NAME.test(topic));
  } catch {
    foreignTopics = undefined;
  }
  return { stateEntries: entries === undefined ? undefined : Number(entries), foreignTopics };
}

/**
 * Throws a UsageError when the server visibly holds other data and --force was not given;
 * otherwise returns a line for the log about what it holds (undefined when it is empty).
 */
export function checkServer(h: ServerHoldings, force: boolean): string | undefined {
  const foreign = h.foreignTopics ?? [];
  if (foreign.length > 0) {
    const named = `${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? `, … (${foreign.length} in all)` : ''}`;
    if (!force) throw new UsageError(`the server holds service topics no loadgen run made (${named}): it is in use. Every name the loadgen writes starts with lg-, and --cleanup takes back what it can, yet its load and what it cannot remove (locations, customers, topics) would mix with that data. Pass --force to run anyway`);
    return `--force: running against a server with service topics of its own (${named})`;
  }
  if (h.stateEntries === undefined) return 'could not read omni_state_entries from /metrics: whether the server holds other data is unknown';
  if (h.stateEntries === 0) return undefined;
  return `the server holds ${h.stateEntries.toLocaleString('en-US')} state entries (earlier runs' or other data: stock and customers cannot be listed to tell); this run's names all start with its own prefix`;
}
