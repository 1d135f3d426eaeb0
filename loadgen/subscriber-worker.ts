// A worker thread holding one SubscriberGroup. Protocol with subscriber-pool.ts:
// in: workerData = GroupOptions; {type:'sample'} | {type:'stop'}
// out: {type:'ready'}, {type:'sample', sample, interval}, {type:'final', final}

import { parentPort, workerData } from 'node:worker_threads';
import { SubscriberGroup, type GroupOptions } from './subscriber-group.ts';

const port = parentPort!;
const group = new SubscriberGroup(workerData as GroupOptions);

port.on('message', (msg: { type: string }) => {
  if (msg.type === 'sample') {
    const interval = group.interval.encode();
    group.interval.reset();
    port.postMessage({ type: 'sample', sample: group.sample(), interval });
  } else if (msg.type === 'stop') {
    port.postMessage({ type: 'final', final: group.stop() });
    // Closing sockets takes a moment; the pool terminates the worker once it has the final.
  }
});

await group.start();
port.postMessage({ type: 'ready' });
