// The corrupt streams the context-mixing models' tests decode (the byte model, the tensor model), and what a decoder
// must do with each.

import assert from 'node:assert/strict';
import { WcodecError } from '../../src/errors.js';

/** Corruptions of the coded stream `s`: truncated, empty, three bytes, a trailing byte, a bit flipped at eight places. */
export function corruptStreams(s: Uint8Array): [string, Uint8Array][] {
  const cases: [string, Uint8Array][] = [
    ['truncated', s.subarray(0, s.length - 1)],
    ['empty', new Uint8Array(0)],
    ['three bytes', s.subarray(0, 3)],
    ['trailing byte', Uint8Array.from([...s, 0])],
  ];
  for (let i = 0; i < s.length; i += Math.max(1, s.length >> 3)) {
    const flipped = s.slice();
    flipped[i] ^= 0x10;
    cases.push([`bit flipped at ${i}`, flipped]);
  }
  return cases;
}

/**
 * Asserts that `decode` of the corrupt stream `bad` (case `what`), placed at `base`, throws CORRUPT_CHUNK at an offset
 * within the stream, or, for a bit flip the coder absorbs, writes into `out` something other than `original` (a chunk
 * digest then rejects it in a container).
 */
export function assertCorruptStreamRejected(what: string, bad: Uint8Array, base: number, decode: () => void, out: Uint8Array, original: Uint8Array): void {
  let error: unknown;
  try {
    decode();
  } catch (e) {
    error = e;
  }
  if (error === undefined) {
    assert.ok(what.startsWith('bit flipped'), `${what}: accepted`);
    assert.notDeepEqual(out, original, `${what}: decoded to the original`);
    return;
  }
  assert.ok(error instanceof WcodecError && error.code === 'CORRUPT_CHUNK', `${what}: ${String(error)}`);
  assert.ok(error.offset !== undefined && error.offset >= base && error.offset <= base + bad.length, `${what}: offset ${error.offset}`);
}
