// Worker-thread entry: worker threads do not inherit the main thread's TypeScript loader, so
// register tsx here before loading the subscriber worker.
import { register } from 'tsx/esm/api';

register();
await import('./subscriber-worker.ts');
