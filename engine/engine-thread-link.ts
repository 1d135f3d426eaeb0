// One engine thread, as the thread that started it sees it (threaded-engine.ts): starting it,
// the messages both ways (thread-messages.ts), calls that wait for an answer (idle, timers) and
// the close handshake. What the messages mean is the threaded engine's business.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PartitionCountMismatchError } from './errors.ts';
import { transferList, type EngineThreadCall, type EngineThreadConfig, type FromEngine, type ToEngine } from './thread-messages.ts';

export type Ready = Extract<FromEngine, { kind: 'ready' }>;

/**
 * Starts an engine thread: the compiled file; run from the sources, the file
 * OMNI_ENGINE_THREAD_FILE names if set (engine-thread.ts bundled once by the test harness, so each
 * of many threads does not compile every engine module through tsx again), else the source through tsx.
 */
function startWorker(config: EngineThreadConfig): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./engine-thread.js', here), { workerData: config });
  const prebuilt = process.env.OMNI_ENGINE_THREAD_FILE;
  if (prebuilt) return new Worker(prebuilt, { workerData: config });
  const entry = new URL('./engine-thread.ts', here).href;
  // tsx's ESM entry (the one `import` picks), found from its package file.
  const tsxPackage = createRequire(here).resolve('tsx/package.json');
  const exports = (createRequire(here)('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }).exports;
  const tsx = new URL(exports['./esm/api'].import.default, pathToFileURL(tsxPackage)).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: config });
}

/** The engine's refusal to start, as the same class where the caller handles it (a partition count). */
function startFailure(m: Extract<FromEngine, { kind: 'start-failed' }>): Error {
  if (m.mismatch) return new PartitionCountMismatchError(m.mismatch.dir, m.mismatch.stored, m.mismatch.requested);
  return Object.assign(new Error(m.message), { name: m.name });
}

export class EngineThreadLink {
  private nextCall = 1;
  private readonly calls = new Map<number, (value: number) => void>();
  private threadClosed: (() => void) | undefined;
  /** The thread said it closed cleanly: its exit after that is expected. */
  private closedByThread = false;
  private dead = false;
  private closing: Promise<void> | undefined;
  /** Settles when the thread has ended, for whatever reason. */
  readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    /** Every message but those this link handles itself (returned, closed). */
    private readonly onMessage: (m: FromEngine) => void,
    /** The thread died, threw, or exited before it said it closed. */
    private readonly onDeath: (error: Error) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromEngine) => this.receive(m));
    worker.on('error', (error) => this.die(error));
    // An exit before the thread said it closed is a death, also while closing (else close() would wait forever).
    worker.on('exit', (code) => {
      if (!this.closedByThread) this.die(new Error(`the engine thread exited (${code})`));
    });
  }

  /**
   * Starts a thread and waits until its engine is open. `abort` rejects the start from outside
   * (the data dir was lost meanwhile); the thread is ended on any failure.
   */
  static async start(
    config: EngineThreadConfig,
    onMessage: (m: FromEngine) => void,
    onDeath: (error: Error) => void,
    abort: Promise<never>,
  ): Promise<{ link: EngineThreadLink; ready: Ready }> {
    let worker: Worker | undefined;
    try {
      // In the try: a config the thread cannot be given (not plain data) throws here.
      const started = (worker = startWorker(config));
      const ready = await Promise.race([
        abort,
        new Promise<Ready>((resolve, reject) => {
          const listen = (m: FromEngine) => {
            if (m.kind === 'ready') resolve(m);
            else if (m.kind === 'start-failed') reject(startFailure(m));
            else return;
            started.off('message', listen);
          };
          started.on('message', listen);
          started.once('error', reject);
          started.once('exit', (code) => reject(new Error(`the engine thread exited (${code}) while starting`)));
        }),
      ]);
      return { link: new EngineThreadLink(started, onMessage, onDeath), ready };
    } catch (error) {
      await worker?.terminate();
      throw error;
    }
  }

  send(message: ToEngine): void {
    if (!this.dead) this.worker.postMessage(message, transferList(message));
  }

  private receive(m: FromEngine): void {
    if (m.kind === 'returned') {
      this.calls.get(m.call)?.(m.value);
      this.calls.delete(m.call);
    } else if (m.kind === 'closed') {
      this.closedByThread = true;
      this.threadClosed?.();
    }
    // Returned too: whoever called learns of it after the messages before it were handled.
    this.onMessage(m);
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.release();
    this.onDeath(error);
  }

  /** Nothing more will be answered: every call returns 0, a close in progress ends. */
  release(): void {
    for (const done of this.calls.values()) done(0);
    this.calls.clear();
    this.threadClosed?.();
  }

  /** Asks the engine thread to go idle, fire its due timers or take a rewrite's step; resolves with its answer (0 if it died). */
  call(name: EngineThreadCall, arg?: string): Promise<number> {
    if (this.dead) return Promise.resolve(0);
    const call = this.nextCall++;
    return new Promise((resolve) => {
      this.calls.set(call, resolve);
      this.send({ kind: 'call', call, name, ...(arg === undefined ? {} : { arg }) });
    });
  }

  /**
   * Asks the engine to close (commit what it has, close LMDB) and waits until the thread ends;
   * `clean` false (or a dead thread) ends it at once. Called again, waits for the first close.
   */
  close(clean: boolean): Promise<void> {
    this.closing ??= this.closeThread(clean);
    return this.closing;
  }

  private async closeThread(clean: boolean): Promise<void> {
    if (clean && !this.dead) {
      await new Promise<void>((resolve) => {
        this.threadClosed = resolve;
        this.send({ kind: 'close' });
      });
    }
    // Left to end by itself (its profile, if any, is written then); ended if it does not.
    const timeout = setTimeout(() => void this.worker.terminate(), clean && !this.dead ? 2000 : 0);
    await this.exited;
    clearTimeout(timeout);
  }

  /** Ends the thread at once, as a crash would. */
  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
