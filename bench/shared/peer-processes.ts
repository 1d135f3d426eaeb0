// The peer servers (postgres, redis-server) the comparison benches start (reservations, loyalty),
// each with a temp data dir of its own and in its own process group (a Ctrl-C reaches the bench,
// which then stops them in order). As server-process.ts does for `omni serve`, every server and
// dir is registered and, when the bench exits, fails or is interrupted, killed with all it
// forked, then removed — in that order, so no server writes into a directory being deleted.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const servers = new Set<number>();
const dirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of servers) killTree(pid);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  // process.exit runs the 'exit' hook above; bench/shared/server-process.ts may have installed the same.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nomni bench: ${signal}; stopping the peer servers`);
      process.exit(130);
    });
  }
}

/** SIGKILLs a server and everything it forked (found before the kill: orphans get re-parented). */
function killTree(root: number): void {
  const table = processTable();
  for (const pid of table ? treeOf(root, table) : [root]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const isRoot = () => process.getuid?.() === 0;

/** The command line that runs `file` as `user` when we are root (postgres refuses to run as root). */
export function asUser(user: string | undefined, file: string, args: readonly string[]): [string, string[]] {
  if (!user || !isRoot()) return [file, [...args]];
  // setpriv execs the command (no intermediate process), so the pid we get is the server's own.
  return ['setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', file, ...args]];
}

/** A fresh temp directory, owned by `user` when we are root; removed at exit or by `removePeerDir`. */
export function peerDir(label: string, user?: string): string {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), `omni-bench-${label}-`));
  dirs.add(dir);
  if (user && isRoot()) {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  return dir;
}

export function removePeerDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Runs a set-up command (e.g. initdb) to completion; rejects with its output on failure. */
export function runCommand(file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

export interface PeerProcess {
  readonly pid: number;
  /** Resolves once the server printed a line matching its ready pattern. */
  readonly ready: Promise<void>;
  /** The last 8 KB of its output (stdout and stderr). */
  output(): string;
  /** CPU seconds of the server and every process it forked (backends), all threads. */
  cpuSeconds(): number | undefined;
  /** `signal` to the server, SIGKILL to it and its children after `graceMs`; resolves once it is gone. */
  stop(signal: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnPeerOptions {
  file: string;
  args: readonly string[];
  readyPattern: RegExp;
  env?: NodeJS.ProcessEnv;
  /** Working directory: one the server's user may enter (postgres warns about root's). */
  cwd?: string;
  startTimeoutMs?: number;
}

export function spawnPeer(o: SpawnPeerOptions): PeerProcess {
  hookExit();
  const child: ChildProcess = spawn(o.file, [...o.args], { detached: true, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${o.file}`);
  servers.add(pid);
  let out = '';
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timeout = o.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => reject(new Error(`${o.file} not ready within ${timeout} ms:\n${out}`)), timeout);
    const onData = (d: string) => {
      out = (out + d).slice(-8000);
      if (o.readyPattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const s of [child.stdout!, child.stderr!]) {
      s.setEncoding('utf8');
      s.on('data', onData);
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${o.file} exited (${code}) before it was ready:\n${out}`));
    });
  });
  ready.catch(() => undefined);
  return {
    pid,
    ready,
    output: () => out,
    cpuSeconds: () => treeCpuSeconds(pid),
    async stop(signal, graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => killTree(pid), graceMs);
        await exited;
        clearTimeout(timer);
      }
      servers.delete(pid);
    },
  };
}

interface ProcEntry {
  ppid: number;
  cpuSeconds: number;
}

/** Every process's parent and CPU seconds (utime + stime), from /proc (Linux only). */
function processTable(): Map<number, ProcEntry> | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const table = new Map<number, ProcEntry>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // After the command name (which may hold spaces): state, ppid, …, utime (12), stime (13).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(f[1]), cpuSeconds: (Number(f[11]) + Number(f[12])) / 100 }); // USER_HZ = 100
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

/**
 * A process and all its descendants. By parent, not by process group: PostgreSQL backends call
 * setsid() and so leave the postmaster's group.
 */
function treeOf(root: number, table: Map<number, ProcEntry>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, e] of table) children.set(e.ppid, [...(children.get(e.ppid) ?? []), pid]);
  const out: number[] = [];
  const todo = table.has(root) ? [root] : [];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds of a server and every process it forked (threads are in their process's figure). */
export function treeCpuSeconds(root: number): number | undefined {
  const table = processTable();
  if (!table || !table.has(root)) return undefined;
  return treeOf(root, table).reduce((sum, pid) => sum + table.get(pid)!.cpuSeconds, 0);
}
