// `omni bench ui`: what a person waits for on the pages under /ui/. Against a real `omni serve`
// child process (serving the pages ui/mod.ts builds) and headless Debian Chromium
// (/usr/bin/chromium, CHROMIUM=… for another; playwright-core, a devDependency):
//   - each page's first contentful paint from loopback, median of --loads fresh loads;
//   - each page's JavaScript, raw and gzipped (the gateway serves it uncompressed; behind a
//     proxy that compresses, the gzipped figure is what travels);
//   - stock change → visible on the storefront: inside the page, the time from sending a
//     `stock.adjusted` (fetch to /v1/events) to the frame after the new count is in the DOM, over
//     --changes changes one after another. Measured in the page on one clock, so no clock of
//     another process enters the figure.

import { signToken } from '../../gateway/mod.ts';
import { PAGE_NAMES, scriptSizes, type PageAsset, type PageName } from '../../ui/mod.ts';
import { defineBench } from '../shared/bench-def.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtMs, median } from '../shared/report.ts';
import { freshDir, startServer } from '../shared/server-process.ts';

const SECRET = 'bench-ui-secret';

const UI_FLAGS: FlagSpec[] = [
  { name: 'loads', kind: 'value', valueName: 'N', help: 'loads per page for the first paint median (default 7)' },
  { name: 'changes', kind: 'value', valueName: 'N', help: 'stock changes timed on the storefront (default 200)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: "the server's --durability (default fsync, as omni serve)" },
];

interface UiOptions { loads: number; changes: number; durability: 'fsync' | 'commit' | 'none' }

interface UiResult {
  firstPaintMs: Record<string, number>;
  scriptBytes: Record<string, { bytes: number; gzipBytes: number }>;
  changeToVisibleMs: { p50: number; p99: number; max: number; n: number };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function runUiBench(o: UiOptions): Promise<UiResult> {
  const { chromium } = await import('playwright-core');
  const server = startServer({ dataDir: freshDir('ui'), secret: SECRET, durability: o.durability });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const base = await server.listening;
    const token = (role: string, sub: string, loc?: string) => signToken(loc === undefined ? { role: role as 'admin', sub } : { role: role as 'kiosk', sub, loc }, SECRET);
    const ingest = token('ingest', 'bench');
    await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest}` },
      body: JSON.stringify([
        { id: 'store', type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.52, lon: 13.4 },
        { id: 'stock', type: 'stock.received', sku: 'BENCH', location: 'berlin-1', qty: 5 },
      ]),
    });
    const urls: Record<PageName, string> = {
      storefront: `${base}/ui/storefront?sku=BENCH#token=${token('customer', 'c1')}`,
      kiosk: `${base}/ui/kiosk?kiosk=k1#token=${token('kiosk', 'k1', 'berlin-1')}`,
      desk: `${base}/ui/desk#token=${token('agent', 'a1')}`,
      ops: `${base}/ui/ops#token=${token('supervisor', 's1')}`,
    };

    const served = new Map<string, PageAsset>();
    for (const page of PAGE_NAMES) {
      const response = await fetch(`${base}/ui/${page}.js`);
      served.set(`/ui/${page}.js`, { contentType: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) });
    }
    const scriptBytes: UiResult['scriptBytes'] = scriptSizes(served);
    const firstPaintMs: UiResult['firstPaintMs'] = {};
    console.log(`first contentful paint, median of ${o.loads} loads (each in a fresh browser context), and script size`);
    console.log('page         first paint   script      gzipped');
    const ms = (v: number) => `${fmtMs(v)} ms`;
    for (const page of PAGE_NAMES) {
      const paints: number[] = [];
      for (let i = 0; i < o.loads; i++) {
        const context = await browser.newContext();
        const tab = await context.newPage();
        await tab.goto(urls[page], { waitUntil: 'load' });
        paints.push(
          await tab.evaluate(
            () =>
              new Promise<number>((resolve) =>
                new (globalThis as any).PerformanceObserver((list: any) => resolve(list.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true }),
              ),
          ),
        );
        await context.close();
      }
      firstPaintMs[page] = median(paints);
      console.log(`${page.padEnd(12)} ${ms(firstPaintMs[page]).padStart(11)}   ${(scriptBytes[page].bytes / 1024).toFixed(1).padStart(6)} KiB  ${(scriptBytes[page].gzipBytes / 1024).toFixed(1).padStart(6)} KiB`);
    }

    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(urls.storefront);
    await tab.locator('[data-testid="available"][data-sku="BENCH"]').waitFor();
    const samples = await tab.evaluate(
      async ({ changes, ingest }) => {
        // Runs in the page; this file is type-checked without the DOM library, hence `any`.
        const page = globalThis as any;
        const cell = page.document.querySelector('[data-testid="available"][data-sku="BENCH"]');
        const times: number[] = [];
        for (let i = 1; i <= changes; i++) {
          const want = String(1000 + i);
          const seen = new Promise<number>((resolve) => {
            const observer = new page.MutationObserver(() => {
              if (cell.textContent !== want) return;
              observer.disconnect();
              page.requestAnimationFrame(() => resolve(performance.now()));
            });
            observer.observe(cell, { childList: true, characterData: true, subtree: true });
          });
          const sent = performance.now();
          void fetch('/v1/events', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest}` },
            body: JSON.stringify([{ id: `adjust-${i}`, type: 'stock.adjusted', sku: 'BENCH', location: 'berlin-1', onHand: 1000 + i }]),
          });
          times.push((await seen) - sent);
        }
        return times;
      },
      { changes: o.changes, ingest },
    );
    await context.close();
    const sorted = [...samples].sort((a, b) => a - b);
    const changeToVisibleMs = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], n: sorted.length };
    console.log(`stock change → visible on the storefront (${o.changes} changes, durability ${o.durability}): p50 ${ms(changeToVisibleMs.p50)}, p99 ${ms(changeToVisibleMs.p99)}, max ${ms(changeToVisibleMs.max)}`);
    return { firstPaintMs, scriptBytes, changeToVisibleMs };
  } finally {
    await browser.close();
    await server.stop();
  }
}

export const UI_BENCH = defineBench<UiOptions, UiResult>({
  title: 'ui: first paint and script size of each page under /ui/, and stock change → visible on the storefront, in headless Chromium',
  help: `Usage: omni bench ui [flags]

Against an omni serve child process and headless Chromium (/usr/bin/chromium; CHROMIUM=path for
another): each page's first contentful paint from loopback (median of --loads fresh loads), its
JavaScript raw and gzipped, and on the storefront the time from sending a stock change to the
frame after its new count is in the page, p50 and p99 over --changes changes.

Flags:
${describeFlags(UI_FLAGS)}`,
  flags: UI_FLAGS,
  read(argv) {
    const f = readFlags(argv, UI_FLAGS);
    if (f.help) return 'help';
    return { loads: f.int('loads', 7, 1, 100), changes: f.int('changes', 200, 1, 100_000), durability: f.choice('durability', 'fsync', ['fsync', 'commit', 'none'] as const) };
  },
  run: (options) => runUiBench(options),
  headline: (r) => ({
    ...Object.fromEntries(Object.entries(r.firstPaintMs).map(([page, ms]) => [`firstPaintMs.${page}`, ms])),
    ...Object.fromEntries(Object.entries(r.scriptBytes).map(([page, s]) => [`scriptGzipBytes.${page}`, s.gzipBytes])),
    changeToVisibleP50Ms: r.changeToVisibleMs.p50,
    changeToVisibleP99Ms: r.changeToVisibleMs.p99,
  }),
});
