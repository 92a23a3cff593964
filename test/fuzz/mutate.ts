// Byte-level mutators for the fuzz harness (docs/SECURITY.md, "Fuzzing"): bit flips, byte changes, boundary
// integers, truncations, extensions, insertions, deletions and splices between inputs. Deterministic given the Rng.

import { concat } from '../../tools/vectors/surgery.js';
import type { Rng } from '../helpers/prng.js';

/** A mutated input and a short description of what was done (printed with a failure). */
export interface Mutant {
  bytes: Uint8Array;
  what: string;
}

/** Integers that sit on boundaries decoders get wrong: 0, 1, sign bits, all-ones, the limits of §8. */
const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 1 << 20, 1 << 22, (1 << 22) + 1, 1 << 24, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

type Op = (b: Uint8Array, rng: Rng, donors: readonly Uint8Array[]) => Mutant;

const at = (b: Uint8Array, rng: Rng): number => rng.int(Math.max(b.length, 1));


const OPS: Record<string, Op> = {
  flipBit(b, rng) {
    const out = b.slice();
    if (out.length === 0) return { bytes: out, what: 'flip (empty)' };
    const bit = rng.int(out.length * 8);
    out[bit >> 3] ^= 1 << (bit & 7);
    return { bytes: out, what: `flip bit ${bit}` };
  },
  setByte(b, rng) {
    const out = b.slice();
    if (out.length === 0) return { bytes: out, what: 'set (empty)' };
    const i = at(b, rng);
    out[i] = rng.int(256);
    return { bytes: out, what: `byte ${i} = ${out[i]}` };
  },
  interesting(b, rng) {
    const out = b.slice();
    const width = rng.pick([1, 2, 4, 8]);
    if (out.length < width) return { bytes: out, what: 'interesting (short)' };
    const i = rng.int(out.length - width + 1);
    const v = rng.pick(INTERESTING_U32);
    const dv = new DataView(out.buffer);
    if (width === 1) out[i] = v & 0xff;
    else if (width === 2) dv.setUint16(i, v & 0xffff, true);
    else if (width === 4) dv.setUint32(i, v >>> 0, true);
    else {
      dv.setUint32(i, v >>> 0, true);
      dv.setUint32(i + 4, rng.pick([0, 0, 1, 0x1fffff, 0x200000, 0xffffffff]), true);
    }
    return { bytes: out, what: `u${width * 8} at ${i} = ${v}` };
  },
  arith(b, rng) {
    const out = b.slice();
    if (out.length === 0) return { bytes: out, what: 'arith (empty)' };
    const i = at(b, rng);
    const d = rng.pick([-2, -1, 1, 2, 16, -16]);
    out[i] = (out[i] + d) & 0xff;
    return { bytes: out, what: `byte ${i} += ${d}` };
  },
  truncate(b, rng) {
    const n = rng.int(b.length + 1);
    return { bytes: b.slice(0, n), what: `cut to ${n}` };
  },
  cutFront(b, rng) {
    const n = rng.int(Math.min(b.length, 64) + 1);
    return { bytes: b.slice(n), what: `drop first ${n}` };
  },
  extend(b, rng) {
    const n = rng.pick([1, 4, 8, 40, 41, rng.range(1, 300)]);
    const tail = rng.int(2) === 0 ? new Uint8Array(n) : rng.bytes(n);
    return { bytes: concat(b, tail), what: `append ${n}` };
  },
  insert(b, rng) {
    const i = at(b, rng);
    const n = rng.range(1, 16);
    return { bytes: concat(b.subarray(0, i), rng.bytes(n), b.subarray(i)), what: `insert ${n} at ${i}` };
  },
  remove(b, rng) {
    const i = at(b, rng);
    const n = rng.range(1, 16);
    return { bytes: concat(b.subarray(0, i), b.subarray(Math.min(b.length, i + n))), what: `delete ${n} at ${i}` };
  },
  duplicate(b, rng) {
    const i = at(b, rng);
    const n = rng.range(1, 64);
    const piece = b.subarray(i, i + n);
    return { bytes: concat(b.subarray(0, i), piece, b.subarray(i)), what: `repeat ${piece.length} at ${i}` };
  },
  copyWithin(b, rng) {
    const out = b.slice();
    const from = at(b, rng);
    const to = at(b, rng);
    const n = rng.range(1, 32);
    out.copyWithin(to, from, from + n);
    return { bytes: out, what: `copy ${n} from ${from} to ${to}` };
  },
  splice(b, rng, donors) {
    const d = rng.pick(donors);
    const i = at(b, rng);
    const j = rng.int(d.length + 1);
    return { bytes: concat(b.subarray(0, i), d.subarray(j)), what: `splice ${i} of this + donor from ${j}` };
  },
  overwrite(b, rng, donors) {
    const d = rng.pick(donors);
    const out = b.slice();
    if (out.length === 0 || d.length === 0) return { bytes: out, what: 'overwrite (empty)' };
    const i = at(b, rng);
    const j = rng.int(d.length);
    const n = Math.min(rng.range(1, 64), out.length - i, d.length - j);
    out.set(d.subarray(j, j + n), i);
    return { bytes: out, what: `overwrite ${n} at ${i} from donor ${j}` };
  },
};

const OP_NAMES = Object.keys(OPS);

/**
 * Applies 1 to 4 stacked mutations (mostly one: most inputs should be near-valid) to `input`.
 * @param donors other inputs of the same kind, for splices
 */
export function mutate(input: Uint8Array, rng: Rng, donors: readonly Uint8Array[]): Mutant {
  const count = rng.pick([1, 1, 1, 1, 2, 2, 3, 4]);
  let bytes = input;
  const what: string[] = [];
  for (let k = 0; k < count; k++) {
    const m = OPS[rng.pick(OP_NAMES)](bytes, rng, donors.length > 0 ? donors : [input]);
    bytes = m.bytes;
    what.push(m.what);
  }
  return { bytes, what: what.join('; ') };
}
