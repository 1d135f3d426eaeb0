// A real nginx in front of a gateway, configured with the block docs/deployment.md documents:
// started as a child process (no daemon, no master) with its own prefix in a temp dir, on a free
// loopback port, and stopped after. A missing nginx fails loudly: it is a test dependency, never
// a reason to skip.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Nginx {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const DOC = new URL('../docs/deployment.md', import.meta.url);

/** The first ```nginx block of docs/deployment.md, pointed at `upstreamPort` and listening on `port`. */
export function documentedConfig(upstreamPort: number, port: number): string {
  const block = /```nginx\n([\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'))?.[1];
  if (block === undefined) throw new Error('docs/deployment.md has no ```nginx block');
  const upstream = 'server 127.0.0.1:8080;';
  const listen = 'listen 80;';
  if (!block.includes(upstream) || !block.includes(listen)) throw new Error(`the documented nginx block must contain "${upstream}" and "${listen}"`);
  return block.replace(upstream, `server 127.0.0.1:${upstreamPort};`).replace(listen, `listen 127.0.0.1:${port};`);
}

function nginxBinary(): string {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v']).status === 0) return candidate;
  }
  throw new Error('nginx is not installed: this test runs a real nginx (Debian: apt-get install -y nginx; .ci/run installs it)');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startNginx(upstreamPort: number): Promise<Nginx> {
  const binary = nginxBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'omni-nginx-'));
  const pidFile = join(dir, 'nginx.pid');
  const temp = (name: string) => join(dir, name);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      // One process that is killed with its child: nothing left behind if a test fails.
      'master_process off;',
      `pid ${pidFile};`,
      'error_log stderr warn;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${temp(`${name}_temp`)};`),
      documentedConfig(upstreamPort, port),
      '}',
    ].join('\n'),
  );

  let stderr = '';
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  // nginx writes its pid file once its listening sockets are open.
  const watcher = watch(dir);
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => existsSync(pidFile) && resolve();
      watcher.on('change', check);
      check();
      child.once('error', (error) => reject(new Error(`nginx did not start: ${error.message}`)));
      child.once('exit', (code) => reject(new Error(`nginx exited with ${code} before listening:\n${stderr}`)));
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    watcher.close();
  }

  let stopped: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
