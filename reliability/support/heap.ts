/**
 * A full garbage collection on demand, so heap figures measure what is kept, not what is
 * waiting to be collected. Vitest workers do not start with --expose-gc; V8 lets the flag be
 * set at run time, and a new context then sees `gc`.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collect twice (finalisers can free more on the second pass) and return the heap in use. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The heap once the process has settled: collections with a turn of the event loop between
 * them, so cleanup already scheduled (an Immediate closing a failed fetch, a finaliser's
 * callback) has run. Growth measured this way is kept memory, not work in progress.
 */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return heapAfterGc();
}
