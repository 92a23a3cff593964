// The least a Node decompressor (or compressor) does, without coding: start, read the input through one reused 1 MiB
// buffer, write an output of the given size through another, rename it into place; with --fsync, flush the output to
// disk before the rename, as wcodec's atomic outputs do. bench/small-jobs.ts times it beside `zstd -d` and `zstd -3`
// to show how much of a small job's budget Node's start and file I/O take before any coding.
// Usage: node dist/bench/io-floor.js INPUT OUTPUT OUTPUT_BYTES [--fsync]

import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';

const [input, output, bytesArg, flag] = process.argv.slice(2);
const originalBytes = Number(bytesArg);
if (!input || !output || !Number.isSafeInteger(originalBytes) || originalBytes < 0) {
  throw new Error('usage: io-floor INPUT OUTPUT OUTPUT_BYTES [--fsync]');
}
const BLOCK_BYTES = 1 << 20;
const inBlock = Buffer.allocUnsafe(BLOCK_BYTES);
const outBlock = Buffer.alloc(BLOCK_BYTES);
const fin = openSync(input, 'r');
const size = fstatSync(fin).size;
let sum = 0; // touches what was read, so that the reads cannot be skipped
for (let at = 0; at < size; ) {
  const n = readSync(fin, inBlock, 0, Math.min(BLOCK_BYTES, size - at), at);
  if (n === 0) throw new Error(`${input}: ended at ${at} of ${size} bytes`);
  sum = (sum + inBlock[0]) | 0;
  at += n;
}
closeSync(fin);
outBlock[0] = sum & 0xff;
const temp = `${output}.floor-tmp`;
const fout = openSync(temp, 'w');
for (let at = 0; at < originalBytes; ) {
  const n = Math.min(BLOCK_BYTES, originalBytes - at);
  let done = 0;
  while (done < n) done += writeSync(fout, outBlock, done, n - done);
  at += n;
}
if (flag === '--fsync') fsyncSync(fout);
closeSync(fout);
renameSync(temp, output);
