// Integer tensors with predictable neighbours (FORMAT.md §3.5.3.3, transform INT_PREDICT): the tensor as a matrix
// (rows x last dimension) cut into tiles; each tile picks a predictor (none, left, top, average, planar) and stores the
// zigzag-mapped residual of every value against it. Ramps, index tensors (GPTQ g_idx, position ids) and smooth data
// leave near-zero residuals; values without neighbour structure keep predictor none, and the plain path wins.

import { FormatError } from '../errors.js';
import type { SegmentTransform, TransformCandidate } from './segment-transform.js';

/** Transform code of INT_PREDICT (FORMAT.md §3.5.3.3). */
export const TRANSFORM_INT_PREDICT = 5;
/** Predictor id (predictors stream): no prediction, the residual is the value. */
export const PREDICT_NONE = 0;
/** Predictor id: the value to the left (same row). */
export const PREDICT_LEFT = 1;
/** Predictor id: the value above (same column). */
export const PREDICT_TOP = 2;
/** Predictor id: floor of the mean of left and top. */
export const PREDICT_AVERAGE = 3;
/** Predictor id: left + top - top-left (a plane through the three neighbours). */
export const PREDICT_PLANAR = 4;
/** Number of predictor ids: a stored id at or above it is corrupt. */
const PREDICTORS = 5;
/** Bytes of the params record: u32 tileRows, u32 tileCols. */
const PARAM_BYTES = 8;
/** Tile rows the encoder uses: 64 x 64 values of a matrix (1 x 4096 of a vector). */
const TILE_ROWS = 64;
/** Tile columns the encoder uses. */
const TILE_COLS = 64;
/** Tiles tried before the whole tensor: if no predictor pays on any, the tensor is declined. */
const SAMPLE_TILES = 16;
/** Rows of each sampled tile looked at (a quarter of a 64-row tile): enough to see neighbour structure. */
const SAMPLE_TILE_ROWS = 16;

/** Integer dtypes this transform applies to: width and whether values are signed (for the average predictor). */
const INTEGERS: Readonly<Record<string, { W: 1 | 2 | 4; signed: boolean }>> = {
  I8: { W: 1, signed: true },
  U8: { W: 1, signed: false },
  I16: { W: 2, signed: true },
  U16: { W: 2, signed: false },
  I32: { W: 4, signed: true },
  U32: { W: 4, signed: false },
};

/** Value i of a little-endian integer buffer (signed or not as the dtype says): no copy, so no memory beyond the tensor. */
type ValueAt = (i: number) => number;

function valueReader(bytes: Uint8Array, W: number, signed: boolean): ValueAt {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (W === 1) return signed ? (i) => dv.getInt8(i) : (i) => dv.getUint8(i);
  if (W === 2) return signed ? (i) => dv.getInt16(2 * i, true) : (i) => dv.getUint16(2 * i, true);
  return signed ? (i) => dv.getInt32(4 * i, true) : (i) => dv.getUint32(4 * i, true);
}

/** The prediction of value (r, c) of a `cols`-wide matrix by predictor p; neighbours outside the matrix are 0. */
function predict(x: ValueAt, r: number, c: number, cols: number, p: number): number {
  if (p === PREDICT_NONE) return 0;
  const i = r * cols + c;
  const L = c > 0 ? x(i - 1) : 0;
  const T = r > 0 ? x(i - cols) : 0;
  if (p === PREDICT_LEFT) return L;
  if (p === PREDICT_TOP) return T;
  if (p === PREDICT_AVERAGE) return Math.floor((L + T) / 2);
  return L + T - (c > 0 && r > 0 ? x(i - cols - 1) : 0); // PLANAR, taken modulo 2^(8W) by the residual
}

/**
 * Zigzag code of (x - p) modulo 2^bits, taken as a signed residual in [-2^(bits-1), 2^(bits-1)). x - p is an integer
 * well inside 2^53, so the 32-bit conversion of the shifts (modulo 2^32) is exact.
 */
function zigzag(x: number, p: number, bits: number): number {
  const shift = 32 - bits;
  const r = ((x - p) << shift) >> shift;
  return r >= 0 ? 2 * r : -2 * r - 1;
}

