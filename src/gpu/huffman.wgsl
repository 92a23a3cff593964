// Huffman-coded planes on the GPU (FORMAT.md §5.4, §6): each chunk of a segment with Huffman-coded planes is
// transcoded into a chunk of raw planes, which decode.wgsl then decodes like a segment stored raw (all planes 8-bit or
// packed, in plane order). One workgroup of 64 invocations per chunk: invocation 8h + k decodes stream k of the block
// of Huffman plane h (the eight streams of a block are independent, FORMAT.md §5.4), looking up the next 11 bits in the
// plane's multi-symbol table (up to three symbols whose codes lie whole in them, as the WebAssembly decoder does; the
// single-symbol table near the stream's last symbols), checking every rule of §5.4 (sizes within the blocks, each stream ending in
// its last byte with zero padding, the blocks ending where the raw planes start); then all 64 copy the chunk's raw
// planes into their places. A failed check sets the chunk's HUFFMAN_BAD status bit. The transcoded buffer starts zeroed
// and every byte of it is written once, by atomicOr (neighbouring planes and chunks share words).
//
// Bindings: input = the input slab (the compressed chunks); transcoded = this slab's transcoded chunks; tables = per
// Huffman table 2048 single-symbol entries, symbol | code length << 8, then 2048 multi-symbol entries, symbols 0-2 in
// bytes 0-2 | count << 24 | their bits << 28 (huffman.ts buildHuffmanMultiTable); descs = per segment: plane count, then two words a plane
// (1 for a Huffman plane | symbol bits << 8; the plane's table offset in `tables`); jobs = HUFFMAN_JOB_WORDS u32 per
// chunk: descriptor offset, chunk start in the input, end of its Huffman blocks (where its raw planes start), values n,
// start of its transcoded chunk, status index.

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> transcoded: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> tables: array<u32>;
@group(0) @binding(3) var<storage, read> descs: array<u32>;
@group(0) @binding(4) var<storage, read> jobs: array<u32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

