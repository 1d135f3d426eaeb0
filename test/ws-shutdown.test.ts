// Shutdown (docs/protocol.md, section 1) with a client that never reads: `omni serve` gets SIGTERM while one WebSocket has
// stopped reading (its kernel buffers, uWS's buffer and its queue are full) and another has
// messages still on their way. The process must exit 0 in bounded time — not wait forever on
// the client that never drains — and the reading client gets everything, then 1001.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../gateway/mod.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { loc, openRawWs, post, recv, WsClient } from './ws-harness.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'omni.mjs');
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

/** Starts `omni serve` on a free port; resolves once it prints its listening line. */
async function serve() {
  const dataDir = mkdtempSync(join(tmpdir(), 'omni-ws-shutdown-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir, '--durability', 'none'], {
    cwd: ROOT,
    env: { ...process.env, OMNI_SECRET: TEST_SECRET, OMNI_PORT: '', OMNI_DATA: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /omni listening on (\S+)\n/.exec(stdout);
      if (match) resolveUrl(match[1]);
    });
    void exited.then((code) => reject(new Error(`omni serve exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, wsUrl: `${url.replace('http', 'ws')}/v1/ws`, exited, stderr: () => stderr };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('shutdown with a client that never reads', () => {
  it('SIGTERM: exits 0 in bounded time; the reading client gets every queued update, then 1001', async () => {
    const s = await serve();
    const ingest = signToken({ role: 'ingest', sub: 'feed' }, TEST_SECRET);
    // 400 locations make every update of stock/BIG a ~25 kB message: buffers fill fast.
    const LOCS = 400;
    const places = Array.from({ length: LOCS }, (_, i) => `L${i}`);
    await post(s.url, ingest, places.map((p) => loc(`loc-${p}`, p)));
    await post(s.url, ingest, places.map((p) => recv(`init-${p}`, 'BIG', p, 1)));

    const stuck = await openRawWs(s.wsUrl, [{ op: 'sub', topic: 'stock/BIG' }]);
    cleanup.push(() => stuck.destroy());
    const reader = await WsClient.open(s.wsUrl);
    cleanup.push(() => void reader.close());
    await reader.sub('stock/BIG');

    // Until the stuck client's own buffers are full: its updates start to be conflated.
    let n = 0;
    while ((await metric(s.url, 'omni_ws_conflations_total')) === 0) {
      for (let k = 0; k < 50; k++, n++) await post(s.url, ingest, [recv(`hot-${n}`, 'BIG', places[n % LOCS], 1)]);
      if (n > 20_000) throw new Error('no conflation after 20,000 updates');
    }
    // The reader stops reading too, so updates are still on their way to it at the signal.
    (reader.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    for (let k = 0; k < 50; k++, n++) await post(s.url, ingest, [recv(`hot-${n}`, 'BIG', places[n % LOCS], 1)]);
    const final = (await (await fetch(`${s.url}/v1/stock/BIG`)).json()) as { seq: number; onHand: number };
    expect(final.onHand).toBe(LOCS + n);
    // Paused before the last 50: they are still in kernel buffers or server queues.
    expect(reader.updates('stock/BIG').at(-1)!.seq).toBeLessThan(final.seq);

    const signalled = Date.now();
    s.child.kill('SIGTERM');
    (reader.ws as unknown as { _socket: { resume(): void } })._socket.resume();

    expect((await reader.closed).code).toBe(1001);
    const last = reader.updates('stock/BIG').at(-1)!;
    expect(last.seq).toBe(final.seq);
    expect(last.data.onHand).toBe(final.onHand);

    // Bounded by the drain timeout (10 s) spent on the stuck client, plus generous slack.
    expect(await s.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(30_000);
    expect(s.stderr()).toMatch(/SIGTERM received/);
    expect(s.stderr()).toMatch(/stopped/);
  }, 90_000);
});
