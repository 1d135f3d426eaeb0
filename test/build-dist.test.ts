// The JavaScript build (`npm run build`, run by `npm ci` through `prepare`) in a copy of this
// checkout: bin/omni.mjs runs dist/ when it was built from the sources as they are, and every
// command works from it — serve, token, loadgen with its worker-thread subscribers, bench, and
// `npm start -- <flags>`. Once a source changes, the stale dist/ is no longer run: the sources
// go through tsx, and OMNI_RUN=dist refuses. (The other tests spawn bin/omni.mjs of the checkout
// itself and so run dist/ only when it is current, else the sources: the code under test is
// always the sources as they are.)

import { execFile, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, killHard, listeningUrl, tempDirs, type ServeProcess } from './fixtures/omni-process.ts';

const run = promisify(execFile);
const SECRET = 'build-dist-test-secret';
const MARKER = 'omni-test: running dist/';
const COPIED = ['flags', 'engine', 'cluster', 'gateway', 'client', 'cli', 'bench', 'loadgen', 'ui', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

const dirs = tempDirs('omni-build-dist-');
let copy: string;
const started: ServeProcess[] = [];

/** `node bin/omni.mjs …` in the copy; never rejects, the exit code is part of the answer. */
function omni(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [join(copy, 'bin', 'omni.mjs'), ...args], { cwd: copy, env: { ...process.env, OMNI_RUN: '', ...env }, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** A child started like the fixtures' servers, in its own process group (npm does not pass SIGTERM on). */
function startInCopy(argv: string[], env: Record<string, string>): ServeProcess {
  const child = spawn(argv[0], argv.slice(1), { cwd: copy, env: { ...process.env, OMNI_NATS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc = { child, exited, stdout: () => stdout, stderr: () => stderr };
  started.push(proc);
  return proc;
}

async function stopGroup(proc: ServeProcess): Promise<void> {
  try {
    process.kill(-proc.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await killHard(proc);
}

beforeAll(async () => {
  copy = dirs.make();
  for (const entry of COPIED) {
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, filter: (source) => !/[/\\](dist|node_modules)$/.test(source) });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const build = await run(process.execPath, [join(copy, 'bin', 'build.mjs')], { cwd: copy, timeout: 60_000 });
  expect(build.stderr).toBe('');
  // A line only the built JavaScript prints: which of the two ran is then plain to see.
  const entry = join(copy, 'dist', 'cli', 'mod.js');
  writeFileSync(entry, `console.error(${JSON.stringify(MARKER)});\n${readFileSync(entry, 'utf8')}`);
});

afterAll(async () => {
  for (const proc of started) await stopGroup(proc);
  dirs.cleanup();
});

describe('the JavaScript build', () => {
  it('is what bin/omni.mjs runs when it was built from the current sources', async () => {
    expect(existsSync(join(copy, 'dist', 'loadgen', 'subscriber-worker.js'))).toBe(true);
    const token = await omni(['token', '--role', 'ingest', '--sub', 'feed', '--secret', SECRET]);
    expect(token).toMatchObject({ code: 0, stderr: `${MARKER}\n` });
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const help = await omni(['bench', '--help'], { OMNI_RUN: 'dist' });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('startup');
  });

  it('serves, and carries a loadgen run with worker-thread subscribers', async () => {
    const server = startInCopy([process.execPath, join(copy, 'bin', 'omni.mjs'), 'serve', '--port', '0', '--data', dirs.make(), '--secret', SECRET, '--durability', 'none'], { OMNI_RUN: 'dist' });
    const url = await listeningUrl(server);
    const load = await omni(['loadgen', '--url', url, '--secret', SECRET, '--duration', '1', '--rate', '100', '--skus', '20', '--subscribers', '2', '--subscriber-workers', '1'], { OMNI_RUN: 'dist' });
    expect(load.stderr).toContain(MARKER);
    expect(load.code).toBe(0);
    expect(load.stdout).toMatch(/events\s+sent 100, acked 100, errors 0/);
    expect(load.stdout).toMatch(/1 subscriber workers/);
    expect(load.stdout).toMatch(/subscribers\s+[1-9]\d* snapshots/);
    await stopGroup(server);
  });

  it('is what `npm start -- <flags>` runs, the flags reaching omni serve', async () => {
    // A mark only the bundle written by the build carries: esbuild run at start would not have it.
    const prebuilt = join(copy, 'dist', 'ui', 'pages', 'desk.js');
    appendFileSync(prebuilt, '\n// bundled by the build\n');
    const npm = process.env.npm_execpath ?? join(process.execPath, '..', 'npm');
    const server = startInCopy([process.execPath, npm, 'start', '--', '--port', '0', '--data', dirs.make(), '--secret', SECRET], {});
    const url = await listeningUrl(server);
    expect(server.stderr()).toContain(MARKER);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    // The pages under /ui/ are the scripts the build bundled into dist/ui/pages/.
    const page = await fetch(`${url}/ui/desk.js`);
    expect(page.status).toBe(200);
    const script = await page.text();
    expect(script.length).toBeGreaterThan(10_000);
    expect(script).toBe(readFileSync(prebuilt, 'utf8'));
    expect(script).toContain('// bundled by the build');
    await stopGroup(server);
  });

  it('is not run once a source changed after it was built: the sources run through tsx, OMNI_RUN=dist refuses', async () => {
    appendFileSync(join(copy, 'cli', 'token.ts'), '\n// edited after the build\n');
    const token = await omni(['token', '--role', 'ingest', '--sub', 'feed', '--secret', SECRET]);
    expect(token.code).toBe(0);
    expect(token.stderr).not.toContain(MARKER);
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const forced = await omni(['token', '--role', 'ingest', '--sub', 'feed', '--secret', SECRET], { OMNI_RUN: 'dist' });
    expect(forced).toMatchObject({ code: 1, stdout: '' });
    expect(forced.stderr).toMatch(/OMNI_RUN=dist but dist\/ is older than the sources; run npm run build/);
    // Rebuilt, it is current again.
    await run(process.execPath, [join(copy, 'bin', 'build.mjs')], { cwd: copy, timeout: 60_000 });
    expect((await omni(['token', '--role', 'ingest', '--sub', 'feed', '--secret', SECRET], { OMNI_RUN: 'dist' })).code).toBe(0);
  });
});