/** The value whose zigzag residual against p is z, in the dtype's range (signed or not). */
function unzigzag(z: number, p: number, bits: number, signed: boolean): number {
  const r = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  const shift = 32 - bits;
  const v = ((p + r) << shift) >> shift; // signed, modulo 2^bits
  return signed ? v : bits === 32 ? v >>> 0 : v & ((1 << bits) - 1);
}

/** Bit length of zigzag value z (0 for 0; z < 2^32). */
function costBits(z: number): number {
  return 32 - Math.clz32(z);
}

/** Writes the W-byte little-endian unsigned value z at index i. */
function writeUnsigned(out: Uint8Array, i: number, W: number, z: number): void {
  for (let k = 0; k < W; k++) out[i * W + k] = Math.floor(z / 2 ** (8 * k)) & 0xff;
}

/** Reads the W-byte little-endian unsigned value at index i. */
function readUnsigned(b: Uint8Array, i: number, W: number): number {
  let z = 0;
  for (let k = W - 1; k >= 0; k--) z = z * 256 + b[i * W + k];
  return z;
}

/**
 * INT_PREDICT: stream 0 holds one predictor id per tile (tiles in raster order), stream 1 the zigzag residual of each
 * value in element order. The inverse rebuilds values in element order, so every neighbour is known when it is needed.
 */
