// The client SDK as a published package: `npm pack` in client/ builds it, the tarball is
// installed into a fresh project with npm (offline: msgpackr and ws come from this repository's
// node_modules, so no registry is asked), and the Quick start of client/README.md, copied as
// written, runs there against a real `omni serve`. A TypeScript consumer type-checks against the
// shipped declarations.

import { execFile } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../gateway/mod.ts';
import { ROOT, killHard, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';

const run = promisify(execFile);
const CLIENT = join(ROOT, 'client');
const SECRET = 'client-package-test-secret';
/** The npm running the tests, else the one installed next to node. */
const NPM = process.env.npm_execpath ?? realpathSync(join(dirname(process.execPath), 'npm'));

const dirs = tempDirs('omni-client-package-');
let project: string;
let packed: { filename: string; files: Array<{ path: string }>; name: string };
let server: RunningServe | undefined;

function npm(args: string[], cwd: string) {
  return run(process.execPath, [NPM, ...args], { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 60_000 });
}

/** The first ```js block of the README: the Quick start, exactly as a reader would copy it. */
function quickStart(): string {
  const match = /```js\n([\s\S]*?)```/.exec(readFileSync(join(CLIENT, 'README.md'), 'utf8'));
  if (!match) throw new Error('client/README.md has no ```js block');
  return match[1];
}

beforeAll(async () => {
  project = dirs.make();
  const { stdout } = await npm(['pack', '--json', '--pack-destination', project], CLIENT);
  [packed] = JSON.parse(stdout);
  const modules = join(ROOT, 'node_modules');
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'sdk-consumer',
      private: true,
      type: 'module',
      dependencies: {
        '@omnistream/client': `file:./${packed.filename}`,
        // The SDK's dependency and its Node peer, satisfied from this checkout's installed copies.
        msgpackr: `file:${join(modules, 'msgpackr')}`,
        ws: `file:${join(modules, 'ws')}`,
        '@types/ws': `file:${join(modules, '@types', 'ws')}`,
        '@types/node': `file:${join(modules, '@types', 'node')}`,
      },
    }),
  );
  // Scripts off: the linked packages' own build scripts are for their development, not for use.
  await npm(['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], project);
  server = await startServe({ dataDir: dirs.make(), secret: SECRET, durability: 'none' });
});

afterAll(async () => {
  if (server) await killHard(server);
  dirs.cleanup();
});

describe('@omnistream/client as a package', () => {
  it('packs the built ESM and declarations, the README and nothing of the sources or the server', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(packed.name).toBe('@omnistream/client');
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/mod.js', 'dist/mod.d.ts', 'dist/client.js', 'dist/codec.js']));
    expect(files.filter((f) => !/^(package\.json|README\.md|dist\/[a-z-]+\.(js|d\.ts))$/.test(f))).toEqual([]);
    const installed = JSON.parse(readFileSync(join(project, 'node_modules', '@omnistream', 'client', 'package.json'), 'utf8'));
    expect(installed.dependencies).toEqual({ msgpackr: expect.any(String) });
    expect(installed.peerDependenciesMeta).toEqual({ ws: { optional: true } });
  });

  it('imports nothing but msgpackr and its own files: no engine/, no gateway/', () => {
    const dist = join(project, 'node_modules', '@omnistream', 'client', 'dist');
    const seen = new Set<string>();
    for (const file of packed.files.map((f) => f.path).filter((p) => p.startsWith('dist/'))) {
      const text = readFileSync(join(dist, file.slice('dist/'.length)), 'utf8');
      // import/export … from '…' (from a line start, so an error message quoting one does not count), bare imports, import().
      const specifiers = [...text.matchAll(/^(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
      for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^(msgpackr|\.\/[a-z-]+\.js)$/);
      for (const s of specifiers) seen.add(s);
    }
    // The scan does see imports: the codec's msgpackr and the entry point's own files.
    expect([...seen]).toEqual(expect.arrayContaining(['msgpackr', './client.js', './types.js']));
  });

  it("runs the README's Quick start as written against a real omni serve", async () => {
    writeFileSync(join(project, 'example.mjs'), quickStart());
    const token = signToken({ sub: 'example', role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);
    const env = { ...process.env, OMNI_URL: server!.url, OMNI_TOKEN: token };
    const first = await run(process.execPath, ['example.mjs'], { cwd: project, env, timeout: 20_000 });
    expect(first.stdout).toMatch(/^snapshot seq 0: null\n/);
    expect(first.stdout).toMatch(/update seq 1: .*"onHand":5/);
    expect(first.stdout).toContain('receipt answered: ok true');
    // Again, as a reader would: the store already exists, the stock grows.
    const second = await run(process.execPath, ['example.mjs'], { cwd: project, env, timeout: 20_000 });
    expect(second.stdout).toMatch(/^snapshot seq 1: .*"onHand":5/);
    expect(second.stdout).toMatch(/update seq 2: .*"onHand":10/);
  });

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { connect, ServerError, type OmniClient, type SubscriptionHandlers } from '@omnistream/client';
import { WebSocket } from 'ws';
const client: OmniClient = connect({ url: 'http://127.0.0.1:8080', token: () => 'T', format: 'msgpack', WebSocket });
const handlers: SubscriptionHandlers<{ onHand: number }> = { onSnapshot: (data) => void data.onHand.toFixed(), onUpdate: () => {} };
const stop: () => void = client.subscribe('stock/A', handlers);
// @ts-expect-error an event is an object
void client.send(42);
void [stop, ServerError];
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project }).catch((error: { stdout: string }) => error);
    expect(checked.stdout).toBe('');
  });
});
