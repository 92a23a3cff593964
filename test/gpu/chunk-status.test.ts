// The host's reading of the per-chunk status words (src/gpu/chunk-status.ts), without a GPU: a chunk passes only
// with exactly STATUS_DONE, and the first chunk that does not is reported with its tensor, index and file offset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChecksumError, WcodecError } from '../../src/errors.js';
import { checkChunkStatus, LaneLayoutError, STATUS_CRC, STATUS_DIGEST, STATUS_DONE } from '../../src/gpu/chunk-status.js';
import type { ChunkOrigin } from '../../src/gpu/decode-plan.js';

const ORIGINS: ChunkOrigin[] = [
  { tensor: 'a', chunk: 0, fileOffset: 100 },
  { tensor: 'a', chunk: 1, fileOffset: 200 },
  { tensor: 'b', chunk: 0, fileOffset: 300 },
];

const words = (...w: number[]): Uint32Array => Uint32Array.from(w);

test('status words: every chunk DONE passes', () => {
  checkChunkStatus(words(STATUS_DONE, STATUS_DONE, STATUS_DONE), ORIGINS, 'm.wcodec');
  checkChunkStatus(words(), [], 'm.wcodec');
});

test('status words: the first chunk not exactly DONE is reported with its place', () => {
  const corrupt = (e: unknown, offset: number, text: RegExp): boolean =>
    e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === offset && text.test(e.message);
  assert.throws(() => checkChunkStatus(words(STATUS_DONE, 0, 0), ORIGINS, 'm.wcodec'), (e) => corrupt(e, 200, /chunk 1 of tensor 'a' on the GPU: was not decoded/));
  assert.throws(() => checkChunkStatus(words(STATUS_DONE, STATUS_DONE, STATUS_DONE | 4 | 16), ORIGINS, 'm.wcodec'), (e) => corrupt(e, 300, /ends before the last symbol; a lane does not end in state 2\^16/));
  assert.throws(() => checkChunkStatus(words(STATUS_DONE | 8, STATUS_DONE), ORIGINS, 'm.wcodec'), (e) => corrupt(e, 100, /left unread/));
});

test('status words: a CRC mismatch is a ChecksumError, a broken lane layout a LaneLayoutError', () => {
  assert.throws(() => checkChunkStatus(words(STATUS_DONE | STATUS_CRC | 4, STATUS_DONE, STATUS_DONE), ORIGINS, 'm.wcodec'), (e) => e instanceof ChecksumError && e.code === 'CORRUPT_CHUNK' && /CRC-32C \(checked on the GPU\)/.test(e.message));
  assert.throws(() => checkChunkStatus(words(STATUS_DONE, STATUS_DONE | 32, STATUS_DONE), ORIGINS, 'm.wcodec'), (e) => e instanceof LaneLayoutError && e instanceof RangeError);
});

test('status words: a digest mismatch alone is CHECKSUM_MISMATCH at its chunk; with a decode failure, CORRUPT_CHUNK', () => {
  assert.throws(() => checkChunkStatus(words(STATUS_DONE, STATUS_DONE | STATUS_DIGEST, STATUS_DONE | STATUS_DIGEST | 4), ORIGINS, 'm.wcodec'), (e) => e instanceof ChecksumError && e.code === 'CHECKSUM_MISMATCH' && e.offset === 200 && /chunk 1 of tensor 'a' .*chunk digest/.test(e.message) && /m\.wcodec/.test(e.message));
  assert.throws(() => checkChunkStatus(words(STATUS_DONE, STATUS_DONE | STATUS_DIGEST | 4), ORIGINS, 'm.wcodec'), (e) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === 200 && /ends before the last symbol/.test(e.message));
  assert.throws(() => checkChunkStatus(words(STATUS_DIGEST), ORIGINS, 'm.wcodec'), (e) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && /was not decoded/.test(e.message));
});
