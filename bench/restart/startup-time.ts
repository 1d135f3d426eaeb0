// `omni bench startup`: how long `npm start` takes to print "omni listening on", running the
// JavaScript build (dist/) against loading the TypeScript sources through tsx, side by side;
// also the same two started as `node bin/omni.mjs serve` without npm in front.

import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeFlags, readFlags, UsageError, type FlagSpec } from '../shared/flags.ts';
import { fmtMs, median } from '../shared/report.ts';
import { NODE_FLAGS, OMNI_BIN, REPO_ROOT } from '../shared/server-process.ts';

export const STARTUP_FLAGS: FlagSpec[] = [
  { name: 'starts', kind: 'value', valueName: 'N', help: 'starts of each kind; the median is reported (default 7)' },
  { name: 'via', kind: 'value', valueName: 'npm|node|both', help: 'start through `npm start`, `node bin/omni.mjs serve`, or both (default both)' },
];

export const STARTUP_HELP = `Usage: omni bench startup [flags]

Times spawn → the "omni listening on" line of a fresh server on an empty data dir, the way
\`npm start\` runs it: from the JavaScript build (OMNI_RUN=dist; built first when dist/ is missing
or older than the sources) and from the TypeScript sources through tsx (OMNI_RUN=tsx). With
--via both (the default) each is also started as \`node bin/omni.mjs serve\`, which leaves out
npm's own start-up. The kinds alternate start by start, so a busy moment of the machine
falls on all of them alike.

Flags:
${describeFlags(STARTUP_FLAGS)}`;

const RUNS = ['dist', 'tsx'] as const;
type Via = 'npm' | 'node';

export interface StartupBenchOptions {
  starts: number;
  via: Via[];
}

export function readStartupOptions(argv: readonly string[]): StartupBenchOptions | 'help' {
  const f = readFlags(argv, STARTUP_FLAGS);
  if (f.help) return 'help';
  const via = f.string('via') ?? 'both';
  if (via !== 'npm' && via !== 'node' && via !== 'both') throw new UsageError(`--via must be npm, node or both, not '${via}'`);
  return { starts: f.int('starts', 7, 1, 100), via: via === 'both' ? ['npm', 'node'] : [via] };
}

/** `npm start`'s npm: the npm running this bench, else the one installed next to node. */
function npmCli(): string {
  return process.env.npm_execpath ?? realpathSync(join(dirname(process.execPath), 'npm'));
}

function command(via: Via, dataDir: string): string[] {
  const serveArgs = ['--port', '0', '--host', '127.0.0.1', '--data', dataDir];
  return via === 'npm' ? [npmCli(), 'start', '--', ...serveArgs] : [...NODE_FLAGS, OMNI_BIN, 'serve', ...serveArgs];
}

/**
 * Spawns one start and resolves with ms from spawn to the listening line. npm does not pass
 * SIGTERM on to the script it runs, so the start gets its own process group and the whole
 * group is stopped.
 */
function timeOneStart(via: Via, run: (typeof RUNS)[number], limitMs = 60_000): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omni-bench-startup-'));
  const env = { ...process.env, OMNI_RUN: run, OMNI_PORT: '', OMNI_HOST: '', OMNI_DATA: '', OMNI_SECRET: '', OMNI_NATS: '' };
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, command(via, dataDir), { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stopGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  const onExit = () => stopGroup('SIGKILL');
  process.once('exit', onExit);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${limitMs} ms: ${err}`)), limitMs);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/omni listening on http:\/\//.test(out)) {
        clearTimeout(timer);
        resolve(performance.now() - spawnedAt);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before listening: ${err.trim()}`));
    });
  });
  return listening.finally(async () => {
    stopGroup('SIGTERM');
    const kill = setTimeout(() => stopGroup('SIGKILL'), 5000);
    await exited;
    clearTimeout(kill);
    // The server's own process may outlive npm for a moment: its group goes too.
    stopGroup('SIGKILL');
    process.off('exit', onExit);
    rmSync(dataDir, { recursive: true, force: true });
  });
}

async function ensureBuild(): Promise<void> {
  const { distState } = (await import(pathToFileURL(join(REPO_ROOT, 'bin', 'build-state.mjs')).href)) as { distState(root: string): string };
  const state = distState(REPO_ROOT);
  if (state === 'current') return;
  console.log(`  dist/ is ${state}: building it first (npm run build)`);
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [join(REPO_ROOT, 'bin', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' }).once('close', resolve));
  if (code !== 0) throw new Error(`npm run build failed (${code})`);
}

export interface StartupBenchResult {
  options: StartupBenchOptions;
  /** ms to the listening line per start, by `${via} ${run}` (e.g. "npm dist"). */
  samples: Record<string, number[]>;
  medians: Record<string, number>;
}

export async function runStartupBench(o: StartupBenchOptions): Promise<StartupBenchResult> {
  await ensureBuild();
  const kinds = o.via.flatMap((via) => RUNS.map((run) => ({ via, run, label: `${via} ${run}` })));
  const samples: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k.label, []]));
  for (let i = 0; i < o.starts; i++) {
    const line: string[] = [];
    for (const k of kinds) {
      const ms = await timeOneStart(k.via, k.run);
      samples[k.label].push(ms);
      line.push(`${k.label} ${fmtMs(ms)}`);
    }
    console.log(`  start ${i + 1}/${o.starts}: ${line.join(', ')} ms`);
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  console.log(`\n  spawn → "omni listening on", empty data dir, median of ${o.starts} [min … max]:`);
  for (const via of o.via) {
    const name = via === 'npm' ? 'npm start' : 'node bin/omni.mjs serve';
    const range = (v: number[]) => `[${fmtMs(Math.min(...v))} … ${fmtMs(Math.max(...v))}]`;
    const built = samples[`${via} dist`];
    const source = samples[`${via} tsx`];
    console.log(`    ${name.padEnd(24)} built (dist/) ${fmtMs(median(built))} ms ${range(built)}   sources via tsx ${fmtMs(median(source))} ms ${range(source)}   saved ${fmtMs(median(source) - median(built))} ms`);
  }
  return { options: o, samples, medians };
}

export function startupHeadline(r: StartupBenchResult): Record<string, number> {
  // "npm dist" → npmDistMs
  return Object.fromEntries(Object.entries(r.medians).map(([k, v]) => [`${k.replace(/ (\w)/, (_, c: string) => c.toUpperCase())}Ms`, v]));
}
