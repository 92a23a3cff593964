// Writes what a native decoder of the version 4 float layout (FORMAT.md §4.3, §5.3, §6, §7.5) needs to decode a
// container of synthetic BF16 or F32 weights: each segment's table and chunk records, the chunk digests unbound from
// their places. Usage (after npm run build): node dist/bench/native/dump-chunks.js [--mib N] [DTYPE ...]
//
// For each dtype (BF16 and F32 unless named) it writes, under bench/out/native/:
//   DTYPE.wcodec   the container compressBuffer writes with the default options
//   DTYPE.chunks   the description below, read by bench/native/decode-v4.c
// and the original is the cached synthetic input under bench/out/synthetic/.
//
// DTYPE.chunks, all integers little-endian:
//   u32 magic 'WCN1', u32 W, u64 member bytes, u32 segment count,
//   u32 length + UTF-8 path of the original, u32 length + UTF-8 path of the container
//   per segment, in member order:
//     u64 offset in the member, u64 bytes, u32 kind
//     kind 1 (the fused layout: 32 lanes, head plane (7,8),(5,2) rANS-coded, head plane (15,1),(0,5) raw and packed,
//     for W = 4 raw byte planes 1 then 0):
//       u32 probBits, u32 chunkValues, u32 chunk count, u32 × 1024 frequencies,
//       per chunk: u64 offset in the container, u32 bytes, u32 n, u64 WD64 its decoded bytes must have
//     kind 0 (any other coding): nothing more; a native decoder copies these bytes from the original

import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compressBuffer } from '../../src/api/buffers.js';
import { isHuffman } from '../../src/entropy/chunk-codec.js';
import { chunkBinding } from '../../src/format/chunk-binding.js';
import { FORMAT_VERSION_DIGESTS } from '../../src/format/constants.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { syntheticInput } from '../inputs.js';
import { FUSED_ALPHABET, isFusedLayout } from './fused-layout.js';
import { DEFAULT_MIB, NATIVE_DIR } from './paths.js';

/** 'WCN1' as a little-endian u32. */
const MAGIC = 0x314e4357;

/** Little-endian writer into a growing list of blocks. */
class Out {
  private parts: Buffer[] = [];
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.parts.push(b);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

async function dump(dtype: 'BF16' | 'F32', mib: number): Promise<void> {
  const input = await syntheticInput(dtype, mib * 1024 * 1024, (s) => console.log(s));
  const original = await readFile(input.path);
  const t0 = performance.now();
  const container = await compressBuffer(original, { name: 'model.safetensors' });
  console.log(`${dtype}: ${original.length} bytes -> ${container.length} (ratio ${(original.length / container.length).toFixed(4)}) in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  const reader = await ContainerReader.open(new MemorySource(container, 'container'));
  if (reader.version !== FORMAT_VERSION_DIGESTS) throw new Error(`container version ${reader.version}, expected ${FORMAT_VERSION_DIGESTS}`);
  if (reader.index.members.length !== 1) throw new Error(`${reader.index.members.length} members, expected 1`);
  const member = reader.index.members[0];
  await mkdir(NATIVE_DIR, { recursive: true });
  const containerPath = join(NATIVE_DIR, `${dtype}.wcodec`);
  await writeFile(containerPath, container);
  const W = dtype === 'BF16' ? 2 : 4;
  const o = new Out();
  o.u32(MAGIC);
  o.u32(W);
  o.u64(member.originalBytes);
  o.u32(member.segments.length);
  o.str(input.path);
  o.str(containerPath);
  let at = 0;
  let fusedBytes = 0;
  let fusedSegments = 0;
  for (const seg of member.segments) {
    o.u64(at);
    o.u64(seg.originalBytes);
    const fused = isFusedLayout(seg);
    o.u32(fused ? 1 : 0);
    if (fused) {
      const t = seg.coding.tables[0]!;
      if (isHuffman(t)) throw new Error('internal: Huffman table on a fused layout');
      const values = seg.originalBytes / W;
      o.u32(t.probBits);
      o.u32(seg.chunkValues);
      o.u32(seg.chunks.length);
      for (let s = 0; s < FUSED_ALPHABET; s++) o.u32(t.freqs[s]);
      seg.chunks.forEach((rec, c) => {
        if (rec.digest === undefined) throw new Error('internal: version 4 chunk record without a digest');
        o.u64(rec.offset);
        o.u32(rec.bytes);
        o.u32(Math.min(seg.chunkValues, values - c * seg.chunkValues));
        o.u64(rec.digest ^ chunkBinding(seg.sha256, seg.stream ?? 0, c));
      });
      fusedBytes += seg.originalBytes;
      fusedSegments++;
    }
    at += seg.originalBytes;
  }
  const file = join(NATIVE_DIR, `${dtype}.chunks`);
  await writeFile(file, o.bytes());
  const sha = createHash('sha256').update(original).digest('hex');
  console.log(`${dtype}: ${member.segments.length} segments, ${fusedSegments} in the fused layout (${fusedBytes} of ${member.originalBytes} bytes); original sha256 ${sha}`);
  console.log(`wrote ${file} and ${containerPath}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--mib');
  const mib = i >= 0 ? Number(args[i + 1]) : DEFAULT_MIB;
  if (!Number.isSafeInteger(mib) || mib < 1) throw new RangeError(`--mib ${args[i + 1]} must be a positive integer`);
  const named = args.filter((a, k) => a !== '--mib' && (i < 0 || k !== i + 1));
  const dtypes = named.length > 0 ? named : ['BF16', 'F32'];
  for (const d of dtypes) {
    if (d !== 'BF16' && d !== 'F32') throw new RangeError(`dtype ${d}: BF16 or F32`);
    await dump(d, mib);
  }
}

await main();
