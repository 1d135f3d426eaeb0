// The import rules of the repository, checked by `npm test` (dependency-cruiser; docs/architecture.md,
// "Layers"). Layers, lowest first: engine ← cluster ← gateway ← client ← loadgen ← bench, with cli
// and bin on top (cluster/ is the event log over NATS JetStream); ui sits beside loadgen and uses
// the client only; flags (the command-line flag parser that
// cli, loadgen and bench share) sits below everything and imports nothing. A folder is used from outside through its
// mod.ts (the engine's domains through theirs). test/ is not checked: tests may import anything.
//
// TypeScript is parsed with swc: dependency-cruiser's own TypeScript parser needs the TypeScript
// compiler's JavaScript API, which TypeScript 7 (the compiler here) no longer has.

const FOLDERS = ['flags', 'engine', 'cluster', 'gateway', 'client', 'loadgen', 'bench', 'cli', 'bin', 'ui'];
const any = (folders) => `^(${folders.join('|')})/`;

/** What each folder may not import: every folder above it. */
const UPWARD = {
  flags: ['engine', 'cluster', 'gateway', 'client', 'loadgen', 'bench', 'cli', 'bin', 'ui'],
  engine: ['cluster', 'gateway', 'client', 'loadgen', 'bench', 'cli', 'bin', 'ui'],
  cluster: ['gateway', 'client', 'loadgen', 'bench', 'cli', 'bin', 'ui'],
  gateway: ['client', 'loadgen', 'bench', 'cli', 'bin', 'ui'],
  // The client is also published on its own (client/package.json), so it imports no other folder.
  client: ['flags', 'engine', 'cluster', 'gateway', 'loadgen', 'bench', 'cli', 'bin', 'ui'],
  loadgen: ['bench', 'cli', 'bin', 'ui'],
  bench: ['cli', 'bin'],
  cli: ['bin'],
};

/** The public entries: each folder's mod.ts, and the engine's domains' mod.ts. */
const ENTRIES = [`^(${FOLDERS.join('|')})/mod\\.ts$`, '^engine/(stock|service|customers)/mod\\.ts$'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles: shared types go in a types.ts, a registry does not import what imports it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(UPWARD).map(([folder, above]) => ({
      name: `no-upward-from-${folder}`,
      comment: `${folder}/ may not import ${above.join(', ')} (imports run one way: flags ← engine ← cluster ← gateway ← client ← loadgen ← bench ← cli, bin).`,
      severity: 'error',
      from: { path: `^${folder}/` },
      to: { path: any(above) },
    })),
    {
      name: 'ui-only-client',
      comment: 'ui/ runs in the browser on the client SDK: it imports the client and nothing else of the repository.',
      severity: 'error',
      from: { path: '^ui/' },
      to: { path: any(FOLDERS.filter((f) => f !== 'ui' && f !== 'client')) },
    },
    {
      name: 'public-entries-only',
      comment: "Across folders, import a folder's mod.ts (or a domain's), never a file inside it.",
      severity: 'error',
      from: { path: '^([^/]+)/' },
      to: { path: any(FOLDERS), pathNot: ['^$1/', ...ENTRIES] },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
