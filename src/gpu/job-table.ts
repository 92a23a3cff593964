// The decode jobs of a plan (decode-plan.ts; one per chunk, hundreds of thousands for a large checkpoint in small
// chunks) as columns of typed arrays, and the chunk digests they are checked against (FORMAT.md §7.5) computed in 32-bit
// halves: per-chunk objects and BigInt arithmetic were most of a plan's time.

/** u32 words per job record (decode.wgsl JOB_WORDS). */
export const JOB_WORDS = 8;

/** A job's flags: its chunk is read from the slab's transcoded chunks (Huffman-coded planes). */
export const JOB_TRANSCODED = 1;
/** A job's flags: its chunk's record carries a digest (version 4), checked by the digest pass. */
export const JOB_DIGEST = 2;

/** One job's fields besides its record words. */
export interface JobFields {
  steps: number;
  slab: number;
  output: number;
  outAt: number;
  outEnd: number;
  kernel: number;
  flags: number;
  /** Bytes the chunk decodes to and the WD64 they must have (low, high 32 bits), for a job with JOB_DIGEST. */
  digestBytes: number;
  digestLo: number;
  digestHi: number;
}

/** Growable columns of jobs: the record words (JOB_WORDS u32 each) and the fields the planner sorts and groups by. */
export class JobTable {
  count = 0;
  words = new Uint32Array(JOB_WORDS * 256);
  steps = new Uint32Array(256);
  slab = new Uint32Array(256);
  output = new Uint32Array(256);
  kernel = new Uint32Array(256);
  flags = new Uint8Array(256);
  outAt = new Float64Array(256);
  outEnd = new Float64Array(256);
  digestBytes = new Uint32Array(256);
  digestLo = new Uint32Array(256);
  digestHi = new Uint32Array(256);

  /** Appends a job with record words w0 … w7; returns its index. */
  add(w0: number, w1: number, w2: number, w3: number, w4: number, w5: number, f: JobFields): number {
    if (this.count === this.steps.length) this.grow();
    const j = this.count++;
    const o = j * JOB_WORDS;
    const w = this.words;
    w[o] = w0;
    w[o + 1] = w1;
    w[o + 2] = w2;
    w[o + 3] = w3;
    w[o + 4] = w4;
    w[o + 5] = w5;
    w[o + 6] = 0;
    w[o + 7] = 0;
    this.steps[j] = f.steps;
    this.slab[j] = f.slab;
    this.output[j] = f.output;
    this.kernel[j] = f.kernel;
    this.flags[j] = f.flags;
    this.outAt[j] = f.outAt;
    this.outEnd[j] = f.outEnd;
    this.digestBytes[j] = f.digestBytes;
    this.digestLo[j] = f.digestLo;
    this.digestHi[j] = f.digestHi;
    return j;
  }

  private grow(): void {
    const n = this.steps.length * 2;
    const more = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.words = more(this.words, n * JOB_WORDS);
    this.steps = more(this.steps, n);
    this.slab = more(this.slab, n);
    this.output = more(this.output, n);
    this.kernel = more(this.kernel, n);
    this.flags = more(this.flags, n);
    this.outAt = more(this.outAt, n);
    this.outEnd = more(this.outEnd, n);
    this.digestBytes = more(this.digestBytes, n);
    this.digestLo = more(this.digestLo, n);
    this.digestHi = more(this.digestHi, n);
  }
}

/** K7 of the chunk digest (FORMAT.md §7.5), in 32-bit halves. */
const POSITION_KEY_LO = 0x1a85ec53;
const POSITION_KEY_HI = 0xc4ceb9fe;

/** The 64-bit product of two u32 values, as [low, high] u32 halves (16-bit limbs: every partial product is exact). */
function mul32(a: number, b: number): [number, number] {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return [(((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0, (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0];
}

/**
 * The binding value of chunk `chunk` of stream `stream` of a segment whose SHA-256 starts with the little-endian u64
 * (leadLo, leadHi), as chunkBinding (format/chunk-binding.ts) computes it: lead XOR ((stream × 2^32 + chunk) × K7 mod
 * 2^64), in [low, high] u32 halves.
 */
export function chunkBindingWords(leadLo: number, leadHi: number, stream: number, chunk: number): [number, number] {
  const [lo, hi] = mul32(chunk, POSITION_KEY_LO);
  const high = (hi + Math.imul(chunk, POSITION_KEY_HI) + Math.imul(stream, POSITION_KEY_LO)) >>> 0;
  return [(leadLo ^ lo) >>> 0, (leadHi ^ high) >>> 0];
}
