// The invalid test vectors: each a valid vector with one defect, the error code it must raise and the message
// that proves it fails for the reason it is named after (tools/make-vectors.ts checks both).

import type { ErrorCode } from '../../src/errors.js';
import { FOOTER_BYTES, MAX_CHUNK_VALUES, MAX_INDEX_BYTES, MAX_MEMBERS, MAX_RANK, MAX_TRANSFORM_PARAM_BYTES } from '../../src/format/constants.js';
import { readFooter } from '../../src/format/envelope.js';
import { MAX_INDEX_EXPANSION } from '../../src/pipeline/index-block.js';
import type { ContainerIndex, TransformRecord } from '../../src/pipeline/index-codec.js';
import { times } from './inputs.js';
import { FIRST_PATH_AT, INDEX_BLOCK_HEADER_BYTES, chunkOf, concat, editFooter, editHeader, editIndex, editIndexBlock, editIndexBytes, firstMemberTypeAt, firstSegmentAt, indexIsCoded, nameRecordAt, needTensor, putTogether, takeApart } from './surgery.js';
import { isHuffman } from '../../src/entropy/chunk-codec.js';
import { ContainerWriter } from '../../src/pipeline/container-writer.js';
import type { MemberType } from '../../src/pipeline/index-codec.js';
import { MemorySink, MemorySource } from '../../src/io/byte-source.js';
import { makeTable } from '../../src/entropy/freq-table.js';
import { chunkBinding } from '../../src/format/chunk-binding.js';
import { sha256 } from '../../src/format/sha256.js';
import { readSafetensorsLayout } from '../../src/safetensors/read-layout.js';
import { buildSafetensors } from './inputs.js';
import type { HuffmanTable } from '../../src/entropy/huffman.js';

/** An invalid vector: how to derive it from a valid one and how decoding must fail. */
export interface InvalidSpec {
  name: string;
  description: string;
  /** The valid vector the bytes derive from. */
  base: string;
  code: ErrorCode;
  /** The error message must match: proves the vector fails for the reason it is named after. */
  reason: RegExp;
  make: (base: Uint8Array, ctx: { valid: (name: string) => Uint8Array; source: (name: string) => Uint8Array }) => Promise<Uint8Array> | Uint8Array;
}