struct Params {
  job_count: u32,
  groups_x: u32,
  job_base: u32,
  pad: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

const HUFFMAN_JOB_WORDS: u32 = 8u;
const INVOCATIONS: u32 = 64u;
const STREAMS: u32 = 8u;
const BLOCK_HEADER: u32 = 32u;
const WINDOW_MASK: u32 = 2047u;
// Status bit: a Huffman block fails a check of FORMAT.md §5.4 (chunk-status.ts STATUS_HUFFMAN).
const HUFFMAN_BAD: u32 = 512u;

fn load_u8(a: u32) -> u32 {
  return (input[a >> 2u] >> ((a & 3u) * 8u)) & 0xffu;
}

fn load_u32(a: u32) -> u32 {
  let q = a >> 2u;
  let sh = (a & 3u) * 8u;
  if (sh == 0u) {
    return input[q];
  }
  return (input[q] >> sh) | (input[q + 1u] << (32u - sh));
}

// Bytes of a raw plane of n symbols of b bits.
fn raw_plane_bytes(n: u32, b: u32) -> u32 {
  return (n * b + 7u) >> 3u;
}

// Where plane `plane` of a transcoded chunk of n values starts, relative to the chunk: the planes before it, in plane
// order, each n bytes (Huffman, 8-bit) or its raw size.
fn plane_offset(desc: u32, plane: u32, n: u32) -> u32 {
  var at = 0u;
  for (var p = 0u; p < plane; p++) {
    at += raw_plane_bytes(n, descs[desc + 1u + 2u * p] >> 8u);
  }
  return at;
}

// ORs `bits` into transcoded word q (skipped when zero: the buffer starts zeroed).
fn flush(q: u32, bits: u32) {
  if (bits != 0u) {
    atomicOr(&transcoded[q], bits);
  }
}

// Puts symbol `sym` at transcoded byte a, gathering the bytes of one word in *acc before it is flushed.
fn put(a: u32, sym: u32, word: ptr<function, u32>, acc: ptr<function, u32>) {
  if ((a >> 2u) != *word) {
    flush(*word, *acc);
    *word = a >> 2u;
    *acc = 0u;
  }
  *acc |= sym << (8u * (a & 3u));
}

// Decodes stream k of the block of Huffman plane h (the plane's index among all planes: plane) of one chunk.
// Returns false when a check fails.
fn decode_stream(desc: u32, plane: u32, h: u32, k: u32, chunk_at: u32, blocks_end: u32, n: u32, dst: u32) -> bool {
  // The block of plane h: after the blocks of the Huffman planes before it, each checked to fit before blocks_end.
  var p = chunk_at;
  for (var j = 0u; j < h; j++) {
    if (blocks_end - p < BLOCK_HEADER) {
      return false;
    }
    var total = BLOCK_HEADER;
    for (var s = 0u; s < STREAMS; s++) {
      let size = load_u32(p + 4u * s);
      if (size > blocks_end - p - total) {
        return false;
      }
      total += size;
    }
    p += total;
  }
  if (blocks_end - p < BLOCK_HEADER) {
    return false;
  }
  var start = p + BLOCK_HEADER;
  for (var s = 0u; s < k; s++) {
    let size = load_u32(p + 4u * s);
    if (size > blocks_end - start) {
      return false;
    }
    start += size;
  }
  let size = load_u32(p + 4u * k);
  if (size > blocks_end - start) {
    return false;
  }
  let stop = start + size;
  // The last stream of the last Huffman plane: the blocks end where the raw planes start.
  if (k == STREAMS - 1u && h + 1u == descs[desc] >> 16u && stop != blocks_end) {
    return false;
  }
  let q = (n + STREAMS - 1u) / STREAMS;
  let i0 = min(n, k * q);
  let i1 = min(n, i0 + q);
  let table = descs[desc + 2u + 2u * plane];
  let size_bits = 8u * size;
  var bit = 0u;
  var word = 0xffffffffu;
  var acc = 0u;
  var i = i0;
  while (i < i1) {
    let byte = start + (bit >> 3u);
    // The next 11 bits, zeros past the stream's end (a code that needs them fails the check below).
    var w = 0u;
    let left = stop - byte;
    if (left > 0u) {
      w = load_u32(byte);
      if (left < 4u) {
        w &= (1u << (8u * left)) - 1u;
      }
    }
    let v = (w >> (bit & 7u)) & WINDOW_MASK;
    let m = tables[table + WINDOW_MASK + 1u + v];
    let count = (m >> 24u) & 0xfu;
    if (count <= i1 - i) {
      // Every symbol of the entry is the stream's: their codes end within the stream exactly when the last one does.
      bit += m >> 28u;
      if (bit > size_bits) {
        flush(word, acc);
        return false;
      }
      for (var k = 0u; k < count; k++) {
        put(dst + i + k, (m >> (8u * k)) & 0xffu, &word, &acc);
      }
      i += count;
    } else {
      let e = tables[table + v];
      bit += e >> 8u;
      if (bit > size_bits) {
        flush(word, acc);
        return false;
      }
      put(dst + i, e & 0xffu, &word, &acc);
      i += 1u;
    }
  }
  flush(word, acc);
  if ((bit + 7u) / 8u != size) {
    return false;
  }
  return (bit & 7u) == 0u || (load_u8(stop - 1u) >> (bit & 7u)) == 0u;
}

@compute @workgroup_size(64)
fn transcode_chunks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let job = wid.y * params.groups_x + wid.x;
  if (job >= params.job_count) {
    return;
  }
  let jb = (params.job_base + job) * HUFFMAN_JOB_WORDS;
  let desc = jobs[jb];
  let chunk_at = jobs[jb + 1u];
  let blocks_end = jobs[jb + 2u];
  let n = jobs[jb + 3u];
  let dst_at = jobs[jb + 4u];
  let status_index = jobs[jb + 5u];
  let planes = descs[desc] & 0xffffu;

  // Streams: invocation 8h + k takes stream k of Huffman plane h.
  let h = t / STREAMS;
  var seen = 0u;
  for (var p = 0u; p < planes; p++) {
    if ((descs[desc + 1u + 2u * p] & 1u) == 0u) {
      continue;
    }
    if (seen == h) {
      if (!decode_stream(desc, p, h, t % STREAMS, chunk_at, blocks_end, n, dst_at + plane_offset(desc, p, n))) {
        atomicOr(&status[status_index], HUFFMAN_BAD);
      }
    }
    seen += 1u;
  }

  // Raw planes: from blocks_end in the input, each to its place, word by word of the destination.
  var src = blocks_end;
  for (var p = 0u; p < planes; p++) {
    let kind = descs[desc + 1u + 2u * p];
    if ((kind & 1u) != 0u) {
      continue;
    }
    let bytes = raw_plane_bytes(n, kind >> 8u);
    let dst = dst_at + plane_offset(desc, p, n);
    if (bytes > 0u) {
      let last = (dst + bytes - 1u) >> 2u;
      for (var q = (dst >> 2u) + t; q <= last; q += INVOCATIONS) {
        var bits = 0u;
        for (var b = 0u; b < 4u; b++) {
          let d = 4u * q + b;
          if (d >= dst && d < dst + bytes) {
            bits |= load_u8(src + d - dst) << (8u * b);
          }
        }
        flush(q, bits);
      }
    }
    src += bytes;
  }
}
