// A store rewrite (store-rewrite.ts) with the engine on threads of its own: this thread, the one
// that started them, runs it, since every handle on the data dir in the process must close before
// the new file is renamed in (lmdb-js shares one native environment per file per process). Each
// engine thread stops starting batches and commits what it has; the copy is read through this
// thread's reader (the file is not written meanwhile); the threads close their stores and hold the
// messages that arrive; then, in one turn of this thread's event loop (so no read here comes in
// between), its reader closes, the copy is swapped in and the reader reopens on it; last the
// threads reopen theirs, check the generation, and go on.

import type { CommittedReader } from './committed-reader.ts';
import type { EngineThreadLink } from './engine-thread-link.ts';
import { checkGeneration, copyLiveEntries, probe, swapInCopy } from './store-rewrite.ts';

export async function rewriteSharedStore(
  links: readonly EngineThreadLink[],
  reader: CommittedReader,
  options: { path: string; mapSize?: number },
  /** The engine stopped meanwhile (a thread died, the dir was lost): the rewrite stops where it is. */
  failure: () => Error | undefined,
): Promise<void> {
  const step = async (name: 'rewrite-pause' | 'rewrite-close' | 'rewrite-reopen', arg?: string) => {
    await Promise.all(links.map((link) => link.call(name, arg)));
    const stopped = failure();
    if (stopped) throw stopped;
  };
  await step('rewrite-pause');
  probe('paused');
  const generation = await copyLiveEntries(reader.root, options);
  await step('rewrite-close');
  // No await from here until the reader is open again: reads on this thread never find it closed.
  // Only reads were made through it, so its close is immediate (lmdb-js waits only for writes).
  void reader.root.close();
  if ((reader.root as { status?: string }).status !== 'closed') throw new Error('store rewrite: the committed reader did not close at once');
  probe('closed');
  swapInCopy(options.path);
  reader.reopen();
  checkGeneration((key) => reader.view.get(key), generation, options.path);
  await step('rewrite-reopen', generation);
  // Every handle is on the new file now: none may still map the old one.
  checkGeneration((key) => reader.view.get(key), generation, options.path);
  probe('reopened');
}
