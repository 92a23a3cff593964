// Reads the float arrays of a FITS file: images (BITPIX -32 or -64) of the primary HDU and of IMAGE extensions, and the
// float columns (TFORM E or D) of BINTABLE extensions, converted from big-endian to little-endian. Enough for the data
// extractors of tools/; not a general FITS library (no scaling, no compressed images, no variable-length arrays).

/** FITS files are sequences of 2880-byte blocks; a header is 80-character cards up to END. */
const BLOCK_BYTES = 2880;
const CARD_BYTES = 80;

/** One float array found in a FITS file. */
export interface FitsArray {
  /** "hdu<k>" for an image, "hdu<k>.<TTYPE>" for a table column. */
  name: string;
  /** 'F32' or 'F64'. */
  dtype: 'F32' | 'F64';
  /** Outermost first: an image's (NAXISn, …, NAXIS1); a column's (rows) or (rows, repeat). */
  shape: number[];
  /** Little-endian values. */
  data: Uint8Array;
}

/** The float images and table columns of every HDU of `bytes`. @throws Error for a file that is not FITS */
export function readFitsArrays(bytes: Uint8Array): FitsArray[] {
  const out: FitsArray[] = [];
  let at = 0;
  for (let hdu = 0; at < bytes.length; hdu++) {
    const cards = new Map<string, string>();
    let end = false;
    while (!end) {
      if (at + BLOCK_BYTES > bytes.length) throw new Error(`HDU ${hdu}: header past the end of the file`);
      for (let c = 0; c < BLOCK_BYTES / CARD_BYTES; c++) {
        const card = new TextDecoder('latin1').decode(bytes.subarray(at + c * CARD_BYTES, at + (c + 1) * CARD_BYTES));
        const key = card.slice(0, 8).trim();
        if (key === 'END') end = true;
        if (!end && card[8] === '=' && !cards.has(key)) cards.set(key, card.slice(10).replace(/\/.*$/, '').trim().replace(/^'(.*)'$/, '$1').trim());
      }
      at += BLOCK_BYTES;
    }
    if (hdu === 0 && cards.get('SIMPLE') !== 'T') throw new Error('not a FITS file (SIMPLE = T missing)');
    const num = (k: string): number => Number(cards.get(k) ?? '0');
    const naxis = num('NAXIS');
    const dims: number[] = [];
    for (let k = 1; k <= naxis; k++) dims.push(num(`NAXIS${k}`));
    const bitpix = num('BITPIX');
    const dataBytes = naxis === 0 ? 0 : (Math.abs(bitpix) / 8) * dims.reduce((a, d) => a * d, 1) * Math.max(1, num('GCOUNT')) + num('PCOUNT');
    const data = bytes.subarray(at, at + dataBytes);
    const xtension = cards.get('XTENSION');
    if ((hdu === 0 || xtension === 'IMAGE') && (bitpix === -32 || bitpix === -64) && naxis > 0) {
      out.push({ name: `hdu${hdu}`, dtype: bitpix === -32 ? 'F32' : 'F64', shape: [...dims].reverse(), data: swapped(data.slice(0, dataBytes), Math.abs(bitpix) / 8) });
    } else if (xtension === 'BINTABLE') {
      const [rowBytes, rows] = dims;
      let offset = 0;
      for (let k = 1; k <= num('TFIELDS'); k++) {
        const m = /^(\d*)([A-Z])/.exec(cards.get(`TFORM${k}`) ?? '');
        if (!m) throw new Error(`HDU ${hdu}: TFORM${k} '${cards.get(`TFORM${k}`)}' not understood`);
        const repeat = m[1] === '' ? 1 : Number(m[1]);
        const W = { L: 1, X: 1 / 8, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8, C: 8, M: 16, P: 8, Q: 16 }[m[2]];
        if (W === undefined) throw new Error(`HDU ${hdu}: TFORM${k} type ${m[2]} not understood`);
        const width = m[2] === 'X' ? Math.ceil(repeat / 8) : repeat * W;
        if ((m[2] === 'E' || m[2] === 'D') && repeat > 0 && rows > 0) {
          const col = new Uint8Array(rows * width);
          for (let r = 0; r < rows; r++) col.set(data.subarray(r * rowBytes + offset, r * rowBytes + offset + width), r * width);
          const name = (cards.get(`TTYPE${k}`) ?? `col${k}`).replace(/[^A-Za-z0-9_.-]/g, '_');
          // TDIMn, '(d1,d2,…)' fastest first, gives a cell's shape; without it a cell is a vector of `repeat`.
          const tdim = /^\((\d+(?:,\d+)*)\)$/.exec((cards.get(`TDIM${k}`) ?? '').replace(/\s/g, ''));
          const cell = tdim && tdim[1].split(',').map(Number).reduce((a, d) => a * d, 1) === repeat ? tdim[1].split(',').map(Number).reverse() : [repeat];
          const shape = rows === 1 ? cell : repeat === 1 ? [rows] : [rows, ...cell];
          out.push({ name: `hdu${hdu}.${name}`, dtype: m[2] === 'E' ? 'F32' : 'F64', shape, data: swapped(col, W) });
        }
        offset += width;
      }
    }
    at += Math.ceil(dataBytes / BLOCK_BYTES) * BLOCK_BYTES;
  }
  return out;
}

/** `bytes` with each `W`-byte value reversed (big-endian to little-endian), in place. */
function swapped(bytes: Uint8Array, W: number): Uint8Array {
  for (let i = 0; i < bytes.length; i += W) bytes.subarray(i, i + W).reverse();
  return bytes;
}
