// `omni serve` (and the fan-out bench's peer servers) as a child process for the benchmarks: the
// server gets its own process (and event loop) so it does not share a thread with the load
// generator. Every child is registered and killed when the bench exits, fails or is interrupted.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether this runs from the sources (bench/shared/) or the build (dist/bench/shared/). */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../..' : '../../..', import.meta.url));
export const OMNI_BIN = join(REPO_ROOT, 'bin', 'omni.mjs');
/** The flags `npm start` gives node. */
export const NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * The node arguments that run a bench script at `path` (without extension) beside `base` (its
 * caller's import.meta.url) in a child: from the sources its .ts through tsx, from the build
 * (dist/) its compiled .js.
 */
export function scriptArgs(path: string, base: string): string[] {
  return base.endsWith('.ts') ? ['--import', 'tsx', fileURLToPath(new URL(`${path}.ts`, base))] : [fileURLToPath(new URL(`${path}.js`, base))];
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nomni bench: ${signal}; stopping child processes`);
      process.exit(130);
    });
  }
}

/** A fresh directory under the OS temp dir, removed when the bench exits (or by `removeDir`). */
export function freshDir(label: string): string {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), `omni-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A port free right now on loopback (the restart bench needs to know it before the server prints it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the URL from the `listening on` line. */
  listening: Promise<string>;
  /** ms from spawn to the listening line (set once it arrived). */
  listeningAfterMs?: number;
  spawnedAt: number;
  exited: Promise<number | null>;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServeArgs {
  dataDir: string;
  secret: string;
  port?: number;
  durability?: 'fsync' | 'commit' | 'none';
  /** `omni serve --workers N`; unset, the server's own default (the number of cores). */
  workers?: number;
  /** Give up waiting for the listening line after this long. */
  startTimeoutMs?: number;
  /** More node flags (e.g. bench/idle/inspector-gc.ts's INSPECT_FLAG). */
  nodeFlags?: string[];
}

export function startServer(args: ServeArgs): ServerProcess {
  const argv = [...NODE_FLAGS, ...(args.nodeFlags ?? []), OMNI_BIN, 'serve', '--host', '127.0.0.1', '--port', String(args.port ?? 0), '--data', args.dataDir];
  if (args.durability) argv.push('--durability', args.durability);
  if (args.workers) argv.push('--workers', String(args.workers));
  return spawnServer('omni serve', argv, { OMNI_NATS: '', OMNI_SECRET: args.secret }, args.startTimeoutMs);
}

/**
 * Any node server as a registered child process (`node ...argv`), ready once it prints
 * `listening on http://HOST:PORT` (`omni serve` and the fan-out bench's peer servers do).
 */
export function spawnServer(label: string, argv: string[], env: Record<string, string> = {}, startTimeoutMs = 60_000): ServerProcess {
  hookExit();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err = (err + d).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      children.delete(child);
      resolve(null);
    });
  });
  const server: ServerProcess = {
    child,
    pid: child.pid ?? -1,
    spawnedAt,
    exited,
    stderr: () => err,
    listening: new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${label} did not print its listening line within ${startTimeoutMs} ms: ${err}`)), startTimeoutMs);
      timer.unref();
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          server.listeningAfterMs ??= performance.now() - spawnedAt;
          resolve(m[1]);
          out = '';
        } else if (out.length > 10_000) out = out.slice(-1000);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code}) before listening: ${err.trim()}`));
      });
    }),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  server.listening.catch(() => undefined);
  return server;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux only). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the full line, 12 and 13 here; USER_HZ is 100
    // on every mainstream Linux build.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
