// The servers `omni bench fanout` compares, each started fresh as its own child process (so it
// has its own event loop and its CPU can be read from /proc): omnistream's `omni serve` on a
// fresh data dir, and the ws and Socket.IO peers (bench/push/peers/). All get the node flags
// `npm start` uses.

import { randomBytes } from 'node:crypto';
import { signToken } from '../../gateway/mod.ts';
import type { SubscriberProtocol } from '../../loadgen/mod.ts';
import { NODE_FLAGS, freshDir, removeDir, scriptArgs, spawnServer, startServer, type ServerProcess } from '../shared/server-process.ts';

export const TARGETS = ['omni', 'ws', 'socketio'] as const;
export type TargetName = (typeof TARGETS)[number];
export type Durability = 'fsync' | 'commit' | 'none';

export interface RunningTarget {
  name: TargetName;
  url: string;
  pid: number;
  /** Ingest token (the peers ignore it). */
  token: string;
  /** What the subscribers speak to it. */
  protocol: SubscriberProtocol;
  /** When an acknowledged event is safe, in words, for the report. */
  durability: string;
  stderr(): string;
  stop(): Promise<void>;
}

const PEER_SCRIPTS: Record<Exclude<TargetName, 'omni'>, string[]> = {
  ws: scriptArgs('./peers/ws-server', import.meta.url),
  socketio: scriptArgs('./peers/socketio-server', import.meta.url),
};

/** `workers`: omni serve's --workers (unset: its default); the peers ignore it. */
export async function startTarget(name: TargetName, durability: Durability, workers?: number): Promise<RunningTarget> {
  if (name === 'omni') {
    const dir = freshDir('fanout');
    const secret = randomBytes(32).toString('base64url');
    const server = startServer({ dataDir: dir, secret, durability, workers });
    const token = signToken({ sub: 'bench', role: 'ingest', exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, secret);
    return running(name, server, token, 'omni', `${durability} (LMDB; acknowledged once ${durability === 'fsync' ? 'flushed to disk' : durability === 'commit' ? 'committed' : 'applied'})`, () => removeDir(dir));
  }
  const server = spawnServer(`${name} peer`, [...NODE_FLAGS, ...PEER_SCRIPTS[name], '--host', '127.0.0.1', '--port', '0']);
  return running(name, server, '', name === 'socketio' ? 'socketio' : 'omni', 'none (in memory; acknowledged once applied)', () => undefined);
}

async function running(name: TargetName, server: ServerProcess, token: string, protocol: SubscriberProtocol, durability: string, cleanUp: () => void): Promise<RunningTarget> {
  try {
    const url = await server.listening;
    return {
      name,
      url,
      pid: server.pid,
      token,
      protocol,
      durability,
      stderr: () => server.stderr(),
      async stop() {
        await server.stop();
        cleanUp();
      },
    };
  } catch (error) {
    await server.stop();
    cleanUp();
    throw error;
  }
}
