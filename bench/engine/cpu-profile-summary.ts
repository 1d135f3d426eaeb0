// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
// and self time per source file. Usage:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/omni.mjs bench engine --durability commit
//   node --import tsx bench/engine/cpu-profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25]

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  location: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const repo = url.indexOf('/main/');
  if (repo >= 0) return url.slice(repo + '/main/'.length);
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: CpuProfile): { totalMs: number; functions: SelfTime[]; files: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  // Samples under node:inspector are the profiler stopping itself (PhaseProfiler), not the workload.
  const isProfilerItself = (id: number): boolean => {
    for (let n = byId.get(id); n; n = parent.get(n.id)) if (n.callFrame.url === 'node:inspector') return true;
    return false;
  };
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (isProfilerItself(id)) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, SelfTime>();
  const files = new Map<string, SelfTime>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = shortUrl(frame.url);
    // Native frames without a name (addon calls such as LMDB's) are named after their caller.
    const caller = parent.get(id)?.callFrame;
    const name = frame.functionName || (frame.url === '' && caller?.functionName ? `(native, called by ${caller.functionName})` : '(anonymous)');
    const key = `${name}|${file}|${frame.lineNumber}`;
    const f = fns.get(key) ?? { name, location: frame.url && frame.lineNumber > 0 ? `${file}:${frame.lineNumber + 1}` : file, ms: 0, share: 0 };
    f.ms += us / 1000;
    fns.set(key, f);
    const g = files.get(file) ?? { name: file, location: '', ms: 0, share: 0 };
    g.ms += us / 1000;
    files.set(file, g);
  }
  const rank = (m: Map<string, SelfTime>) =>
    [...m.values()].map((x) => ({ ...x, share: x.ms / (totalUs / 1000) })).sort((a, b) => b.ms - a.ms);
  return { totalMs: totalUs / 1000, functions: rank(fns), files: rank(files) };
}

function main(argv: string[]): number {
  const file = argv.find((a) => !a.startsWith('--'));
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25;
  if (!file) {
    console.error('usage: cpu-profile-summary.ts FILE.cpuprofile [--top N]');
    return 2;
  }
  const s = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  console.log(`total sampled: ${(s.totalMs / 1000).toFixed(1)} s\n\ntop ${top} functions by self time:`);
  for (const f of s.functions.slice(0, top)) {
    console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}`);
  }
  console.log(`\nself time by file:`);
  for (const f of s.files.slice(0, 15)) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
