// The properties checked on every fuzz input (docs/SECURITY.md, "What the fuzzers check"): only typed errors with
// codes the entry point may raise, work bounded by the input's size, peak memory bounded by the sizes checked against
// the input and the documented limits, and, on success, output equal to an original (checked inside each target).

import { WcodecError, errorClassFor, type ErrorCode } from '../../src/errors.js';
import { MAX_CHUNK_VALUES, MAX_PLANES } from '../../src/format/constants.js';
import { peakRssBytes } from '../helpers/measure.js';

/**
 * CPU time allowed per input (this process's user + system time, so other load on the machine does not count; a
 * hang that burns no CPU is the watchdog's business in tools/fuzz.ts): a fixed part, GC pauses included, plus a
 * part per byte.
 */
export const TIME_BASE_MS = 1000;
/** 1 µs per byte of input and of output: 1 MB/s, some 50x below the decoder's real speed. */
export const TIME_PER_BYTE_MS = 0.001;
/**
 * Peak memory allowed per input above the process's earlier peak: one chunk at MAX_CHUNK_VALUES in the widest
 * layout (symbols of MAX_PLANES planes, heads, 8-byte output: 168 MiB), plus 32 bytes per input or output byte.
 */
export const MEMORY_BASE_BYTES = MAX_CHUNK_VALUES * (MAX_PLANES * 2 + 2 + 8) + 16 * 1024 * 1024;
export const MEMORY_PER_BYTE = 32;

/** A broken property: the message says which and with what. */
export class PropertyFailure extends Error {}

/** What one input did. */
export interface Checked {
  outcome: 'ok' | ErrorCode;
  /** CPU milliseconds the input took. */
  ms: number;
  outputBytes: number;
  rssGrowth: number;
}

/**
 * Runs `run` on one input and checks the properties that do not depend on the entry point.
 * @param run the entry point; resolves to the number of bytes it produced (after checking them)
 * @param codes the error codes this entry point may raise
 * @throws PropertyFailure when a property fails
 */
export async function checkRun(input: Uint8Array, codes: readonly ErrorCode[], run: () => Promise<number>): Promise<Checked> {
  const rss0 = peakRssBytes();
  const cpu0 = process.cpuUsage();
  let outcome: Checked['outcome'] = 'ok';
  let outputBytes = 0;
  try {
    outputBytes = await run();
  } catch (e) {
    if (e instanceof PropertyFailure) throw e;
    if (!(e instanceof WcodecError)) {
      const err = e as Error;
      throw new PropertyFailure(`untyped error ${err?.name}: ${err?.message}\n${err?.stack ?? ''}`);
    }
    const { name, code } = e;
    const cls = errorClassFor(code);
    if (!(e instanceof cls)) throw new PropertyFailure(`${name} carries ${code}, whose class is ${cls.name}`);
    if (!codes.includes(e.code)) throw new PropertyFailure(`code ${e.code} is not one this entry point may raise: ${e.message}`);
    if (e.offset !== undefined && !(Number.isSafeInteger(e.offset) && e.offset >= 0 && e.offset <= input.length)) {
      throw new PropertyFailure(`error offset ${e.offset} outside the ${input.length}-byte input: ${e.message}`);
    }
    if (!e.message.startsWith(`${e.code}: `)) throw new PropertyFailure(`message does not start with its code: ${e.message}`);
    outcome = e.code;
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = (cpu.user + cpu.system) / 1000;
  const rssGrowth = peakRssBytes() - rss0;
  const work = input.length + outputBytes;
  const timeLimit = TIME_BASE_MS + TIME_PER_BYTE_MS * work;
  if (ms > timeLimit) throw new PropertyFailure(`took ${ms.toFixed(0)} ms of CPU, limit ${timeLimit.toFixed(0)} ms for ${input.length} bytes in, ${outputBytes} out (${outcome})`);
  const memoryLimit = MEMORY_BASE_BYTES + MEMORY_PER_BYTE * work;
  if (rssGrowth > memoryLimit) throw new PropertyFailure(`peak memory grew ${(rssGrowth / 2 ** 20).toFixed(0)} MiB, limit ${(memoryLimit / 2 ** 20).toFixed(0)} MiB (${outcome})`);
  return { outcome, ms, outputBytes, rssGrowth };
}
