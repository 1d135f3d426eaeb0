// The engine's own thread (started by threaded-engine.ts): it applies and commits, while the
// thread that started it takes requests and pushes updates. The data dir is held by that
// thread, which ends this one if it loses the dir.

import { parentPort, workerData } from 'node:worker_threads';
import { threadReplicator } from './changelog-link.ts';
import type { Engine } from './engine.ts';
import { openEngine } from './open-engine.ts';
import { PartitionCountMismatchError } from './errors.ts';
import type { LogEntry } from './log-positions.ts';
import type { DerivedWire } from './outbox.ts';
import { defaultProcessors } from './processors.ts';
import type { EventResult, RemotePartitions } from './types.ts';
import { pack, unpack, type EngineThreadConfig, type EngineThreadStats, type FromEngine, type PackedAnswer, type PackedSubmission, STATS_EVERY_MS, type ToEngine, transferList } from './thread-messages.ts';

const port = parentPort!;
const post = (message: FromEngine) => port.postMessage(message, transferList(message));

/** Partitions applied elsewhere, with what the engine hands over going to the other thread (threaded-engine.ts). */
const remoteOf = (local: number[] | null | undefined): RemotePartitions | undefined => {
  if (!local) return undefined;
  const here = new Set(local);
  return {
    isLocal: (p) => here.has(p),
    send: (items) => post({ kind: 'remote', items: pack(items) }),
    answered: (results) => post({ kind: 'unheard', answers: pack(results) }),
  };
};

