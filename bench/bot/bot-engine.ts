// A real engine (LMDB in a temp dir, the engine's public entry) with the service bot in a given
// mode and a knowledge base of N entries stored through faq.upserted, as `omni serve --bot …`
// would hold it.

import { defaultProcessors, openEngine, type Durability, type Engine } from '../../engine/mod.ts';
import { chunked, countErrors } from '../../loadgen/mod.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { knowledgeBaseEvents } from './workload.ts';

export type BotMode = 'off' | 'first';

export interface BotEngine {
  engine: Engine;
  dir: string;
  /** Storing the knowledge base, all of it. */
  storeMs: number;
  reopen(): Promise<Engine>;
  close(): Promise<void>;
}

/** Entries per submit while storing the knowledge base. */
const STORE_CHUNK = 500;

export async function openBotEngine(mode: BotMode, entries: number, durability: Durability): Promise<BotEngine> {
  const dir = freshDir(`bot-${mode}`);
  const open = () => openEngine({ path: dir, processors: defaultProcessors({ service: { bot: mode } }), durability });
  let engine = await open();
  const chunks = chunked(knowledgeBaseEvents(entries, ''), STORE_CHUNK);
  const started = performance.now();
  for (const chunk of chunks) {
    const refused = new Map<string, number>();
    if (countErrors(await engine.submit(chunk), refused) > 0) throw new Error(`bot bench: knowledge base refused: ${JSON.stringify(Object.fromEntries(refused))}`);
  }
  const storeMs = performance.now() - started;
  const handle: BotEngine = {
    get engine() {
      return engine;
    },
    dir,
    storeMs,
    async reopen() {
      await engine.close();
      engine = await open();
      return engine;
    },
    async close() {
      try {
        await engine.close();
      } finally {
        removeDir(dir);
      }
    },
  };
  return handle;
}
