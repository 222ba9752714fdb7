// Fuzz harness: measures the live heap after a full garbage collection, without needing `node --expose-gc`.

import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null = null;

/**
 * A callable `gc`. V8 only installs it on contexts created after
 * `--expose-gc` is set, so the flag is set at run time and the function is
 * taken from a new context (it collects the whole isolate's heap).
 */
function collector(): () => void {
  if (gc) return gc;
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') {
    gc = global;
    return gc;
  }
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc') as () => void;
  return gc;
}

/** Used heap in bytes after full collections (two: the first may leave finalisation work for the second). */
export function heapAfterGc(): number {
  const collect = collector();
  collect();
  collect();
  return v8.getHeapStatistics().used_heap_size;
}
