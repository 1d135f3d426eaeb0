// The processes of `omni bench cluster`: `omni serve` embedded or as one node of a cluster on a
// NATS server, restartable on its data dir and port (a crashed machine coming back), and what
// the bench asks them over HTTP: post a batch, the cluster's layout, a SKU's on-hand.

import { ownerAmong } from '../../cluster/mod.ts';
import { freePort, freshDir, NODE_FLAGS, OMNI_BIN, spawnServer, type ServerProcess } from '../shared/server-process.ts';

export interface NodeSpec {
  label: string;
  partitions: number;
  secret: string;
  /** Set: a node of the cluster on these NATS servers, named `label`. */
  nats?: string;
}

export interface OmniNode {
  spec: NodeSpec;
  dir: string;
  port: number;
  url: string;
  server: ServerProcess;
}

/** `omni serve --workers 1 --durability commit`, on a fresh dir and free port unless given (a restart). */
export async function startNode(spec: NodeSpec, dir = freshDir(`cluster-${spec.label}`), port?: number): Promise<OmniNode> {
  port ??= await freePort();
  const argv = [...NODE_FLAGS, OMNI_BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dir, '--partitions', String(spec.partitions), '--workers', '1', '--durability', 'commit'];
  if (spec.nats) argv.push('--nats', spec.nats, '--node', spec.label);
  const server = spawnServer(`omni serve ${spec.label}`, argv, { OMNI_NATS: '', OMNI_SECRET: spec.secret });
  return { spec, dir, port, server, url: await server.listening };
}

export interface PostAnswer {
  status: number;
  results: Array<{ id?: string; ok?: boolean; error?: { code?: string } }>;
}

export async function postEvents(url: string, token: string, events: unknown[], timeoutMs: number): Promise<PostAnswer> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { results?: PostAnswer['results'] };
  return { status: res.status, results: body.results ?? [] };
}

/** Whether every event of the batch was acknowledged. */
export const allOk = (answer: PostAnswer | undefined, count: number): boolean => answer?.status === 200 && answer.results.length === count && answer.results.every((r) => r.ok);

interface ClusterLayout {
  nodes?: Array<{ node: string; alive: boolean; partitions: number[] }>;
}

/** Partition → the node holding it and whether that node is alive, as `url` sees it; undefined when it does not answer. */
export async function holders(url: string, supervisorToken: string): Promise<Map<number, { node: string; alive: boolean }> | undefined> {
  const res = await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${supervisorToken}` }, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const layout = (await res.json()) as ClusterLayout;
  if (!layout.nodes) return undefined;
  const map = new Map<number, { node: string; alive: boolean }>();
  for (const n of layout.nodes) for (const p of n.partitions) map.set(p, n);
  return map;
}

/** Every partition held, by a live node, by the one rendezvous hashing gives it among `names` (the share the cluster settles on). */
export async function settled(url: string, supervisorToken: string, names: string[], partitions: number): Promise<boolean> {
  const map = await holders(url, supervisorToken);
  if (!map) return false;
  for (let p = 0; p < partitions; p++) {
    const h = map.get(p);
    if (!h?.alive || h.node !== ownerAmong(p, names)) return false;
  }
  return true;
}

/** A SKU's on-hand at `location` as `url` serves it (undefined when absent or not answered). */
export async function onHand(url: string, sku: string, location: string): Promise<number | undefined> {
  const res = await fetch(`${url}/v1/stock/${encodeURIComponent(sku)}`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const body = (await res.json()) as { locations?: Record<string, { onHand?: number }> };
  return body.locations?.[location]?.onHand;
}
