// Resource measurement for the robustness tests and tools: a forced garbage collection (so retained memory can be
// told from garbage), the process's peak resident set, and memory held in ArrayBuffers.

import v8 from 'node:v8';
import vm from 'node:vm';

let gcFn: (() => void) | undefined;

/** Runs a full garbage collection (V8's gc, exposed at run time so tests need no command-line flag). */
export function forceGc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Peak resident set size of this process so far, in bytes (monotone: a jump during one call is that call's peak). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Bytes currently held in ArrayBuffers (typed arrays, Buffers), live or not yet collected. */
export function arrayBufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

/** ArrayBuffer bytes still reachable after `fn` (measured across a forced GC before and after). */
export async function retainedArrayBufferBytes(fn: () => Promise<void> | void): Promise<number> {
  forceGc();
  const before = arrayBufferBytes();
  await fn();
  forceGc();
  return arrayBufferBytes() - before;
}
