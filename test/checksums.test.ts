// CRC-32C (FORMAT.md §7) against its published check value and a bitwise reference, incremental against
// one-shot; the portable SHA-256 against node:crypto at every padding boundary and over split updates.

import '../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { crc32c, updateCrc32c } from '../src/format/crc32c.js';
import { PortableSha256, createSha256, sha256, toHex } from '../src/format/sha256.js';
import { Rng, testSeed } from './helpers/prng.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const nodeSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Bit-at-a-time CRC-32C, written from the definition: the reference the table-driven code must match. */
function crc32cReference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  test('check value: crc32c("123456789") = 0xE3069283', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
  });

  test('known values: empty input, 32 zero bytes, 32 0xFF bytes (RFC 3720 B.4)', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  });

  test('equals the bitwise reference at every length 0..100 (slicing-by-8 fast path and tail)', () => {
    const rng = new Rng(testSeed(0xc0c1));
    const data = rng.bytes(100);
    for (let n = 0; n <= 100; n++) {
      assert.equal(crc32c(data.subarray(n)), crc32cReference(data.subarray(n)), `length ${100 - n}, seed ${rng.seed}`);
    }
  });

  test('incremental equals one-shot over random splits, including empty pieces and unaligned views', () => {
    const rng = new Rng(testSeed(0xc0c2));
    for (let trial = 0; trial < 200; trial++) {
      const n = rng.int(3000);
      const data = rng.bytes(n + 3).subarray(rng.int(4)).subarray(0, n); // a view at an odd byte offset
      const whole = crc32c(data);
      let c = 0;
      for (let at = 0; at < n; ) {
        const take = Math.min(n - at, rng.pick([0, 1, 3, 7, 8, 9, 64, rng.int(500)]));
        c = updateCrc32c(c, data.subarray(at, at + take));
        at += take;
      }
      c = updateCrc32c(c, new Uint8Array(0));
      assert.equal(c, whole, `trial ${trial}, ${n} bytes, seed ${rng.seed}`);
    }
  });

  test('detects every single-bit flip of a 64-byte message', () => {
    const rng = new Rng(testSeed(0xc0c3));
    const data = rng.bytes(64);
    const base = crc32c(data);
    for (let bit = 0; bit < 64 * 8; bit++) {
      data[bit >> 3] ^= 1 << (bit & 7);
      assert.notEqual(crc32c(data), base, `bit ${bit}`);
      data[bit >> 3] ^= 1 << (bit & 7);
    }
  });
});

describe('sha256', () => {
  test('FIPS 180-4 examples: "", "abc", the 448-bit message', () => {
    const one = (s: string): string => {
      const h = new PortableSha256();
      h.update(ascii(s));
      return toHex(h.digest());
    };
    assert.equal(one(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(one('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(one('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  test('PortableSha256 equals node:crypto at the padding boundaries and up to 1 MB', () => {
    const rng = new Rng(testSeed(0x5a51));
    const sizes = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65537, 1 << 20];
    for (let k = 0; k < 20; k++) sizes.push(rng.int(5000));
    for (const n of sizes) {
      const data = rng.bytes(n);
      const h = new PortableSha256();
      h.update(data);
      assert.equal(toHex(h.digest()), nodeSha(data), `${n} bytes, seed ${rng.seed}`);
    }
  });

  test('PortableSha256 over split updates (empty, 1-byte, block-straddling pieces) equals one-shot', () => {
    const rng = new Rng(testSeed(0x5a52));
    for (let trial = 0; trial < 150; trial++) {
      const n = trial < 10 ? [0, 55, 56, 63, 64, 65, 127, 128, 129, 200][trial] : rng.int(2000);
      const data = rng.bytes(n);
      const h = new PortableSha256();
      for (let at = 0; at <= n; ) {
        const take = Math.min(n - at, rng.pick([0, 1, 2, 55, 56, 63, 64, 65, rng.int(300)]));
        h.update(data.subarray(at, at + take));
        at += take;
        if (at === n && rng.int(2) === 0) break;
        if (at === n) {
          h.update(new Uint8Array(0));
          break;
        }
      }
      assert.equal(toHex(h.digest()), nodeSha(data), `trial ${trial}, ${n} bytes, seed ${rng.seed}`);
    }
  });

  test('the registered (node:crypto) hasher and the sha256 helper give the same digests', () => {
    const rng = new Rng(testSeed(0x5a53));
    for (const n of [0, 1, 64, 1000, 100_000]) {
      const data = rng.bytes(n);
      const h = createSha256();
      h.update(data.subarray(0, n >> 1));
      h.update(data.subarray(n >> 1));
      const p = new PortableSha256();
      p.update(data);
      assert.equal(toHex(h.digest()), toHex(p.digest()), `${n} bytes`);
      assert.equal(toHex(sha256(data)), nodeSha(data));
    }
  });
});
