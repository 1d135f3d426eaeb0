// How the ops page writes service figures: durations in the unit a supervisor reads at a glance,
// ratios as percentages, and "—" for a figure nothing was counted for (null). No DOM here, so
// the tests can write the server's figures the same way and compare.

export const NOTHING_COUNTED = '—';

/** Milliseconds: ms below a second, seconds below two minutes, then minutes. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return NOTHING_COUNTED;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A ratio 0..1 as a percentage with one decimal. */
export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? NOTHING_COUNTED : `${(ratio * 100).toFixed(1)}%`;
}

export function count(n: number | null | undefined): string {
  return typeof n === 'number' ? n.toLocaleString() : NOTHING_COUNTED;
}
