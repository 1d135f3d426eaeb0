// What the loadgen decides before it writes anything: every name each scenario makes carries the
// run's prefix; a service run the desks cannot keep up with exits 2 with the figures; flags a
// scenario never reads are reported as ignored, and only those.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli, type CliIO } from '../cli/mod.ts';
import type { InputEvent } from '../engine/mod.ts';
import { readOptions, type LoadgenOptions } from '../loadgen/options.ts';
import { checkFeasible, ignoredFlags } from '../loadgen/preflight.ts';
import { openScenario, type EventSource } from '../loadgen/scenario.ts';

const PREFIX = 'lg-abc123-0f0f0f';

/** Fields whose strings are not names of the server's things. */
const NOT_NAMES = new Set(['type', 'channel', 'kind', 'name', 'tier', 'language', 'status', 'text', 'role', 'currency', 'reason', 'carrier', 'tracking']);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-preflight-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** Every string in the event that names something (values, and the keys of `skills`), with where it is. */
function names(value: unknown, path: string, out: Array<[string, string]>): void {
  if (typeof value === 'string') out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => names(v, `${path}[${i}]`, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (NOT_NAMES.has(k)) continue;
      if (path.endsWith('.skills')) out.push([`${path} key`, k]);
      names(v, `${path}.${k}`, out);
    }
  }
}

function unprefixed(source: EventSource, events: number, subscribers: number): string[] {
  const found: Array<[string, string]> = [];
  const made: InputEvent[] = [...source.setup().flat(), ...Array.from({ length: events }, () => source.next())];
  for (const ev of made) names(ev, ev.type, found);
  for (const plan of source.subscribers(subscribers)) {
    for (const topic of plan.topics) found.push(['topic', topic.slice(topic.indexOf('/') + 1)]);
    names(plan.as, `as.${plan.as.role}`, found);
  }
  for (const agent of source.desks?.agents ?? []) found.push(['desk', agent]);
  // `stock/<sku>@<store>`: both names must carry it (an email's `@` is one id).
  return found.flatMap(([where, v]) => (where === 'topic' ? v.split('@') : [v]).filter((part) => !part.includes(PREFIX)).map((part) => `${where}: ${part}`));
}

describe('namespacing', () => {
  const open = (scenario: string, skus = 40) => openScenario({ scenario, skus, idPrefix: PREFIX, releaseLag: 200, desks: 12 });

  it.each([
    ['stock', () => open('stock')],
    ['omnichannel', () => open('omnichannel')],
    ['service', () => open('service')],
    ['an omnichannel file', () => open(file('omni.json', { scenario: 'omnichannel', stores: 3, warehouses: 1, skus: 30, shoppers: 200 }))],
    ['a stock-mix file', () => open(file('mix.json', { mix: { 'stock.sold': 2, 'stock.reserve': 1, 'stock.release': 1, 'stock.commit': 1, 'stock.transfer': 1, 'stock.safety': 1, 'stock.adjusted': 1 }, skus: 20, locations: 3 }))],
  ])('every name %s makes (set-up, events, topics, clients, desks) carries the run prefix', (_, make) => {
    const source = make();
    expect(unprefixed(source, 6000, 30)).toEqual([]);
  });

  it('the check sees a name without the prefix', () => {
    const source = open('stock');
    const leaky: EventSource = { ...source, next: () => ({ ...source.next(), sku: 'SKU-000001' }) };
    expect(unprefixed(leaky, 1, 0)[0]).toMatch(/: SKU-000001$/);
  });

  it('the omnichannel events checked above include every kind of thing it names', () => {
    const source = open('omnichannel');
    const types = new Set(Array.from({ length: 6000 }, () => source.next().type));
    for (const t of ['order.placed', 'order.ready', 'order.shipped', 'order.returned', 'order.cancelled', 'stock.reserve', 'stock.release', 'stock.transfer', 'identity.linked', 'kiosk.identified', 'activity.viewed']) expect(types).toContain(t);
  });
});

function captureIO(): CliIO & { lines: string[] } {
  const lines: string[] = [];
  return { env: {}, lines, out: (l) => lines.push(l), err: (l) => lines.push(l) };
}