export const intPredictTransform: SegmentTransform = {
  code: TRANSFORM_INT_PREDICT,
  name: 'int-predict',

  forward(data: Uint8Array, dtype: string, shape: readonly number[]): TransformCandidate | undefined {
    const t = INTEGERS[dtype];
    if (!t || data.length === 0 || data.length % t.W !== 0) return undefined;
    const n = data.length / t.W;
    const cols = shape.length >= 2 ? shape[shape.length - 1] : n;
    if (cols === 0 || n % cols !== 0) return undefined;
    const rows = n / cols;
    const tr = rows === 1 ? 1 : TILE_ROWS;
    const tc = rows === 1 ? TILE_ROWS * TILE_COLS : TILE_COLS;
    const x = valueReader(data, t.W, t.signed);
    const bits = 8 * t.W;
    const tilesDown = Math.ceil(rows / tr);
    const tilesAcross = Math.ceil(cols / tc);
    const tiles = tilesDown * tilesAcross;
    // A tile's cost: order-0 entropy of its residuals (small ones as themselves, larger ones by bit length, plus
    // their bits past the eighth): the coded size the residual stream's planes approach.
    const hist = new Float64Array(256 + 33);
    /** The cheapest predictor of tile k (its first rowLimit rows) and whether it saves 1/16 of predictor none's cost. */
    const choose = (k: number, rowLimit = tr): { best: number; pays: boolean } => {
      const ty = Math.floor(k / tilesAcross);
      const tx = k % tilesAcross;
      const r1 = Math.min(rows, ty * tr + rowLimit);
      const c1 = Math.min(cols, (tx + 1) * tc);
      let best = PREDICT_NONE;
      let bestCost = Infinity;
      let noneCost = 0;
      for (let p = 0; p < PREDICTORS; p++) {
        hist.fill(0);
        let extra = 0;
        let count = 0;
        for (let r = ty * tr; r < r1; r++) {
          for (let c = tx * tc; c < c1; c++) {
            const z = zigzag(x(r * cols + c), predict(x, r, c, cols, p), bits);
            const len = costBits(z);
            hist[z < 256 ? z : 256 + len]++;
            if (len > 8) extra += len - 8;
            count++;
          }
        }
        let cost = extra;
        for (const h of hist) if (h > 0) cost -= h * Math.log2(h / count);
        if (p === PREDICT_NONE) noneCost = cost;
        if (cost < bestCost) {
          bestCost = cost;
          best = p;
        }
      }
      return { best, pays: bestCost < noneCost * (1 - 1 / 16) };
    };
    // A sample of tiles first: tensors without neighbour structure (most weights) are declined at little cost.
    const sample = Math.min(tiles, SAMPLE_TILES);
    let pays = false;
    for (let j = 0; j < sample && !pays; j++) pays = choose(Math.floor((j * tiles) / sample), SAMPLE_TILE_ROWS).pays;
    if (!pays) return undefined;
    const predictors = new Uint8Array(tiles);
    const residuals = new Uint8Array(data.length);
    let any = false;
    for (let ty = 0; ty < tilesDown; ty++) {
      for (let tx = 0; tx < tilesAcross; tx++) {
        const r1 = Math.min(rows, (ty + 1) * tr);
        const c1 = Math.min(cols, (tx + 1) * tc);
        const best = choose(ty * tilesAcross + tx).best;
        predictors[ty * tilesAcross + tx] = best;
        if (best !== PREDICT_NONE) any = true;
        for (let r = ty * tr; r < r1; r++) {
          for (let c = tx * tc; c < c1; c++) writeUnsigned(residuals, r * cols + c, t.W, zigzag(x(r * cols + c), predict(x, r, c, cols, best), bits));
        }
      }
    }
    if (!any) return undefined; // no tile has neighbour structure: the plain path codes the same values
    const params = new Uint8Array(PARAM_BYTES);
    const dv = new DataView(params.buffer);
    dv.setUint32(0, tr, true);
    dv.setUint32(4, tc, true);
    const unsignedOf: Record<number, string> = { 1: 'U8', 2: 'U16', 4: 'U32' };
    return {
      code: TRANSFORM_INT_PREDICT,
      params,
      streams: [
        { bytes: predictors, dtype: 'U8', valueBytes: 1 },
        { bytes: residuals, dtype: unsignedOf[t.W], valueBytes: t.W },
      ],
    };
  },

  inverse(params, streams, dtype, shape, out, where): void {
    const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `int-predict: ${problem}`, { file: where.file, offset: where.offset });
    const t = INTEGERS[dtype];
    if (!t) throw bad(`dtype ${dtype} is not I8, U8, I16, U16, I32 or U32`);
    if (params.length !== PARAM_BYTES) throw bad(`params are ${params.length} bytes, not ${PARAM_BYTES}`);
    const pv = new DataView(params.buffer, params.byteOffset, params.byteLength);
    const tr = pv.getUint32(0, true);
    const tc = pv.getUint32(4, true);
    if (tr === 0 || tc === 0) throw bad(`tile of ${tr} x ${tc} values`);
    if (out.length % t.W !== 0) throw bad(`${out.length} bytes are not whole ${dtype} values`);
    const n = out.length / t.W;
    const cols = shape.length >= 2 ? shape[shape.length - 1] : n;
    if (n > 0 && (cols === 0 || n % cols !== 0)) throw bad(`the last dimension ${cols} does not divide ${n} values`);
    const rows = n === 0 ? 0 : n / cols;
    const tilesAcross = Math.ceil(cols / tc);
    if (streams.length !== 2) throw bad(`${streams.length} streams, not 2`);
    const [predictors, residuals] = streams;
    if (predictors.length !== Math.ceil(rows / tr) * tilesAcross) throw bad(`${predictors.length} predictors for ${Math.ceil(rows / tr)} x ${tilesAcross} tiles`);
    for (let k = 0; k < predictors.length; k++) if (predictors[k] >= PREDICTORS) throw bad(`predictor ${predictors[k]} of tile ${k} is not 0-4`);
    if (residuals.length !== out.length) throw bad(`${residuals.length} residual bytes for ${out.length} bytes of values`);
    // Neighbours are read back from the output, already written in element order.
    const x = valueReader(out, t.W, t.signed);
    const bits = 8 * t.W;
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const p = predictors[Math.floor(r / tr) * tilesAcross + Math.floor(c / tc)];
        const v = unzigzag(readUnsigned(residuals, i, t.W), predict(x, r, c, cols, p), bits, t.signed);
        if (t.W === 1) dv.setUint8(i, v & 0xff);
        else if (t.W === 2) dv.setUint16(2 * i, v & 0xffff, true);
        else dv.setUint32(4 * i, v >>> 0, true);
      }
    }
  },
};