async function run(config: EngineThreadConfig): Promise<void> {
  let engine: Engine;
  try {
    engine = await openEngine({ ...config, processors: defaultProcessors(config.domains), dataDirHeldByHost: true, remote: remoteOf(config.local) });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const mismatch = e instanceof PartitionCountMismatchError ? { dir: e.dir, stored: e.stored, requested: e.requested } : undefined;
    post({ kind: 'start-failed', message: e.message, name: e.name, mismatch });
    return;
  }
  const watched = new Set<string>();
  let answers: PackedAnswer[] = [];
  let answersScheduled = false;
  const answer = (a: PackedAnswer) => {
    answers.push(a);
    if (answersScheduled) return;
    answersScheduled = true;
    // Every submission a batch answers resolves in the same turn: one message carries them all.
    setImmediate(() => {
      answersScheduled = false;
      const packed = pack(answers);
      answers = [];
      post({ kind: 'answers', answers: packed });
    });
  };

  const answerWhenDone = (sub: number, results: Promise<EventResult[]>) =>
    results.then(
      (r) => answer([sub, r]),
      (error: unknown) => answer([sub, null, error instanceof Error ? error.message : String(error)]),
    );

  // Without a listener the engine renders nothing: outputs are taken only while the other
  // thread has someone to give them to.
  let stopOutputs: (() => void) | undefined;
  // The engine's counters cross at most every STATS_EVERY_MS, and once more after the last
  // batch of a burst, so what /metrics reads is never older than that.
  let statsSent = 0;
  let statsTimer: NodeJS.Timeout | undefined;
  const currentStats = (): EngineThreadStats => {
    const { eventsByTypeAndResult, ...s } = engine.stats();
    return { counts: [...eventsByTypeAndResult], ...s };
  };
  const sendStats = () => {
    clearTimeout(statsTimer);
    statsTimer = undefined;
    statsSent = performance.now();
    post({ kind: 'stats', engine: currentStats() });
  };
  engine.onBatch((stats) => {
    post({ kind: 'batch', stats });
    const wait = statsSent + STATS_EVERY_MS - performance.now();
    if (wait <= 0) sendStats();
    else statsTimer ??= setTimeout(sendStats, wait);
  });
  engine.onFatal((error) => post({ kind: 'fatal', message: error.message }));
  engine.onRelay((items) => post({ kind: 'relay', items: pack(items) }));
  // Before the batch's answers, which go out a turn later: whoever hears the answer finds the rewrite asked for.
  engine.onScrub(() => post({ kind: 'scrub' }));
  /** Messages that came while a store rewrite had the store closed: handled once it reopens. */
  let held: ToEngine[] | undefined;
  /**
   * From a rewrite's pause until the store is open on the new file (the engine starts no batch
   * meanwhile); `storeClosed` once the rewrite closed the store. A `close` meanwhile means the thread
   * that started the engine gave the rewrite up (it failed, and stopped the engine): no reopen comes.
   */
  let rewrite: { storeClosed?: Promise<void> } | undefined;
  const changelog = threadReplicator(post);

  const handle = (message: ToEngine): void => {
    if (held && message.kind !== 'close' && !(message.kind === 'call' && message.name === 'rewrite-reopen')) {
      held.push(message);
      return;
    }
    switch (message.kind) {
      case 'submit':
        for (const [sub, events] of unpack<PackedSubmission[]>(message.submissions)) answerWhenDone(sub, engine.submitBuilt(events));
        return;
      case 'logged':
        answerWhenDone(message.sub, engine.submitLogged(message.partition, unpack<LogEntry[]>(message.entries)));
        return;
      case 'derived':
        engine.acceptDerived(unpack<DerivedWire[]>(message.items));
        return;
      case 'remote':
        engine.setRemote(remoteOf(message.local));
        return;
      case 'sent':
        engine.derivedSent(message.keys);
        return;
      case 'replicator':
        engine.setReplicator(message.on ? changelog.replicator : undefined);
        return;
      case 'replicated':
        changelog.replied(message);
        return;
      case 'changes':
        engine.applyChanges(message.partition, unpack(message.changes)).then(
          () => post({ kind: 'changes-applied', call: message.call }),
          (e: Error) => post({ kind: 'changes-applied', call: message.call, error: e.message, name: e.name }),
        );
        return;
      case 'interest':
        // Named topics count only while the push layer names them: a new one names its own.
        if (message.render !== 'watched') watched.clear();
        if (message.render === 'none') {
          stopOutputs?.();
          stopOutputs = undefined;
          return;
        }
        stopOutputs ??= engine.onOutput((outputs) => post({ kind: 'outputs', outputs: pack(outputs) }));
        engine.setInterest(message.render === 'all' ? undefined : (topic) => watched.has(topic));
        return;
      case 'watch':
        for (const topic of message.drop) watched.delete(topic);
        for (const topic of message.add) {
          watched.add(topic);
          // A batch applied before this message arrived did not render the topic: its latest
          // durable state goes out now, and the other thread drops it if it already had it.
          const snapshot = stopOutputs && engine.snapshot(topic);
          if (snapshot) post({ kind: 'outputs', outputs: pack([{ topic, seq: snapshot.seq, data: snapshot.data, ts: Date.now(), snapshot: true }]) });
        }
        return;
      case 'call': {
        // After the answers this settled, which go out in a setImmediate queued before this one.
        const done = (value: number) =>
          setImmediate(() => {
            sendStats();
            post({ kind: 'returned', call: message.call, value });
          });
        if (message.name === 'idle') void engine.idle().then(() => done(0));
        else if (message.name === 'timers') void engine.runDueTimers().then(done);
        else if (message.name === 'rewrite-pause') {
          rewrite = {};
          void engine.rewriteSteps.pause().then(() => done(0));
        } else if (message.name === 'rewrite-close') {
          held = [];
          const storeClosed = engine.rewriteSteps.close();
          (rewrite ??= {}).storeClosed = storeClosed;
          storeClosed.then(
            () => done(0),
            (error: Error) => post({ kind: 'fatal', message: error.message }),
          );
        } else {
          try {
            engine.rewriteSteps.reopen(message.arg ?? '');
            rewrite = undefined;
          } catch (error) {
            // Open again (on a file it must not write to) and still paused.
            if (rewrite) rewrite.storeClosed = undefined;
            post({ kind: 'fatal', message: error instanceof Error ? error.message : String(error) });
          }
          const waiting = held ?? [];
          held = undefined;
          done(0);
          for (const m of waiting) handle(m);
        }
        return;
      }
      case 'close':
        clearTimeout(statsTimer);
        if (rewrite) {
          // The rewrite was given up: the engine stays paused (its close would wait for the events
          // it holds forever), its store is closed, and what it holds was answered by the failure.
          const closed = rewrite.storeClosed ?? engine.rewriteSteps.pause().then(() => engine.rewriteSteps.close());
          void closed
            .catch(() => undefined)
            .then(() => {
              post({ kind: 'closed' });
              port.close();
            });
          return;
        }
        // A turn later, so the last answers (sent in a setImmediate) go out before the port closes.
        void engine.close().then(() => new Promise(setImmediate)).then(() => {
          post({ kind: 'closed' });
          port.close();
        });
        return;
    }
  };
  port.on('message', handle);
  post({ kind: 'ready', epoch: engine.epoch, layout: engine.layout(), stats: currentStats() });
}

void run(workerData as EngineThreadConfig);