describe('feasibility', () => {
  // Nothing listens on port 9: the refusal comes before the loadgen touches the server.
  const base = ['loadgen', '--url', 'http://127.0.0.1:9', '--secret', 's'];

  it('refuses a service rate the desks cannot serve, with the figures (exit 2)', async () => {
    const io = captureIO();
    expect(await cli([...base, '--scenario', 'service', '--rate', '200', '--desks', '10'], io)).toBe(2);
    const text = io.lines.join('\n');
    // 10 desks hold 27 chats (the scenario's own capacities); 200/s × 1,700 ms = 340 busy.
    expect(text).toMatch(/--rate 200 requests\/s cannot be served by 10 desks/);
    expect(text).toMatch(/--think-ms 200 \+ --handle-ms 1,500 = 1,700 ms/);
    expect(text).toMatch(/keep 340 chats busy at once, and the 10 desks hold 27 \(2\.7 each on average\): at most 15\.8 requests\/s/);
    expect(text).toMatch(/raise --desks to 126 or more/);
  });

  it('lets a service rate within the desks\' capacity through, and the same rate with slower desks not', () => {
    const source = openScenario({ scenario: 'service', skus: 1, idPrefix: PREFIX, releaseLag: 0, desks: 10 });
    expect(source.desks!.chats).toBe(27);
    const o = { rate: 15, durationS: 1, thinkMs: 200, handleMs: 1500, desks: 10, subscribers: 0 };
    expect(() => checkFeasible(source, o)).not.toThrow();
    expect(() => checkFeasible(source, { ...o, handleMs: 2000 })).toThrow(/15\/s keep 33 chats busy/);
    expect(() => checkFeasible(openScenario({ scenario: 'stock', skus: 10, idPrefix: PREFIX, releaseLag: 0 }), { ...o, rate: 1e6 })).not.toThrow();
  });

  it('refuses a run that schedules no event', async () => {
    const io = captureIO();
    expect(await cli([...base, '--rate', '1', '--duration', '0.5'], io)).toBe(2);
    expect(io.lines.join('\n')).toMatch(/--rate 1 events\/s for --duration 0\.5 s schedules no event \(rate × duration = 0\.5\)/);
  });
});

describe('ignored flags', () => {
  const url = ['--url', 'http://127.0.0.1:9', '--secret', 's'];
  const messages = (argv: string[]) => {
    const o = readOptions([...url, ...argv], {}) as LoadgenOptions;
    return ignoredFlags(openScenario({ scenario: o.scenario, skus: o.skus, idPrefix: PREFIX, releaseLag: 0, desks: o.desks }), o);
  };

  it('says nothing for defaults, nor for flags the scenario reads', () => {
    expect(messages([])).toEqual([]);
    expect(messages(['--scenario', 'service'])).toEqual([]);
    expect(messages(['--scenario', 'service', '--desks', '7', '--think-ms', '10', '--handle-ms', '20', '--chat-messages', '1', '--chat-customers', '9', '--rate', '50'])).toEqual([]);
    expect(messages(['--subscribers', '4', '--skus', '20', '--topics-per-subscriber', '1', '--subscriber-workers', '1'])).toEqual([]);
    expect(messages(['--scenario', 'omnichannel', '--skus', '20'])).toEqual([]);
    expect(messages(['--scenario', file('noskus.json', { scenario: 'omnichannel', stores: 2 }), '--skus', '20'])).toEqual([]);
  });

  it('names each given flag the scenario never reads, and why', () => {
    expect(messages(['--scenario', 'service', '--subscribers', '5', '--skus', '9', '--topics-per-subscriber', '2', '--subscriber-workers', '1'])).toEqual([
      '--subscribers is ignored: scenario service has no stock subscribers: its clients are the agent desks (--desks)',
      '--skus is ignored: the service scenario names no SKUs',
      '--topics-per-subscriber is ignored: scenario service has no stock subscribers: its clients are the agent desks (--desks)',
      '--subscriber-workers is ignored: scenario service has no stock subscribers: its clients are the agent desks (--desks)',
    ]);
    expect(messages(['--desks', '5', '--handle-ms', '9'])).toEqual([
      '--desks is ignored: only --scenario service has agent desks (this is scenario stock)',
      '--handle-ms is ignored: only --scenario service has agent desks (this is scenario stock)',
    ]);
    expect(messages(['--scenario', 'service', '--chat-messages', '0', '--chat-customers', '5'])).toEqual(['--chat-customers is ignored: with --chat-messages 0 no customer connects']);
    expect(messages(['--subscribers', '0', '--subscriber-workers', '2'])).toEqual(['--subscriber-workers is ignored: there are no subscribers (--subscribers 0)']);
    expect(messages(['--scenario', file('skus.json', { scenario: 'omnichannel', skus: 30 }), '--skus', '20'])).toEqual(['--skus is ignored: the scenario file sets its own "skus"']);
    expect(messages(['--scenario', file('mix2.json', { mix: { 'stock.sold': 1 }, skus: 5, locations: 2 }), '--skus', '20'])).toEqual(['--skus is ignored: the scenario file sets its own "skus"']);
    expect(messages(['--data', dir])).toEqual(["--data is ignored: --secret is used instead of the data dir's secret"]);
  });

  it('counts only the command line as given, not the environment', () => {
    const o = readOptions([...url, '--scenario', 'service'], { OMNI_DATA: dir, OMNI_TOKEN: 't' }) as LoadgenOptions;
    expect(o.given).toEqual(['url', 'scenario', 'secret']);
    expect(ignoredFlags(openScenario({ scenario: 'service', skus: 1, idPrefix: PREFIX, releaseLag: 0 }), o)).toEqual([]);
  });
});