/** Every invalid vector, in manifest order. */
export function invalidSpecs(): InvalidSpec[] {
  const specs: InvalidSpec[] = [];
  const add = (s: InvalidSpec): void => void specs.push(s);
  const B = 'bf16-single';

  // Envelope: header.
  add({ name: 'empty', description: 'a 0-byte file', base: '(none)', code: 'TRUNCATED', reason: /cannot hold/, make: () => new Uint8Array(0) });
  add({ name: 'not-wcodec', description: 'the safetensors file itself, not a container', base: `${B} (its source)`, code: 'BAD_MAGIC', reason: /header magic/, make: (_, ctx) => ctx.source(B) });
  add({ name: 'bad-magic', description: "header magic byte 1 'W' changed to 'w'", base: B, code: 'BAD_MAGIC', reason: /header magic/, make: (b) => editHeader(b, (dv) => dv.setUint8(1, 0x77), false) });
  add({
    name: 'bad-magic-text-mode',
    description: 'header magic with LF turned into CR LF (a text-mode transfer), everything after shifted by one byte',
    base: B,
    code: 'BAD_MAGIC',
    reason: /header magic/,
    make: (b) => concat(b.subarray(0, 7), new Uint8Array([0x0d]), b.subarray(7)),
  });
  add({ name: 'unsupported-version', description: 'header version 2, header CRC recomputed', base: B, code: 'UNSUPPORTED_VERSION', reason: /container version 2/, make: (b) => editHeader(b, (dv) => dv.setUint16(8, 2, true), true) });
  add({ name: 'header-crc', description: 'header CRC-32C off by one bit', base: B, code: 'CORRUPT_HEADER', reason: /header CRC-32C mismatch/, make: (b) => editHeader(b, (dv) => dv.setUint8(12, dv.getUint8(12) ^ 1), false) });
  add({ name: 'header-version-crc', description: 'header version 2 without recomputing the CRC: the CRC is checked first', base: B, code: 'CORRUPT_HEADER', reason: /header CRC-32C mismatch/, make: (b) => editHeader(b, (dv) => dv.setUint16(8, 2, true), false) });
  add({ name: 'header-flags', description: 'header flags 1 (reserved), header CRC recomputed', base: B, code: 'CORRUPT_HEADER', reason: /header flags 1/, make: (b) => editHeader(b, (dv) => dv.setUint16(10, 1, true), true) });

  // Envelope: truncation and trailing bytes.
  add({ name: 'truncated-in-header', description: 'the first 12 bytes only', base: B, code: 'TRUNCATED', reason: /cannot hold/, make: (b) => b.slice(0, 12) });
  add({ name: 'truncated-short', description: 'the first 50 bytes only (valid header, less than header + footer)', base: B, code: 'TRUNCATED', reason: /cannot hold/, make: (b) => b.slice(0, 50) });
  add({ name: 'truncated-last-byte', description: 'the last byte (of the footer magic) cut off', base: B, code: 'BAD_MAGIC', reason: /footer magic missing/, make: (b) => b.slice(0, b.length - 1) });
  add({ name: 'truncated-half', description: 'the first half only', base: B, code: 'BAD_MAGIC', reason: /footer magic missing/, make: (b) => b.slice(0, b.length >> 1) });
  add({ name: 'trailing-garbage', description: "9 bytes ('garbage!\\n') after the footer", base: B, code: 'BAD_MAGIC', reason: /footer magic missing/, make: (b) => concat(b, new TextEncoder().encode('garbage!\n')) });
  add({
    name: 'trailing-footer-copy',
    description: 'the 40-byte footer appended a second time: magic and CRC pass, but the index no longer ends where the footer starts',
    base: B,
    code: 'CORRUPT_HEADER',
    reason: /does not end where the footer starts/,
    make: (b) => concat(b, b.subarray(b.length - FOOTER_BYTES)),
  });

  // Envelope: footer.
  add({ name: 'footer-crc', description: 'footer CRC-32C off by one bit', base: B, code: 'CORRUPT_HEADER', reason: /footer CRC-32C mismatch/, make: (b) => editFooter(b, (dv) => dv.setUint8(24, dv.getUint8(24) ^ 0x80), false) });
  add({ name: 'footer-version', description: 'footer version 2, footer CRC recomputed', base: B, code: 'UNSUPPORTED_VERSION', reason: /footer says version 2/, make: (b) => editFooter(b, (dv) => dv.setUint16(20, 2, true), true) });
  add({ name: 'footer-flags', description: 'footer flags 1 (reserved), footer CRC recomputed', base: B, code: 'CORRUPT_HEADER', reason: /footer flags 1 are reserved/, make: (b) => editFooter(b, (dv) => dv.setUint16(22, 1, true), true) });
  add({ name: 'footer-reserved', description: 'footer reserved u32 (outside the footer CRC) set to 1', base: B, code: 'CORRUPT_HEADER', reason: /reserved footer field/, make: (b) => editFooter(b, (dv) => dv.setUint32(28, 1, true), false) });
  add({
    name: 'footer-index-offset',
    description: 'footer index offset one less, footer CRC recomputed',
    base: B,
    code: 'CORRUPT_HEADER',
    reason: /does not end where the footer starts/,
    make: (b) => editFooter(b, (dv) => dv.setUint32(0, dv.getUint32(0, true) - 1, true), true),
  });
  add({
    name: 'footer-index-in-header',
    description: 'footer says the index starts at 8 (inside the header) and runs to the footer, footer CRC recomputed',
    base: B,
    code: 'CORRUPT_HEADER',
    reason: /does not end where the footer starts/,
    make: (b) =>
      editFooter(b, (dv) => {
        dv.setUint32(0, 8, true);
        dv.setUint32(8, b.length - FOOTER_BYTES - 8, true);
      }, true),
  });
  add({ name: 'footer-u64-overflow', description: 'footer index offset >= 2^53 (high word 2^21), footer CRC recomputed', base: B, code: 'CORRUPT_HEADER', reason: /exceeds 2\^53/, make: (b) => editFooter(b, (dv) => dv.setUint32(4, 1 << 21, true), true) });
  add({
    name: 'index-size-limit',
    description: `footer index size MAX_INDEX_BYTES + 1 (${MAX_INDEX_BYTES + 1}), footer CRC recomputed`,
    base: B,
    code: 'LIMIT_EXCEEDED',
    reason: /index of \d+ bytes, limit/,
    make: (b) => editFooter(b, (dv) => dv.setUint32(8, MAX_INDEX_BYTES + 1, true), true),
  });

  // Index block (FORMAT.md §3.0): u32 index size, u8 coding, raw or rANS-coded index (footer CRC and size recomputed).
  const C = 'coded-index';
  add({ name: 'index-block-coding', description: 'index block coding 2 (only 0 raw and 1 rANS exist)', base: B, code: 'CORRUPT_INDEX', reason: /index coding 2/, make: (b) => editIndexBlock(b, (blk) => void (blk[4] = 2)) });
  add({
    name: 'index-block-size-limit',
    description: `index block claiming MAX_INDEX_BYTES + 1 (${MAX_INDEX_BYTES + 1}) index bytes`,
    base: B,
    code: 'LIMIT_EXCEEDED',
    reason: /index of \d+ bytes, limit/,
    make: (b) => editIndexBlock(b, (_, dv) => dv.setUint32(0, MAX_INDEX_BYTES + 1, true)),
  });
  add({ name: 'index-block-raw-size', description: 'raw index block whose size field is one more than the bytes it holds', base: B, code: 'CORRUPT_INDEX', reason: /raw index holds \d+ bytes, header says/, make: (b) => editIndexBlock(b, (_, dv) => dv.setUint32(0, dv.getUint32(0, true) + 1, true)) });
  add({
    name: 'index-block-expansion',
    description: `coded index block claiming more than ${MAX_INDEX_EXPANSION}x its size + 4096 bytes (a decompression bomb)`,
    base: C,
    code: 'LIMIT_EXCEEDED',
    reason: /index block claims \d+ bytes/,
    make: (b) => editIndexBlock(b, (blk, dv) => dv.setUint32(0, MAX_INDEX_EXPANSION * blk.length + 4096 + 1, true)),
  });
  add({ name: 'index-block-table', description: 'coded index block whose table has probBits 16', base: C, code: 'CORRUPT_INDEX', reason: /probBits 16 outside 8\.\.15/, make: (b) => editIndexBlock(b, (blk) => void (blk[5] = 16)) });
  add({ name: 'index-block-rans', description: 'coded index block with the low bit of its last rANS word flipped (CRCs recomputed): decoding ends off the initial state', base: C, code: 'CORRUPT_INDEX', reason: /coded index: .*ends in state/, make: (b) => editIndexBlock(b, (blk) => void (blk[blk.length - 2] ^= 0x01)) });
  add({ name: 'index-block-short', description: 'coded index block without its last rANS word (CRCs recomputed)', base: C, code: 'CORRUPT_INDEX', reason: /coded index: /, make: (b) => editIndexBlock(b, (blk) => blk.slice(0, blk.length - 2)) });

  // Index: CRC and structure (each with the index CRC and the footer recomputed).
  add({
    name: 'index-crc',
    description: 'one byte of the (raw) index block changed, in the first member path; index CRC left as it was',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /index CRC-32C mismatch/,
    make: (b) => {
      if (indexIsCoded(b)) throw new Error('expected a raw index block');
      const f = readFooter(b.subarray(b.length - FOOTER_BYTES), b.length);
      const out = b.slice();
      out[f.indexOffset + INDEX_BLOCK_HEADER_BYTES + FIRST_PATH_AT + 2] ^= 0x20;
      return out;
    },
  });
  add({ name: 'index-kind', description: 'container kind 2 (only 0 file and 1 folder exist)', base: B, code: 'CORRUPT_INDEX', reason: /container kind 2/, make: (b) => editIndexBytes(b, (ix) => void (ix[0] = 2)) });
  add({ name: 'index-reserved', description: 'reserved index byte 1 set to 1', base: B, code: 'CORRUPT_INDEX', reason: /reserved index field/, make: (b) => editIndexBytes(b, (ix) => void (ix[1] = 1)) });
  add({ name: 'index-trailing-byte', description: 'one byte appended to the index (footer size and CRC follow)', base: B, code: 'CORRUPT_INDEX', reason: /1 bytes after the last index record/, make: (b) => editIndexBytes(b, (ix) => concat(ix, new Uint8Array([0]))) });
  add({ name: 'index-cut-short', description: 'the index without its last byte (mid chunk record; footer size and CRC follow)', base: B, code: 'CORRUPT_INDEX', reason: /chunk crc32c needs 4 bytes/, make: (b) => editIndexBytes(b, (ix) => ix.slice(0, ix.length - 1)) });
  add({ name: 'member-count-limit', description: `member count MAX_MEMBERS + 1 (${MAX_MEMBERS + 1})`, base: 'folder', code: 'LIMIT_EXCEEDED', reason: /members, limit/, make: (b) => editIndexBytes(b, (_, dv) => dv.setUint32(4, MAX_MEMBERS + 1, true)) });
  add({ name: 'file-two-members', description: "the folder vector relabelled as kind 'file' (a file container holds exactly one member)", base: 'folder', code: 'CORRUPT_INDEX', reason: /single-file container holds 2 members/, make: (b) => editIndex(b, (ix) => void (ix.kind = 'file')) });
  add({ name: 'member-size-overflow', description: 'first member size >= 2^53 (high word 2^21)', base: B, code: 'CORRUPT_INDEX', reason: /member size .*exceeds 2\^53/, make: (b) => editIndexBytes(b, (_, dv) => dv.setUint32(FIRST_PATH_AT + 2 + dv.getUint16(FIRST_PATH_AT, true) + 4, 1 << 21, true)) });
  add({ name: 'member-size', description: 'member size one more than its segments cover', base: B, code: 'CORRUPT_INDEX', reason: /segments of 'model.safetensors' cover/, make: (b) => editIndex(b, (ix) => void ix.members[0].originalBytes++) });

  // Index: member paths.
  add({ name: 'path-parent', description: "member path '../evil'", base: B, code: 'BAD_PATH', reason: /path component '\.\.'/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = '../evil')) });
  add({ name: 'path-absolute', description: "member path '/etc/passwd'", base: B, code: 'BAD_PATH', reason: /absolute path/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = '/etc/passwd')) });
  add({ name: 'path-duplicate', description: "folder whose two members are both 'model.safetensors'", base: 'folder', code: 'BAD_PATH', reason: /appears twice/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = 'model.safetensors')) });
  add({ name: 'path-nested-parent', description: "folder member path 'a/../../evil'", base: 'folder', code: 'BAD_PATH', reason: /path component '\.\.'/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = 'a/../../evil')) });
  add({ name: 'path-backslash', description: "folder member path 'a\\\\..\\\\evil' (Windows separators)", base: 'folder', code: 'BAD_PATH', reason: /backslash/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = 'a\\..\\evil')) });
  add({ name: 'path-drive', description: "folder member path 'C:evil' (a drive letter)", base: 'folder', code: 'BAD_PATH', reason: /colon/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = 'C:evil')) });
  add({ name: 'path-file-and-folder', description: "folder with members 'a/config.json' and 'a' (a file that is also a folder)", base: 'folder', code: 'BAD_PATH', reason: /member 'a' is also a folder of 'a\/config.json'/, make: (b) => editIndex(b, (ix) => void (ix.members[1].path = 'a')) });
  add({ name: 'path-empty', description: "member path '' (empty)", base: B, code: 'BAD_PATH', reason: /empty path/, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = '')) });
  add({ name: 'path-slash-in-file', description: "single-file container whose member path 'a/model.safetensors' holds a /", base: B, code: 'BAD_PATH', reason: /file member path has a \//, make: (b) => editIndex(b, (ix) => void (ix.members[0].path = 'a/model.safetensors')) });
  add({
    name: 'path-not-utf8',
    description: 'first byte of the member path replaced by 0xFF (not UTF-8)',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /member path is not valid UTF-8/,
    make: (b) => editIndexBytes(b, (ix) => void (ix[FIRST_PATH_AT + 2] = 0xff)),
  });

  // Index: front-coded tensor names.
  add({
    name: 'name-shared-prefix',
    description: "tensor 'weight' claims to share 1 byte with the previous (empty) name",
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /name shares 1 bytes with a 0-byte previous name/,
    make: (b) => editIndexBytes(b, (ix) => void (ix[nameRecordAt(ix, 'weight')] = 1)),
  });
  add({ name: 'name-not-utf8', description: "tensor name 'weight' with its first byte replaced by 0xFF", base: B, code: 'CORRUPT_INDEX', reason: /tensor name is not valid UTF-8/, make: (b) => editIndexBytes(b, (ix) => void (ix[nameRecordAt(ix, 'weight') + 3] = 0xff)) });
  add({
    name: 'name-limit',
    description: 'tensor name suffix length 4097 (MAX_NAME_BYTES is 4096)',
    base: B,
    code: 'LIMIT_EXCEEDED',
    reason: /tensor name of 4097 bytes, limit 4096/,
    make: (b) => editIndexBytes(b, (ix, dv) => dv.setUint16(nameRecordAt(ix, 'weight') + 1, 4097, true)),
  });

  // Index: segments and plane layouts.
  add({
    name: 'segment-kind',
    description: 'first segment kind 2 (only 0 bytes and 1 tensor exist)',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /segment kind 2/,
    make: (b) => editIndexBytes(b, (ix, dv) => void (ix[firstSegmentAt(dv.getUint16(FIRST_PATH_AT, true))] = 2)),
  });
  add({ name: 'shape-mismatch', description: 'tensor shape [16,17] for 256 BF16 values', base: B, code: 'CORRUPT_INDEX', reason: /shape \[16,17\] of BF16 is 544 bytes, segment is 512/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').shape = [16, 17])) });
  add({ name: 'shape-overflow', description: 'tensor shape [2^40, 2^40]: the element count overflows 2^53', base: B, code: 'CORRUPT_INDEX', reason: /shape product overflows/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').shape = [2 ** 40, 2 ** 40])) });
  add({
    name: 'rank-limit',
    description: `tensor of rank MAX_RANK + 1 (${MAX_RANK + 1}, all dimensions 1)`,
    base: B,
    code: 'LIMIT_EXCEEDED',
    reason: /rank 33, limit 32/,
    make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').shape = times(MAX_RANK + 1, () => 1))),
  });
  add({ name: 'dtype-width', description: "BF16 tensor relabelled 'F32' (4-byte values, the layout says 2)", base: B, code: 'CORRUPT_INDEX', reason: /F32 values are 4 bytes, layout says 2/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').dtype = 'F32')) });
  add({ name: 'value-bytes', description: 'layout value width 3 bytes', base: B, code: 'CORRUPT_INDEX', reason: /value width 3 bytes/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').coding.layout.valueBytes = 3)) });
  add({
    name: 'layout-overlap',
    description: 'BF16 head ranges 7+8 and 15+1|1+7: bit 7 twice, bit 0 never (widths kept, so the table still parses)',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /plane layout: bit range 1\+7 overlaps another/,
    make: (b) =>
      editIndex(b, (ix) => {
        const p = needTensor(ix, 'weight').coding.layout.planes[1];
        if (p.kind !== 'head') throw new Error('expected a head plane');
        p.ranges[1] = { lo: 1, width: 7 };
      }),
  });
  add({
    name: 'plane-kind',
    description: 'first plane kind 2 (only 0 head and 1 byte exist) in the first segment',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /plane kind 2/,
    make: (b) =>
      editIndexBytes(b, (ix, dv) => {
        // Byte segment: kind, name '' (shared u8 0, suffix u16 0), dtype '' (u16 0), rank 0, size u64, sha256, valueBytes, planeCount, then plane 0's kind.
        ix[firstSegmentAt(dv.getUint16(FIRST_PATH_AT, true)) + 1 + 3 + 2 + 1 + 8 + 32 + 1 + 1] = 2;
      }),
  });
  add({ name: 'lane-count', description: 'rANS lane count 3 (not a power of two)', base: B, code: 'CORRUPT_INDEX', reason: /lane count 3/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').coding.lanes = 3)) });

  // Index: frequency tables.
  const table = (ix: ContainerIndex) => {
    const t = needTensor(ix, 'weight').coding.tables[0];
    if (!t || isHuffman(t)) throw new Error('expected a rANS-coded exponent plane');
    return t;
  };
  add({ name: 'prob-bits-high', description: 'exponent table probBits 16 (MAX_PROB_BITS is 15)', base: B, code: 'CORRUPT_INDEX', reason: /probBits 16 outside 8\.\.15/, make: (b) => editIndex(b, (ix) => void (table(ix).probBits = 16)) });
  add({ name: 'prob-bits-low', description: 'exponent table probBits 7 (MIN_PROB_BITS is 8)', base: B, code: 'CORRUPT_INDEX', reason: /probBits 7 outside 8\.\.15/, make: (b) => editIndex(b, (ix) => void (table(ix).probBits = 7)) });
  add({
    name: 'freq-sum-short',
    description: 'exponent table with its largest frequency lowered by 1: the sum is 2^probBits - 1',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /frequencies sum to \d+, not 2\^/,
    make: (b) =>
      editIndex(b, (ix) => {
        const t = table(ix);
        t.freqs[t.freqs.indexOf(Math.max(...t.freqs))]--;
      }),
  });
  add({
    name: 'freq-sum-over',
    description: 'exponent table with its first frequency raised by 1: the sum passes 2^probBits',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /frequencies exceed 2\^/,
    make: (b) =>
      editIndex(b, (ix) => {
        const t = table(ix);
        t.freqs[t.freqs.findIndex((f) => f > 0)]++;
      }),
  });
  add({
    name: 'freq-symbol-range',
    description: 'exponent table (8-bit symbols) whose last symbol is moved to 300, outside the alphabet',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /table symbol 300 outside alphabet of 256/,
    make: (b) =>
      editIndex(b, (ix) => {
        const t = table(ix);
        const wide = new Uint32Array(512);
        wide.set(t.freqs);
        let last = wide.length - 1;
        while (wide[last] === 0) last--;
        wide[300] = wide[last];
        wide[last] = 0;
        t.freqs = wide;
      }),
  });

  // Index: chunk tables.
  add({ name: 'chunk-count', description: "tensor 'w' lists 7 chunk records for 1000 values at 128 per chunk (needs 8)", base: 'multi-chunk', code: 'CORRUPT_INDEX', reason: /7 chunks for 1000 values at 128 per chunk/, make: (b) => editIndex(b, (ix) => void needTensor(ix, 'w').chunks.pop()) });
  add({
    name: 'chunk-values-limit',
    description: `chunk values MAX_CHUNK_VALUES + 1 (${MAX_CHUNK_VALUES + 1})`,
    base: 'multi-chunk',
    code: 'LIMIT_EXCEEDED',
    reason: /chunk of \d+ values, limit/,
    make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'w').chunkValues = MAX_CHUNK_VALUES + 1)),
  });
  add({
    name: 'chunk-swap',
    description: "the first two chunk records (size, CRC) of 'w' swapped: offsets are implied by tiling, so chunk 0's CRC no longer matches",
    base: 'multi-chunk',
    code: 'CORRUPT_CHUNK',
    reason: /chunk 0 of tensor 'w' fails its CRC-32C/,
    make: (b) =>
      editIndex(b, (ix) => {
        const c = needTensor(ix, 'w').chunks;
        [c[0], c[1]] = [c[1], c[0]];
      }),
  });
  add({
    name: 'chunk-gap',
    description: '7 unaccounted bytes between the last chunk and the index (every byte must be under a checksum)',
    base: B,
    code: 'CORRUPT_INDEX',
    reason: /chunks end at \d+, data region ends at/,
    make: async (b) => putTogether(await takeApart(b), new Uint8Array(7)),
  });
  add({
    name: 'chunk-bound',
    description: 'raw byte chunk of 37 values grown by 5 bytes (offsets and CRCs follow): above the 37 + 4 bytes a chunk may take',
    base: 'bytes-raw',
    code: 'CORRUPT_INDEX',
    reason: /exceeds the bound for 37 values/,
    make: (b) =>
      editIndex(b, (_, p) => void (p.chunks[0].payload = concat(p.chunks[0].payload, new Uint8Array(5))), true),
  });

  // Chunks.
  add({
    name: 'chunk-bitflip',
    description: "one bit flipped inside the tensor chunk (its rANS words), chunk CRC left as it was",
    base: B,
    code: 'CORRUPT_CHUNK',
    reason: /fails its CRC-32C/,
    make: async (b) => {
      const p = await takeApart(b);
      const c = chunkOf(p, needTensor(p.index, 'weight'), 0);
      const out = b.slice();
      out[c.entry.record.offset + 6] ^= 0x10;
      return out;
    },
  });
  add({
    name: 'chunk-raw-extra-byte',
    description: 'raw byte chunk of 37 values with one extra byte (offsets and CRCs follow): no rANS stream may be there',
    base: 'bytes-raw',
    code: 'CORRUPT_CHUNK',
    reason: /cannot hold 37 values/,
    make: (b) => editIndex(b, (_, p) => void (p.chunks[0].payload = concat(p.chunks[0].payload, new Uint8Array(1))), true),
  });
  add({
    name: 'rans-state-low',
    description: 'tensor chunk whose lane-0 initial state is 0xFFFF (< 2^16), chunk CRC recomputed',
    base: B,
    code: 'CORRUPT_CHUNK',
    reason: /lane 0 starts in state 65535/,
    make: (b) => editIndex(b, (ix, p) => new DataView(chunkOf(p, needTensor(ix, 'weight'), 0).payload.buffer).setUint32(0, 0xffff, true), true),
  });
  add({
    name: 'rans-word',
    description: 'tensor chunk with one bit of its first rANS word flipped, chunk CRC recomputed: decoding ends off the initial state',
    base: B,
    code: 'CORRUPT_CHUNK',
    reason: /ends in state \d+, not 2\^16|rANS words left unread|ends early/,
    make: (b) => editIndex(b, (ix, p) => void (chunkOf(p, needTensor(ix, 'weight'), 0).payload[4] ^= 0x01), true),
  });
  add({
    name: 'rans-extra-word',
    description: 'tensor chunk with a zero word appended to its rANS stream (offsets and CRCs follow)',
    base: B,
    code: 'CORRUPT_CHUNK',
    reason: /1 rANS words left unread/,
    make: (b) =>
      editIndex(b, (ix, p) => {
        const c = chunkOf(p, needTensor(ix, 'weight'), 0);
        c.entry.payload = concat(c.payload.subarray(0, c.streamEnd), new Uint8Array(2), c.payload.subarray(c.streamEnd));
      }, true),
  });
  add({
    name: 'rans-missing-word',
    description: 'tensor chunk with the last word of its rANS stream removed (offsets and CRCs follow)',
    base: B,
    code: 'CORRUPT_CHUNK',
    reason: /ends early|ends in state|words left unread/,
    make: (b) =>
      editIndex(b, (ix, p) => {
        const c = chunkOf(p, needTensor(ix, 'weight'), 0);
        c.entry.payload = concat(c.payload.subarray(0, c.streamEnd - 2), c.payload.subarray(c.streamEnd));
      }, true),
  });
  add({
    name: 'rans-lane-states-only',
    description: 'tensor chunk cut to its lane states and raw plane, every rANS word removed (offsets and CRCs follow)',
    base: B,
    code: 'CORRUPT_CHUNK',
    reason: /ends early/,
    make: (b) =>
      editIndex(b, (ix, p) => {
        const w = needTensor(ix, 'weight');
        const c = chunkOf(p, w, 0);
        c.entry.payload = concat(c.payload.subarray(0, w.coding.lanes * 4), c.payload.subarray(c.streamEnd));
      }, true),
  });
  add({
    name: 'raw-plane-altered',
    description: 'one byte of the raw sign+mantissa plane changed, chunk CRC recomputed: the chunk decodes, to wrong bytes',
    base: B,
    code: 'CHECKSUM_MISMATCH',
    reason: /tensor 'weight' decodes to bytes whose SHA-256/,
    make: (b) =>
      editIndex(b, (ix, p) => {
        const c = chunkOf(p, needTensor(ix, 'weight'), 0);
        c.payload[c.streamEnd + 3] ^= 0x01;
      }, true),
  });
  add({
    name: 'rans-multi-chunk-word',
    description: "chunk 5 of 8 of tensor 'w' with one bit of a rANS word flipped, chunk CRC recomputed",
    base: 'multi-chunk',
    code: 'CORRUPT_CHUNK',
    reason: /ends in state \d+, not 2\^16|rANS words left unread|ends early/,
    make: (b) => editIndex(b, (ix, p) => void (chunkOf(p, needTensor(ix, 'w'), 5).payload[8] ^= 0x40), true),
  });

  // Digests.
  add({ name: 'segment-sha', description: "SHA-256 of tensor 'weight' with one bit flipped", base: B, code: 'CHECKSUM_MISMATCH', reason: /tensor 'weight' decodes to bytes whose SHA-256/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'weight').sha256[0] ^= 1)) });
  add({ name: 'header-segment-sha', description: 'SHA-256 of the safetensors header byte segment with one bit flipped', base: B, code: 'CHECKSUM_MISMATCH', reason: /byte segment decodes to bytes whose SHA-256/, make: (b) => editIndex(b, (ix) => void (ix.members[0].segments[0].sha256[31] ^= 0x80)) });
  add({ name: 'member-sha', description: "SHA-256 of member 'model.safetensors' with one bit flipped (every segment still checks)", base: B, code: 'CHECKSUM_MISMATCH', reason: /'model.safetensors' decodes to bytes whose SHA-256/, make: (b) => editIndex(b, (ix) => void (ix.members[0].sha256[5] ^= 4)) });
  add({ name: 'member-sha-empty', description: 'SHA-256 of an empty member with one bit flipped (no segments: the digest is still checked)', base: 'empty-file', code: 'CHECKSUM_MISMATCH', reason: /'empty.bin' decodes to bytes whose SHA-256/, make: (b) => editIndex(b, (ix) => void (ix.members[0].sha256[0] ^= 1)) });
  add({ name: 'folder-member-sha', description: "SHA-256 of the second folder member 'model.safetensors' with one bit flipped", base: 'folder', code: 'CHECKSUM_MISMATCH', reason: /'model.safetensors' decodes to bytes whose SHA-256/, make: (b) => editIndex(b, (ix) => void (ix.members[1].sha256[0] ^= 1)) });

  // Format version 2: transformed segments (FORMAT.md §3.5).
  const D = 'v2-dup-file';
  const X = 'v2-xor-delta';
  const dup = (ix: ContainerIndex): TransformRecord => needTensor(ix, 'lm_head.weight').transform!;
  const xor = (ix: ContainerIndex): TransformRecord => needTensor(ix, 'w').transform!;
  const setTarget = (ix: ContainerIndex, member: number, segment: number): void => {
    const dv = new DataView(dup(ix).params.buffer, dup(ix).params.byteOffset, 8);
    dv.setUint32(0, member, true);
    dv.setUint32(4, segment, true);
  };
  add({ name: 'v2-dup-later', description: "DUPLICATE 'lm_head.weight' names segment 5, which does not come before it", base: D, code: 'CORRUPT_TRANSFORM', reason: /not an earlier segment/, make: (b) => editIndex(b, (ix) => setTarget(ix, 0, 5)) });
  add({ name: 'v2-dup-other-member', description: 'DUPLICATE names member 1 of a one-member container', base: D, code: 'CORRUPT_TRANSFORM', reason: /not an earlier segment/, make: (b) => editIndex(b, (ix) => setTarget(ix, 1, 1)) });
  add({ name: 'v2-dup-differs', description: "DUPLICATE 'lm_head.weight' names 'layers.0.norm' (other dtype, shape and SHA-256)", base: D, code: 'CORRUPT_TRANSFORM', reason: /whose dtype, shape, size or SHA-256 differ/, make: (b) => editIndex(b, (ix) => setTarget(ix, 0, 2)) });
  add({ name: 'v2-dup-of-bytes', description: 'DUPLICATE names the safetensors header byte segment', base: D, code: 'CORRUPT_TRANSFORM', reason: /not a tensor stored with its own data/, make: (b) => editIndex(b, (ix) => setTarget(ix, 0, 0)) });
  add({ name: 'v2-dup-of-dup', description: "DUPLICATE 'lm_head.weight' names 'layers.1.norm', itself a DUPLICATE", base: D, code: 'CORRUPT_TRANSFORM', reason: /not a tensor stored with its own data/, make: (b) => editIndex(b, (ix) => setTarget(ix, 0, 3)) });
  add({ name: 'v2-dup-params', description: 'DUPLICATE params of 7 bytes instead of 8', base: D, code: 'CORRUPT_TRANSFORM', reason: /DUPLICATE params of 7 bytes/, make: (b) => editIndex(b, (ix) => void (dup(ix).params = dup(ix).params.slice(0, 7))) });
  add({ name: 'v2-dup-sha', description: "SHA-256 of DUPLICATE 'lm_head.weight' with one bit flipped: it no longer matches its target", base: D, code: 'CORRUPT_TRANSFORM', reason: /whose dtype, shape, size or SHA-256 differ/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'lm_head.weight').sha256[0] ^= 1)) });
  add({ name: 'v2-unknown-transform', description: 'transform code 200, which no decoder knows', base: D, code: 'CORRUPT_INDEX', reason: /unknown transform 200/, make: (b) => editIndex(b, (ix) => void (dup(ix).code = 200)) });
  add({ name: 'v2-params-limit', description: `transform params of ${MAX_TRANSFORM_PARAM_BYTES + 1} bytes, one over MAX_TRANSFORM_PARAM_BYTES`, base: D, code: 'LIMIT_EXCEEDED', reason: /transform params of \d+ bytes, limit/, make: (b) =>
    // Only the length field changes (the reader refuses it before reading params): find lm_head's record by its
    // transform code and params (DUPLICATE of member 0, segment 1) in the serialised index.
    editIndexBytes(b, (index, dv) => {
      const pattern = [1, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
      const at = index.findIndex((_, i) => pattern.every((x, k) => index[i + k] === x));
      if (at < 0) throw new Error('v2-params-limit: the DUPLICATE record was not found');
      dv.setUint32(at + 1, MAX_TRANSFORM_PARAM_BYTES + 1, true);
    }) });
  add({ name: 'v2-streams-limit', description: 'XOR_DELTA segment with 17 stream records, one over MAX_TRANSFORM_STREAMS', base: X, code: 'LIMIT_EXCEEDED', reason: /17 streams, limit 16/, make: (b) => editIndex(b, (ix) => void (xor(ix).streams = times(17, () => xor(ix).streams[0]))) });
  add({ name: 'v2-kind2-in-v1', description: 'a version 2 container whose header and footer say version 1 (CRCs recomputed): segment kind 2 is not version 1', base: D, code: 'CORRUPT_INDEX', reason: /segment kind 2/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 1, true), true), (dv) => dv.setUint16(20, 1, true), true) });
  add({ name: 'v2-header-footer-versions', description: 'a version 2 container whose footer says version 1 (CRC recomputed)', base: D, code: 'UNSUPPORTED_VERSION', reason: /container version 2 in the header but 1 in the footer/, make: (b) => editFooter(b, (dv) => dv.setUint16(20, 1, true), true) });
  add({ name: 'v2-xor-params', description: 'XOR_DELTA params of 31 bytes instead of a 32-byte SHA-256', base: X, code: 'CORRUPT_TRANSFORM', reason: /XOR_DELTA params of 31 bytes/, make: (b) => editIndex(b, (ix) => void (xor(ix).params = xor(ix).params.slice(0, 31))) });
  add({ name: 'v2-xor-no-stream', description: 'XOR_DELTA segment with no stream (its chunks removed, the rest laid out again)', base: X, code: 'CORRUPT_TRANSFORM', reason: /XOR_DELTA segment with 0 streams/, make: (b) => editIndex(b, (ix, p) => {
    const gone = new Set(xor(ix).streams[0].chunks);
    xor(ix).streams = [];
    p.chunks = p.chunks.filter((c) => !gone.has(c.record));
  }, true) });
  add({ name: 'v2-xor-stream-size', description: "XOR_DELTA stream of 'w' 2 bytes shorter than the tensor", base: X, code: 'CORRUPT_TRANSFORM', reason: /XOR_DELTA stream of 1198 bytes for a 1200-byte tensor/, make: (b) => editIndex(b, (ix) => void (xor(ix).streams[0].originalBytes -= 2)) });
  add({ name: 'v2-xor-stream-crc', description: "XOR_DELTA stream chunk 1 of 'w' with one bit flipped (CRC not recomputed)", base: X, code: 'CORRUPT_CHUNK', reason: /chunk 1 of tensor 'w \(stream 0\)' fails its CRC-32C/, make: (b) => editIndex(b, (ix, p) => {
    const rec = xor(ix).streams[0].chunks[1];
    p.chunks.find((c) => c.record === rec)!.payload[3] ^= 0x10;
  }) });
  add({ name: 'v2-xor-no-reference', description: 'the valid XOR_DELTA vector decoded without its reference', base: X, code: 'REFERENCE_MISSING', reason: /tensor 'w' is stored as an XOR delta against a reference checkpoint, and none was given/, make: (b) => b });
  // Value transforms (§3.5.3): their inverses check params and stream sizes when the segment is decoded.
  const Q = 'v2-quant-scale';
  const Z = 'v2-zero-flags';
  const qs = (ix: ContainerIndex): TransformRecord => needTensor(ix, 'q8.row').transform!;
  const zf = (ix: ContainerIndex): TransformRecord => needTensor(ix, 'sparse.bf16').transform!;
  const setParam = (t: TransformRecord, at: number, value: number): void => {
    const p = t.params.slice();
    p[at] = value;
    t.params = p;
  };
  const dropStream = (t: TransformRecord, k: number, p: { chunks: { record: unknown }[] }): void => {
    const gone = new Set<unknown>(t.streams[k].chunks);
    t.streams = t.streams.filter((_, j) => j !== k);
    p.chunks = p.chunks.filter((c) => !gone.has(c.record));
  };
  add({ name: 'v2-qscale-reserved', description: "QUANT_SCALE params of 'q8.row' with reserved byte 1 set", base: Q, code: 'CORRUPT_TRANSFORM', reason: /q-scale: params version or reserved bytes are not zero/, make: (b) => editIndex(b, (ix) => setParam(qs(ix), 1, 1)) });
  add({ name: 'v2-qscale-group', description: "QUANT_SCALE groupValues of 'q8.row' set to 7, which does not divide its 1024 values", base: Q, code: 'CORRUPT_TRANSFORM', reason: /q-scale: group of 7 values does not divide 1024 values/, make: (b) => editIndex(b, (ix) => {
    setParam(qs(ix), 4, 7);
    setParam(qs(ix), 5, 0);
  }) });
  add({ name: 'v2-qscale-params', description: "QUANT_SCALE params of 'q8.row' of 7 bytes instead of 8", base: Q, code: 'CORRUPT_TRANSFORM', reason: /q-scale: params are 7 bytes, not 8/, make: (b) => editIndex(b, (ix) => void (qs(ix).params = qs(ix).params.slice(0, 7))) });
  add({ name: 'v2-qscale-dtype', description: "QUANT_SCALE segment 'q8.row' recorded as I16 (same width): the transform applies to BF16, F16 and F32 only", base: Q, code: 'CORRUPT_TRANSFORM', reason: /q-scale: dtype I16 is not BF16, F16 or F32/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'q8.row').dtype = 'I16')) });
  add({ name: 'v2-qscale-no-exceptions', description: "QUANT_SCALE segment 'q8.row' without its exceptions stream (its chunks removed, the rest laid out again)", base: Q, code: 'CORRUPT_TRANSFORM', reason: /q-scale: 2 streams, not 3/, make: (b) => editIndex(b, (ix, p) => dropStream(qs(ix), 2, p), true) });
  add({ name: 'v2-zeroflags-params', description: "ZERO_FLAGS params of 'sparse.bf16' of 1 byte instead of none", base: Z, code: 'CORRUPT_TRANSFORM', reason: /zero-flags: params are 1 bytes, not 0/, make: (b) => editIndex(b, (ix) => void (zf(ix).params = new Uint8Array(1))) });
  add({ name: 'v2-zeroflags-no-values', description: "ZERO_FLAGS segment 'sparse.bf16' without its values stream (its chunks removed, the rest laid out again)", base: Z, code: 'CORRUPT_TRANSFORM', reason: /zero-flags: 1 streams, not 2/, make: (b) => editIndex(b, (ix, p) => dropStream(zf(ix), 1, p), true) });
  const P = 'v2-int-predict';
  const ip = (ix: ContainerIndex): TransformRecord => needTensor(ix, 'image').transform!;
  add({ name: 'v2-intpredict-tile', description: "INT_PREDICT tileRows of 'image' set to 0", base: P, code: 'CORRUPT_TRANSFORM', reason: /int-predict: tile of 0 x 64 values/, make: (b) => editIndex(b, (ix) => setParam(ip(ix), 0, 0)) });
  add({ name: 'v2-intpredict-params', description: "INT_PREDICT params of 'image' of 9 bytes instead of 8", base: P, code: 'CORRUPT_TRANSFORM', reason: /int-predict: params are 9 bytes, not 8/, make: (b) => editIndex(b, (ix) => void (ip(ix).params = new Uint8Array([...ip(ix).params, 0]))) });
  add({ name: 'v2-intpredict-tiles', description: "INT_PREDICT tileCols of 'image' set to 30: 2 x 3 tiles, but 4 predictors are stored", base: P, code: 'CORRUPT_TRANSFORM', reason: /int-predict: 4 predictors for 2 x 3 tiles/, make: (b) => editIndex(b, (ix) => setParam(ip(ix), 4, 30)) });
  // Huffman-coded planes (§5.4).
  const H = 'v2-huffman';
  const huff = (ix: ContainerIndex): HuffmanTable => {
    const t = needTensor(ix, 'w').coding.tables[0];
    if (!isHuffman(t)) throw new Error('expected a Huffman-coded exponent plane');
    return t;
  };
  /** Lengths with the longest code of `t` one bit longer: the Kraft sum falls short of 1. */
  const longer = (t: HuffmanTable): void => {
    const s = t.lengths.indexOf(Math.max(...t.lengths));
    t.lengths = t.lengths.slice();
    t.lengths[s]++;
  };
  add({ name: 'v2-huff-incomplete', description: "Huffman table of 'w' with its longest code one bit longer: not a complete code", base: H, code: 'CORRUPT_INDEX', reason: /not a complete code/, make: (b) => editIndex(b, (ix) => longer(huff(ix))) });
  add({ name: 'v2-huff-length', description: "Huffman table of 'w' with a code length of 12 (HUFFMAN_MAX_BITS is 11)", base: H, code: 'CORRUPT_INDEX', reason: /code length 12 outside 1\.\.11/, make: (b) => editIndex(b, (ix) => {
    const t = huff(ix);
    t.lengths = t.lengths.slice();
    t.lengths[t.lengths.indexOf(Math.max(...t.lengths))] = 12;
  }) });
  add({ name: 'v2-huff-one-symbol', description: "Huffman table of 'w' listing one symbol", base: H, code: 'CORRUPT_INDEX', reason: /lists 1 symbols, not 2\.\.256/, make: (b) => editIndex(b, (ix) => {
    const t = huff(ix);
    t.lengths = new Uint8Array(256);
    t.lengths[127] = 1;
  }) });
  add({ name: 'v2-huff-in-v1', description: 'a Huffman container whose header and footer say version 1 (CRCs recomputed): plane coding 2 is not version 1', base: H, code: 'CORRUPT_INDEX', reason: /plane coding 2/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 1, true), true), (dv) => dv.setUint16(20, 1, true), true) });
  add({ name: 'v2-huff-mixed', description: "the raw sign+mantissa plane of 'w' made rANS-coded (uniform table) beside its Huffman exponent plane", base: H, code: 'CORRUPT_INDEX', reason: /mixes rANS- and Huffman-coded planes/, make: (b) => editIndex(b, (ix) => {
    needTensor(ix, 'w').coding.tables[1] = makeTable(8, new Uint32Array(256).fill(1));
  }) });
  add({ name: 'v2-huff-stream-sizes', description: "chunk 0 of 'w': one byte moved from stream 0's size to stream 1's (same total, CRC recomputed)", base: H, code: 'CORRUPT_CHUNK', reason: /Huffman block: stream/, make: (b) => editIndex(b, (ix, p) => {
    const dv = new DataView(chunkOf(p, needTensor(ix, 'w'), 0).payload.buffer);
    dv.setUint32(0, dv.getUint32(0, true) + 1, true);
    dv.setUint32(4, dv.getUint32(4, true) - 1, true);
  }, true) });
  add({ name: 'v2-huff-stream-overrun', description: "chunk 1 of 'w': stream 7's size set to 2^32 - 1 (CRC recomputed)", base: H, code: 'CORRUPT_CHUNK', reason: /stream 7 of 4294967295 bytes passes the chunk's end/, make: (b) => editIndex(b, (ix, p) => {
    new DataView(chunkOf(p, needTensor(ix, 'w'), 1).payload.buffer).setUint32(28, 0xffffffff, true);
  }, true) });
  add({ name: 'v2-huff-extra-byte', description: "chunk 2 of 'w' with a zero byte inserted between its Huffman block and its raw plane (sizes and CRC follow)", base: H, code: 'CORRUPT_CHUNK', reason: /Huffman blocks end at byte \d+ of the chunk, the raw planes start at \d+/, make: (b) => editIndex(b, (ix, p) => {
    const c = chunkOf(p, needTensor(ix, 'w'), 2);
    c.entry.payload = concat(c.payload.subarray(0, c.streamEnd), new Uint8Array(1), c.payload.subarray(c.streamEnd));
  }, true) });
  // Labels (FORMAT.md §3.2 identity digest, §4.4 and §7.3 labels against the stored header).
  const S = 'special-floats';
  const swapNames = (a: string, b: string) => (ix: ContainerIndex): void => {
    const x = needTensor(ix, a);
    const y = needTensor(ix, b);
    [x.name, y.name] = [y.name, x.name];
  };
  add({ name: 'labels-name-swap', description: "names of the BF16 'bf16' and F16 'f16' tensors (30 bytes each) swapped, index CRC recomputed: the stored header names them the other way", base: S, code: 'LABEL_MISMATCH', reason: /index and the stored safetensors header disagree: segment \d+ \('f16'\): the header has tensor "bf16" there/, make: (b) => editIndex(b, swapNames('bf16', 'f16')) });
  add({ name: 'labels-dtype', description: "dtype of 'bf16' recorded as F16 (same width), index CRC recomputed", base: S, code: 'LABEL_MISMATCH', reason: /dtype F16 in the index, "BF16" in the header/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'bf16').dtype = 'F16')) });
  add({ name: 'labels-shape', description: "shape of 'bf16_mix' recorded as [20,20] instead of [400], index CRC recomputed", base: S, code: 'LABEL_MISMATCH', reason: /shape \[20,20\] in the index, \[400\] in the header/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'bf16_mix').shape = [20, 20])) });
  add({ name: 'labels-header-not-bytes', description: 'the safetensors header segment recorded as a U8 tensor segment, index CRC recomputed: a member with tensors must begin with its header, a byte segment', base: S, code: 'LABEL_MISMATCH', reason: /first segment is not a safetensors header/, make: (b) => editIndex(b, (ix) => {
    const h = ix.members[0].segments[0];
    h.kind = 'tensor';
    h.name = 'header';
    h.dtype = 'U8';
    h.shape = [h.originalBytes];
  }) });
  add({ name: 'v3-identity-bit', description: 'version 3: the member identity digest with one bit flipped, index CRC recomputed', base: 'v3-file', code: 'LABEL_MISMATCH', reason: /do not give its identity digest/, make: (b) => editIndex(b, (ix) => {
    const d = ix.members[0].identitySha256!.slice();
    d[0] ^= 1;
    ix.members[0].identitySha256 = d;
  }) });
  add({ name: 'v3-name-swap', description: "version 3: names of 'gate_proj' and 'up_proj' (same dtype, shape and size) swapped, index CRC recomputed, identity digest kept", base: 'v3-file', code: 'LABEL_MISMATCH', reason: /the labels of member 'model\.safetensors' .* do not give its identity digest/, make: (b) => editIndex(b, swapNames('gate_proj', 'up_proj')) });
  add({ name: 'v3-path-swap', description: "version 3: member paths 'model-1.safetensors' and 'model-2.safetensors' swapped, index CRC recomputed, identity digests kept", base: 'v3-folder', code: 'LABEL_MISMATCH', reason: /do not give its identity digest/, make: (b) => editIndex(b, (ix) => {
    const a = ix.members.find((m) => m.path === 'model-1.safetensors')!;
    const c = ix.members.find((m) => m.path === 'model-2.safetensors')!;
    [a.path, c.path] = [c.path, a.path];
  }) });
  add({ name: 'v3-relabel-rehashed', description: "version 3: 'norm' renamed 'norm2' and the identity digest recomputed to match (a producer that hashes what it wrote): the stored header still names it 'norm'", base: 'v3-file', code: 'LABEL_MISMATCH', reason: /the header has tensor "norm" there/, make: (b) => editIndex(b, (ix) => {
    needTensor(ix, 'norm').name = 'norm2';
    delete ix.members[0].identitySha256;
  }) });
  // Version 3 member types, flags, modes, times and links (FORMAT.md §3.2).
  const A = 'v3-attrs';
  /** Edits the first member's fields from `type` on (a DataView over the index and where `type` is), block and footer fixed. */
  const editFirstMember = (b: Uint8Array, edit: (dv: DataView, at: number) => void): Uint8Array =>
    editIndexBytes(b, (_, dv) => edit(dv, firstMemberTypeAt(dv.getUint16(FIRST_PATH_AT, true))));
  add({ name: 'v3-type-range', description: 'version 3: first member type 3 (types are 0 to 2), index CRC recomputed', base: A, code: 'CORRUPT_INDEX', reason: /member type 3/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint8(at, 3)) });
  add({ name: 'v3-flags-reserved', description: 'version 3: first member flags with reserved bit 3 set, index CRC recomputed', base: A, code: 'CORRUPT_INDEX', reason: /member flags 0xb set reserved bits/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint8(at + 1, dv.getUint8(at + 1) | 8)) });
  add({ name: 'v3-member-reserved', description: 'version 3: first member reserved u16 = 1, index CRC recomputed', base: A, code: 'CORRUPT_INDEX', reason: /reserved member field is not zero/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint16(at + 2, 1, true)) });
  add({ name: 'v3-mode-range', description: 'version 3: first member mode 0o10000 (above 0o7777), index CRC recomputed', base: A, code: 'CORRUPT_INDEX', reason: /member mode 0o10000 exceeds 0o7777/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint32(at + 4, 0o10000, true)) });
  add({ name: 'v3-mtime-range', description: 'version 3: first member mtimeUs >= 2^53 (high word 2^21), index CRC recomputed', base: A, code: 'CORRUPT_INDEX', reason: /member mtimeUs .*exceeds 2\^53/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint32(at + 12, 1 << 21, true)) });
  add({ name: 'v3-mode-no-flag', description: 'version 3: member mode 0o644 with flag bit 0 clear (a single file compressed from memory records none), index CRC recomputed', base: 'v3-file', code: 'CORRUPT_INDEX', reason: /member mode 0o644 with flag bit 0 clear/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint32(at + 4, 0o644, true)) });
  add({ name: 'v3-mtime-no-flag', description: 'version 3: member mtimeUs 1 with flag bit 1 clear, index CRC recomputed', base: 'v3-file', code: 'CORRUPT_INDEX', reason: /member mtimeUs 1 with flag bit 1 clear/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint32(at + 8, 1, true)) });
  add({ name: 'v3-file-link', description: "version 3: the single file container's member typed 1 (a symbolic link), index CRC recomputed", base: 'v3-file', code: 'CORRUPT_INDEX', reason: /single-file container's member is a symbolic link/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint8(at, 1)) });
  add({ name: 'v3-folder-bytes', description: "version 3: member 'config.json' typed 2 (an empty folder) with its bytes, index CRC recomputed", base: 'v3-folder', code: 'CORRUPT_INDEX', reason: /folder member of \d+ bytes/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint8(at, 2)) });
  add({ name: 'v3-link-empty', description: "version 3: the empty folder member typed 1 (a symbolic link): an empty target, index CRC recomputed", base: A, code: 'CORRUPT_INDEX', reason: /symbolic link member with an empty target/, make: (b) => editFirstMember(b, (dv, at) => dv.setUint8(at, 1)) });
  add({ name: 'v3-link-too-long', description: "version 3: member 'config.json' typed 1 (a symbolic link) and its size set to 4097, index CRC recomputed", base: 'v3-folder', code: 'LIMIT_EXCEEDED', reason: /symbolic link target of 4097 bytes, limit 4096/, make: (b) => editIndexBytes(b, (_, dv) => {
    const n = dv.getUint16(FIRST_PATH_AT, true);
    dv.setUint32(FIRST_PATH_AT + 2 + n, 4097, true);
    dv.setUint8(firstMemberTypeAt(n), 1);
  }) });
  /** A version 3 folder container written member by member (the writer does not read link targets; a decoder refuses these). */
  const written = async (members: [string, string, MemberType][]): Promise<Uint8Array> => {
    const sink = new MemorySink();
    const w = await ContainerWriter.start(sink, 'folder', { formatVersion: 3 });
    for (const [path, bytes, type] of members) await w.addFile(path, new MemorySource(new TextEncoder().encode(bytes), path), false, undefined, { type });
    await w.finish();
    return sink.toBytes();
  };
  add({ name: 'v3-link-absolute', description: "version 3: a folder of 'config.json' and symbolic link 'passwd' -> '/etc/passwd' (absolute), written by the writer", base: '(none)', code: 'BAD_PATH', reason: /symbolic link 'passwd': absolute link target/, make: () => written([['config.json', '{}', 'file'], ['passwd', '/etc/passwd', 'link']]) });
  add({ name: 'v3-link-escaping', description: "version 3: symbolic link 'sub/up' -> '../../x' (climbs two folders from one folder deep), written by the writer", base: '(none)', code: 'BAD_PATH', reason: /symbolic link 'sub\/up': link target climbs 2 folders .* outside the output folder/, make: () => written([['sub/up', '../../x', 'link']]) });
  add({ name: 'v3-link-climb-after', description: "version 3: symbolic link 'd' -> '.' and 'e' -> 'd/..' (through d, the output folder's parent), written by the writer", base: '(none)', code: 'BAD_PATH', reason: /symbolic link 'e': link target climbs \('\.\.'\) after descending/, make: () => written([['d', '.', 'link'], ['e', 'd/..', 'link']]) });
  add({ name: 'v3-below-link', description: "version 3: symbolic link 'a' -> '/etc' and member 'a/passwd' (a file written through the link), written by the writer", base: '(none)', code: 'BAD_PATH', reason: /member 'a' is also a folder of 'a\/passwd'/, make: () => written([['a', '/etc', 'link'], ['a/passwd', 'root::0:0::/root:/bin/sh', 'file']]) });
  // Version 4: chunk digests of decoded bytes, bound to their places (FORMAT.md §3.4, §7.5), and packed raw planes (§6).
  const V4 = 'v4-file';
  add({ name: 'v4-chunk-digest', description: "version 4: the digest of chunk 2 of 'q_proj' with its top bit flipped, index CRC recomputed", base: V4, code: 'CHECKSUM_MISMATCH', reason: /chunk 2 of tensor 'q_proj' decodes to bytes whose chunk digest is not the one its record gives/, make: (b) => editIndex(b, (ix) => {
    const c = needTensor(ix, 'q_proj').chunks[2];
    c.digest = c.digest! ^ (1n << 63n);
  }) });
  add({ name: 'v4-raw-bit', description: "version 4: one bit of the packed raw plane of 'q_proj' chunk 0 flipped (the stored bytes carry no CRC): the chunk decodes, to bytes whose digest differs", base: V4, code: 'CHECKSUM_MISMATCH', reason: /chunk 0 of tensor 'q_proj' decodes to bytes whose chunk digest/, make: (b) => {
    return editIndex(b, (ix, p) => {
      const c = needTensor(ix, 'q_proj').chunks[0];
      const part = p.chunks.find((x) => x.record === c)!;
      part.payload = part.payload.slice();
      part.payload[part.payload.length - 3] ^= 0x04;
    });
  } });
  add({ name: 'v4-padding-bit', description: "version 4: the top padding bit set in the last byte of the packed 6-bit raw plane of the last chunk of 'q_proj' (2046 values: 12 276 bits in 1535 bytes), the chunk's last byte", base: V4, code: 'CORRUPT_CHUNK', reason: /padding bits/, make: (b) => editIndex(b, (ix, p) => {
    const s = needTensor(ix, 'q_proj');
    const part = p.chunks.find((x) => x.record === s.chunks[s.chunks.length - 1])!;
    part.payload = part.payload.slice();
    part.payload[part.payload.length - 1] |= 0x80;
  }) });
  add({ name: 'v4-chunks-swapped', description: "version 4: chunks 0 and 1 of 'q_proj' (records with their digests, and payloads) trading places: each digest is bound to its chunk number", base: V4, code: 'CHECKSUM_MISMATCH', reason: /chunk 0 of tensor 'q_proj' decodes to bytes whose chunk digest/, make: (b) => editIndex(b, (ix, p) => {
    const s = needTensor(ix, 'q_proj');
    [s.chunks[0], s.chunks[1]] = [s.chunks[1], s.chunks[0]];
    const order = ix.members.flatMap((m) => m.segments.flatMap((g) => g.chunks));
    p.chunks.sort((x, y) => order.indexOf(x.record) - order.indexOf(y.record));
  }, true) });
  add({ name: 'v4-packed-in-v3', description: 'version 4 container relabelled version 3 in header and footer (CRCs recomputed): read with 8-byte version 3 chunk records, the index goes out of step: its next field is read as a segment kind', base: V4, code: 'CORRUPT_INDEX', reason: /segment kind/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 3, true), true), (dv) => dv.setUint16(20, 3, true), true) });
  // Version 5: labels of GGUF and ONNX members against their stored bytes (FORMAT.md §4.6, §4.7), identity digests
  // recomputed to match the wrong labels, so that only the stored header refuses them.
  const relabel = (edit: (ix: Parameters<Parameters<typeof editIndex>[1]>[0]) => void) => (b: Uint8Array) =>
    editIndex(b, (ix) => {
      edit(ix);
      for (const m of ix.members) delete m.identitySha256;
    });
  add({ name: 'v5-gguf-name', description: "version 5: GGUF tensor 'output_norm.weight' renamed 'norm' in the index, identity digest recomputed: the stored GGUF header names it otherwise", base: 'v5-gguf', code: 'LABEL_MISMATCH', reason: /stored GGUF header disagree: .*has tensor 'output_norm.weight' there/, make: relabel((ix) => void (needTensor(ix, 'output_norm.weight').name = 'norm')) });
  add({ name: 'v5-gguf-shape', description: "version 5: shape of GGUF tensor 'token_embd.weight' recorded as [40,3] (the GGUF dimensions unreversed) instead of [3,40], identity digest recomputed", base: 'v5-gguf', code: 'LABEL_MISMATCH', reason: /shape \[40,3\] in the index, \[3,40\] in the header/, make: relabel((ix) => void (needTensor(ix, 'token_embd.weight').shape = [40, 3])) });
  add({ name: 'v5-gguf-dtype', description: "version 5: dtype of the Q8_0 tensor recorded as Q8_1, identity digest recomputed", base: 'v5-gguf', code: 'LABEL_MISMATCH', reason: /dtype Q8_1 in the index, Q8_0 in the header/, make: relabel((ix) => void (needTensor(ix, 'blk.0.attn_q.weight').dtype = 'Q8_1')) });
  add({ name: 'v5-gguf-as-safetensors', description: 'version 5: the GGUF member recorded with layout 0, identity digest recomputed: its tensor segments are then those of a safetensors member, and its first segment is no safetensors header', base: 'v5-gguf', code: 'LABEL_MISMATCH', reason: /stored safetensors header disagree|not a safetensors header/, make: relabel((ix) => void delete ix.members[0].layout) });
  add({ name: 'v5-onnx-name', description: "version 5: ONNX initializer 'fc.bias16' renamed 'fc.weight' in the index, identity digest recomputed: the model names it otherwise", base: 'v5-onnx', code: 'LABEL_MISMATCH', reason: /the model names it 'fc.bias16'/, make: relabel((ix) => void (needTensor(ix, 'fc.bias16').name = 'fc.weight')) });
  add({ name: 'v5-onnx-data-dtype', description: "version 5: external initializer 'emb' recorded as I32 (same width) in the data file's index record, identity digest recomputed", base: 'v5-onnx-external', code: 'LABEL_MISMATCH', reason: /dtype I32 in the index, F32 in the model/, make: relabel((ix) => void (needTensor(ix, 'emb').dtype = 'I32')) });
  add({ name: 'v5-onnx-data-orphan', description: 'version 5: the ONNX model member recorded with layout 0, identity digest recomputed: no model member names the data file', base: 'v5-onnx-external', code: 'LABEL_MISMATCH', reason: /no ONNX model member of the container names it/, make: relabel((ix) => void delete ix.members[0].layout) });
  add({ name: 'v5-layout-code', description: 'version 5: first member layout 4 (layouts are 0 to 3), index CRC recomputed', base: 'v5-onnx', code: 'CORRUPT_INDEX', reason: /member layout 4/, make: (b) => editIndexBytes(b, (_, dv) => dv.setUint8(firstMemberTypeAt(dv.getUint16(FIRST_PATH_AT, true)) + 2, 4)) });
  add({ name: 'v5-layout-reserved', description: 'version 5: the reserved byte after the first member layout set to 1, index CRC recomputed', base: 'v5-onnx', code: 'CORRUPT_INDEX', reason: /reserved member field/, make: (b) => editIndexBytes(b, (_, dv) => dv.setUint8(firstMemberTypeAt(dv.getUint16(FIRST_PATH_AT, true)) + 3, 1)) });
  add({ name: 'v5-in-v4', description: 'version 5 GGUF container relabelled version 4 in header and footer (CRCs recomputed): the layout byte is then reserved', base: 'v5-gguf', code: 'CORRUPT_INDEX', reason: /reserved member field/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 4, true), true), (dv) => dv.setUint16(20, 4, true), true) });
  // Version 9: NumPy array and raw array members (FORMAT.md §4.8, §4.9), identity digests recomputed.
  add({ name: 'v9-npy-name', description: "version 9: the tensor of 'arrays/f32.npy' renamed 'f32' in the index, identity digest recomputed: a NumPy array's tensor is named after its member", base: 'v9-npy', code: 'LABEL_MISMATCH', reason: /the member's array is named 'arrays\/f32'/, make: relabel((ix) => void (needTensor(ix, 'arrays/f32').name = 'f32')) });
  add({ name: 'v9-npy-fortran-shape', description: "version 9: the Fortran-ordered F16 array recorded with shape [3,4] (the header's shape, unreversed) instead of [4,3], identity digest recomputed", base: 'v9-npy', code: 'LABEL_MISMATCH', reason: /shape \[3,4\] in the index, \[4,3\] in the header/, make: relabel((ix) => void (needTensor(ix, 'arrays/f16-fortran').shape = [3, 4])) });
  add({ name: 'v9-npy-dtype', description: "version 9: the F32 array recorded as I32 (same width), identity digest recomputed: the stored header says '<f4'", base: 'v9-npy', code: 'LABEL_MISMATCH', reason: /dtype I32 in the index, F32/, make: relabel((ix) => void (needTensor(ix, 'arrays/f32').dtype = 'I32')) });
  add({ name: 'v9-npy-as-raw', description: 'version 9: a NumPy array member recorded with layout 5 (raw array), identity digest recomputed: a raw array is one tensor segment, not a header and a tensor', base: 'v9-npy', code: 'LABEL_MISMATCH', reason: /not one tensor segment/, make: relabel((ix) => void (ix.members[0].layout = 'raw-array')) });
  add({ name: 'v9-raw-as-npy', description: "version 9: the raw array member recorded with layout 4 (NumPy array), identity digest recomputed: its first segment is no .npy header", base: 'v9-raw', code: 'LABEL_MISMATCH', reason: /not a .npy header/, make: relabel((ix) => void (ix.members[0].layout = 'npy')) });
  add({ name: 'v9-raw-name', description: "version 9: the raw array's tensor renamed 'w' in the index, identity digest recomputed: it is named after its member, 'weights'", base: 'v9-raw', code: 'LABEL_MISMATCH', reason: /named 'weights'/, make: relabel((ix) => void (needTensor(ix, 'weights').name = 'w')) });
  add({ name: 'v9-layout-code', description: 'version 9: first member layout 6 (layouts are 0 to 5), index CRC recomputed', base: 'v9-raw', code: 'CORRUPT_INDEX', reason: /member layout 6/, make: (b) => editIndexBytes(b, (_, dv) => dv.setUint8(firstMemberTypeAt(dv.getUint16(FIRST_PATH_AT, true)) + 2, 6)) });
  add({ name: 'v9-in-v8', description: 'version 9 container relabelled version 8 in header and footer (CRCs recomputed): member layout 5 does not exist in version 8', base: 'v9-raw', code: 'CORRUPT_INDEX', reason: /member layout 5/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 8, true), true), (dv) => dv.setUint16(20, 8, true), true) });
  // Version 6: lossy GROUP_QUANT segments (FORMAT.md §3.5.3.5).
  const L = 'v6-lossy';
  /** Re-binds the chunk digests of segment `seg`'s streams from digest `from` to digest `to` (FORMAT.md §7.5). */
  const rebind = (t: TransformRecord, from: Uint8Array, to: Uint8Array): void => {
    t.streams.forEach((st, k) => st.chunks.forEach((c, j) => void (c.digest = c.digest! ^ chunkBinding(from, k + 1, j) ^ chunkBinding(to, k + 1, j))));
  };
  /**
   * `base` with stream `k` of tensor `name` replaced by `bytes` coded as values of `dtype`: the stream is taken from a
   * container the writer made of one plain tensor of those bytes, its chunk digests bound to their new place.
   */
  const graftStream = async (base: Uint8Array, name: string, k: number, dtype: string, bytes: Uint8Array): Promise<Uint8Array> => {
    const sink = new MemorySink();
    const w = await ContainerWriter.start(sink, 'file', { formatVersion: 6, transforms: false, lossy: { label: 'none', quantize: () => undefined } });
    const width = dtype === 'F32' ? 4 : dtype === 'I16' ? 2 : 1;
    await w.addFile('d.safetensors', new MemorySource(buildSafetensors([{ name: 'd', dtype, shape: [bytes.length / width], data: bytes }]), 'd.safetensors'), 'safetensors');
    await w.finish();
    const donor = await takeApart(sink.toBytes());
    const d = needTensor(donor.index, 'd');
    const payloads = donor.chunks.filter((c) => d.chunks.includes(c.record));
    return editIndex(base, (ix, p) => {
      const seg = needTensor(ix, name);
      const st = seg.transform!.streams[k];
      const gone = new Set<unknown>(st.chunks);
      const at = p.chunks.findIndex((c) => gone.has(c.record));
      p.chunks = p.chunks.filter((c) => !gone.has(c.record));
      const records = d.chunks.map((c, j) => ({ ...c, digest: c.digest! ^ chunkBinding(d.sha256, 0, j) ^ chunkBinding(seg.sha256, k + 1, j) }));
      p.chunks.splice(at, 0, ...payloads.map((c, j) => ({ record: records[j], payload: c.payload })));
      seg.transform!.streams[k] = { originalBytes: bytes.length, coding: d.coding, chunkValues: d.chunkValues, chunks: records };
    }, true);
  };
  const nanScales = new Uint8Array(16);
  new DataView(nanScales.buffer).setFloat32(4, NaN, true);
  add({ name: 'v6-scale-nan', description: "version 6: the scales stream of GROUP_QUANT tensor 'f16.weight' replaced by 4 scales of which the second is NaN (chunk digests bound anew)", base: L, code: 'CORRUPT_TRANSFORM', reason: /group-quant: scale NaN at 1 is not finite/, make: (b) => graftStream(b, 'f16.weight', 1, 'F32', nanScales) });
  const wideCodes = new Uint8Array(400);
  new DataView(wideCodes.buffer).setInt16(6, -32768, true);
  add({ name: 'v6-code-range', description: "version 6: the i16 codes stream of GROUP_QUANT tensor 'f32.weight' replaced by 200 codes of which the fourth is -32768, beyond ±32767 (chunk digests bound anew)", base: L, code: 'CORRUPT_TRANSFORM', reason: /group-quant: code -32768 at 3 beyond ±32767/, make: (b) => graftStream(b, 'f32.weight', 0, 'I16', wideCodes) });
  add({ name: 'v6-scales-width', description: "version 6: the scales stream of GROUP_QUANT tensor 'f16.weight' replaced by its bytes coded as 2-byte values (I16)", base: L, code: 'CORRUPT_TRANSFORM', reason: /GROUP_QUANT scales of 2-byte values, not 4/, make: (b) => graftStream(b, 'f16.weight', 1, 'I16', new Uint8Array(16)) });
  add({ name: 'v6-one-stream', description: "version 6: GROUP_QUANT tensor 'bf16.weight' without its scales stream (its chunks removed, the rest laid out again)", base: L, code: 'CORRUPT_TRANSFORM', reason: /GROUP_QUANT segment with 1 streams, not 2/, make: (b) => editIndex(b, (ix, p) => dropStream(needTensor(ix, 'bf16.weight').transform!, 1, p), true) });
  add({ name: 'v6-three-streams', description: "version 6: GROUP_QUANT tensor 'bf16.weight' with its codes stream's record repeated as a third stream (chunks shared)", base: L, code: 'CORRUPT_TRANSFORM', reason: /GROUP_QUANT segment with 3 streams, not 2/, make: (b) => editIndex(b, (ix) => {
    const t = needTensor(ix, 'bf16.weight').transform!;
    t.streams.push({ ...t.streams[1], chunks: [] });
  }) });
  add({ name: 'v6-in-v5', description: 'version 6 lossy container relabelled version 5 in header and footer (CRCs recomputed): GROUP_QUANT is a version 6 transform', base: L, code: 'CORRUPT_TRANSFORM', reason: /transform 7 \(GROUP_QUANT\) in a version 5 container/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 5, true), true), (dv) => dv.setUint16(20, 5, true), true) });
  add({ name: 'v6-original-digest', description: "version 6: the SHA-256 of GROUP_QUANT tensor 'bf16.weight' and of its member set to those of the original values (not the dequantized ones), chunk digests bound and identity digest recomputed to match", base: L, code: 'CHECKSUM_MISMATCH', reason: /tensor 'bf16.weight' decodes to bytes whose SHA-256/, make: async (b, ctx) => {
    const original = ctx.source(L);
    const layout = await readSafetensorsLayout(new MemorySource(original, 'model.safetensors'));
    const t = layout.tensors.find((x) => x.name === 'bf16.weight')!;
    return editIndex(b, (ix) => {
      const seg = needTensor(ix, 'bf16.weight');
      const to = sha256(original.subarray(t.begin, t.end));
      rebind(seg.transform!, seg.sha256, to);
      seg.sha256 = to;
      ix.members[0].sha256 = sha256(original);
      delete ix.members[0].identitySha256;
    });
  } });
  // Version 7: FP8 levels and the 2:4 sparsity claim of GROUP_QUANT params (FORMAT.md §3.5.3.5).
  const F = 'v7-fp8-sparse';
  const setGroupQuantParam = (name: string, at: number, value: number) => (b: Uint8Array) => editIndex(b, (ix) => void (needTensor(ix, name).transform!.params[at] = value));
  add({ name: 'v7-in-v6', description: 'version 7 container relabelled version 6 in header and footer (CRCs recomputed): levels and sparsity are reserved (0) in version 6', base: F, code: 'CORRUPT_TRANSFORM', reason: /levels 1 and sparsity 0 in a version 6 container/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 6, true), true), (dv) => dv.setUint16(20, 6, true), true) });
  add({ name: 'v7-levels-code', description: "version 7: GROUP_QUANT tensor 'e4m3.weight' with levels 3 (levels are 0, 1 or 2), index CRC recomputed", base: F, code: 'CORRUPT_TRANSFORM', reason: /levels 3, not 0 \(integer\), 1 \(E4M3\) or 2 \(E5M2\)/, make: setGroupQuantParam('e4m3.weight', 2, 3) });
  add({ name: 'v7-sparsity-code', description: "version 7: GROUP_QUANT tensor 'e5m2.weight' with sparsity 2 (sparsity is 0 or 1), index CRC recomputed", base: F, code: 'CORRUPT_TRANSFORM', reason: /sparsity 2, not 0 \(none\) or 1 \(2:4\)/, make: setGroupQuantParam('e5m2.weight', 3, 2) });
  add({ name: 'v7-fp8-wide', description: "version 7: GROUP_QUANT tensor 'e4m3.weight' with FP8 levels and codeBytes 2 (FP8 codes are one byte), index CRC recomputed", base: F, code: 'CORRUPT_TRANSFORM', reason: /FP8 levels with codeBytes 2, not 1/, make: setGroupQuantParam('e4m3.weight', 1, 2) });
  const nanCodes = new Uint8Array(120);
  nanCodes[5] = 0x7f;
  add({ name: 'v7-fp8-nan', description: "version 7: the codes stream of E4M3 tensor 'e4m3.weight' replaced by 120 codes of which the sixth is 0x7F, the E4M3 NaN (chunk digests bound anew)", base: F, code: 'CORRUPT_TRANSFORM', reason: /group-quant: FP8 code 0x7f at 5 is not the pattern of a finite value/, make: (b) => graftStream(b, 'e4m3.weight', 0, 'U8', nanCodes) });
  const infCodes = new Uint8Array(64);
  infCodes[9] = 0x7c;
  add({ name: 'v7-e5m2-inf', description: "version 7: the codes stream of E5M2 tensor 'e5m2.weight' replaced by 64 codes, all zero but the tenth, 0x7C (E5M2 +infinity) (chunk digests bound anew)", base: F, code: 'CORRUPT_TRANSFORM', reason: /group-quant: FP8 code 0x7c at 9 is not the pattern of a finite value/, make: (b) => graftStream(b, 'e5m2.weight', 0, 'U8', infCodes) });
  const denseCodes = new Uint8Array(64).fill(0x3c);
  for (let i = 0; i < 64; i++) if (i % 4 >= 2 && i !== 6) denseCodes[i] = 0;
  add({ name: 'v7-sparsity-break', description: "version 7: the codes stream of 2:4 tensor 'e5m2.weight' replaced by 64 codes, two of every four zero except in columns 4 … 7 of row 0, where three are 0x3C (1.0) (chunk digests bound anew)", base: F, code: 'CORRUPT_TRANSFORM', reason: /row 0 has fewer than 2 zero levels of 4 at column 4, breaking the 2:4 sparsity/, make: (b) => graftStream(b, 'e5m2.weight', 0, 'U8', denseCodes) });
  add({ name: 'v8-in-v6', description: 'version 8 container relabelled version 6 in header and footer (CRCs recomputed): index block coding 2 (the byte model) is a version 8 coding', base: 'v8-bytes', code: 'CORRUPT_INDEX', reason: /index coding 2/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 6, true), true), (dv) => dv.setUint16(20, 6, true), true) });
  add({ name: 'v8-index-truncated', description: 'version 8: the byte-model stream of the index block without its last byte (footer size and CRC recomputed)', base: 'v8-bytes', code: 'CORRUPT_INDEX', reason: /coded index: byte-model stream of \d+ bytes ends before/, make: (b) => editIndexBlock(b, (block) => block.subarray(0, block.length - 1)) });
  add({ name: 'v8-primer-2', description: 'version 8: the byte-model primer of tokenizer.json set to 2 (only 0 and 1 exist)', base: 'v8-bytes', code: 'CORRUPT_INDEX', reason: /byte-model primer 2/, make: (b) => editIndex(b, (ix) => {
    ix.members[1].segments[0].coding.byteModel!.primer = 2;
  }) });
  // Version 10: the tensor model (FORMAT.md §3.4 plane coding 4, §5.6).
  const T = 'v10-tensor-model';
  add({ name: 'v10-in-v8', description: 'version 10 container relabelled version 8 in header and footer (CRCs recomputed): plane coding 4 (the tensor model) is a version 10 coding', base: T, code: 'CORRUPT_INDEX', reason: /plane coding 4/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 8, true), true), (dv) => dv.setUint16(20, 8, true), true) });
  add({ name: 'v10-lanes-2', description: "version 10: tensor-model segment 'bf16.weight' with lane count 2 (a tensor-model segment has no lanes: it must be 1), index CRC recomputed", base: T, code: 'CORRUPT_INDEX', reason: /lane count 2 in a tensor-model segment/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'bf16.weight').coding.lanes = 2)) });
  add({ name: 'v10-row-0', description: "version 10: tensor-model segment 'f32.weight' with rowValues 0 (rows hold at least one value), index CRC recomputed", base: T, code: 'CORRUPT_INDEX', reason: /tensor-model row of 0 values/, make: (b) => editIndex(b, (ix) => void (needTensor(ix, 'f32.weight').coding.tensorModel!.rowValues = 0)) });
  add({ name: 'v10-stream-truncated', description: "version 10: the second chunk of tensor-model segment 'bf16.weight' without its last byte (chunk records laid out anew)", base: T, code: 'CORRUPT_CHUNK', reason: /tensor-model stream of \d+ bytes ends before its 2560 values are decoded/, make: (b) => editIndex(b, (ix, p) => {
    const c = chunkOf(p, needTensor(ix, 'bf16.weight'), 1);
    c.entry.payload = c.payload.subarray(0, c.payload.length - 1);
  }, true) });
  add({ name: 'v10-stream-trailing', description: "version 10: the chunk of tensor-model segment 'f16.weight' with a zero byte appended (chunk records laid out anew)", base: T, code: 'CORRUPT_CHUNK', reason: /tensor-model stream ends at byte \d+ of \d+/, make: (b) => editIndex(b, (ix, p) => {
    const c = chunkOf(p, needTensor(ix, 'f16.weight'), 0);
    c.entry.payload = concat(c.payload, new Uint8Array(1));
  }, true) });
  // Version 11: byte-model groups and one-segment members (FORMAT.md §3.3, §3.4).
  add({ name: 'v11-in-v8', description: 'version 11 container relabelled version 8 in header and footer (CRCs recomputed): the group\'s chunk of 1000 bytes exceeds the bound of its first segment\'s 300 bytes, and primer 2 is not a version 8 primer', base: 'v11-groups', code: 'CORRUPT_INDEX', reason: /exceeds the bound/, make: (b) => editFooter(editHeader(b, (dv) => dv.setUint16(8, 8, true), true), (dv) => dv.setUint16(20, 8, true), true) });
  add({ name: 'v11-continuation-chunk-values', description: "version 11: continuation 'fc.weights' with chunkValues 1048576 instead of 1", base: 'v11-groups', code: 'CORRUPT_INDEX', reason: /continuation with chunkValues 1048576 and 0 chunks/, make: (b) => editIndex(b, (ix) => {
    needTensor(ix, 'fc.weights').chunkValues = 1048576;
  }) });
  add({ name: 'v11-group-digest', description: "version 11: the chunk digest of the group's stream (first segment 'conv0.filters') with bit 0 flipped: reading any tensor of the group, or the file, fails", base: 'v11-groups', code: 'CHECKSUM_MISMATCH', reason: /chunk 0 of tensor 'conv0.filters' decodes to bytes whose chunk digest is not the one its record gives/, make: (b) => editIndex(b, (ix) => {
    const c = needTensor(ix, 'conv0.filters').chunks[0];
    c.digest = c.digest! ^ 1n;
  }) });
  add({ name: 'v11-tiny-sha', description: "version 11: the member SHA-256 of the one-segment config.json with bit 0 flipped and its identity digest recomputed: the segment's SHA-256 is the member's, and the chunk digest is bound to it", base: 'v11-tiny', code: 'CHECKSUM_MISMATCH', reason: /chunk 0 of .* decodes to bytes whose chunk digest is not the one its record gives/, make: (b) => editIndex(b, (ix) => {
    const m = ix.members[0];
    const sha = m.sha256.slice();
    sha[0] ^= 1;
    m.sha256 = sha;
    m.segments[0].sha256 = sha;
    m.identitySha256 = undefined;
  }) });
  return specs;
}
