// Malformed safetensors inputs (FORMAT.md §4.4 rules): compressBuffer with `strict` must reject each one with
// BAD_SAFETENSORS (LIMIT_EXCEEDED for a size above a limit), the right error class, the file name and an offset in
// the file; without `strict` it stores the file as one byte segment, bit-exact, with a warning carrying that error.

import '../src/io/node-sha256.js';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer, compressBufferWithWarnings, decompressBuffer } from '../src/api/buffers.js';
import { compressFile, decompressFile } from '../src/node/file-api.js';
import { WcodecError, errorClassFor, type ErrorCode } from '../src/errors.js';
import { MAX_JSON_DEPTH, MAX_SAFETENSORS_HEADER_BYTES } from '../src/format/constants.js';
import { parseStrictJson, JsonProblem } from '../src/safetensors/strict-json.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { assembleSafetensors, buildSafetensors } from './helpers/safetensors-builder.js';
import { HEADER_FORMS } from './helpers/safetensors-forms.js';

const FILE = 'bad.safetensors';

/** A tensor entry as JSON text. */
const entry = (dtype: unknown, shape: unknown, offsets: unknown): string => JSON.stringify({ dtype, shape, data_offsets: offsets });

/** A file from a header text (padded to 8) and `dataBytes` bytes of data. */
const file = (header: string, dataBytes: number, options: { headerLength?: number | bigint; align?: boolean } = {}): Uint8Array =>
  assembleSafetensors(header, new Uint8Array(dataBytes).fill(0x3c), options);

/** Where the data starts in a file made by `file(header, ...)` with alignment. */
const dataStart = (header: string): number => {
  const n = new TextEncoder().encode(header).length;
  return 8 + n + ((8 - ((8 + n) % 8)) % 8);
};

/** Checks `e` is the `code` error for `bytes`, naming FILE and an offset in the file (`offset` when given). */
function checkError(e: unknown, bytes: Uint8Array, code: ErrorCode, what: string, offset?: number): true {
  assert.ok(e instanceof WcodecError, `${what}: threw ${String(e)}, not a WcodecError`);
  assert.equal(e.code, code, `${what}: ${e.message}`);
  assert.ok(e instanceof errorClassFor(code), `${what}: ${e.name} is not the class for ${code}`);
  assert.equal(e.file, FILE, `${what}: error names file ${e.file}`);
  assert.equal(typeof e.offset, 'number', `${what}: no offset (${e.message})`);
  assert.ok(Number.isSafeInteger(e.offset) && e.offset! >= 0 && e.offset! <= bytes.length, `${what}: offset ${e.offset} outside the ${bytes.length}-byte file`);
  if (offset !== undefined) assert.equal(e.offset, offset, `${what}: ${e.message}`);
  return true;
}

/** Without `strict`: one byte segment (none for an empty file), decoding to `bytes`, and one warning with the error. */
async function expectStoredAsBytes(bytes: Uint8Array, code: ErrorCode, what: string, offset?: number): Promise<void> {
  const { bytes: container, warnings } = await compressBufferWithWarnings(bytes, { name: FILE });
  assert.equal(warnings.length, 1, `${what}: ${warnings.length} warnings`);
  assert.equal(warnings[0].path, FILE);
  assert.match(warnings[0].message, new RegExp(`${code}.*${FILE.replace('.', '\\.')}`), `${what}: ${warnings[0].message}`);
  checkError(warnings[0].error, bytes, code, what, offset);
  const reader = await ContainerReader.open(new MemorySource(container));
  assert.deepEqual(reader.index.members[0].segments.map((seg) => seg.kind), bytes.length > 0 ? ['bytes'] : [], `${what}: segments`);
  assert.deepEqual(await decompressBuffer(container), bytes, `${what}: round trip`);
}

/** Refused with `code` under `strict`, stored as bytes with a warning without it. */
async function expectReject(bytes: Uint8Array, code: ErrorCode, what: string, offset?: number): Promise<void> {
  await assert.rejects(compressBuffer(bytes, { name: FILE, strict: true }), (e: unknown) => checkError(e, bytes, code, what, offset), what);
  await expectStoredAsBytes(bytes, code, what, offset);
}

describe('malformed safetensors: the length prefix and the header bytes', () => {
  test('a file shorter than 8 bytes (every length 0..7)', async () => {
    for (let n = 0; n < 8; n++) await expectReject(new Uint8Array(n), 'BAD_SAFETENSORS', `${n}-byte file`, 0);
  });

  test('a header length beyond the end of the file', async () => {
    const ok = file('{}', 0);
    await expectReject(file('{}', 0, { headerLength: ok.length - 7 }), 'BAD_SAFETENSORS', 'one byte past the end', 0);
    await expectReject(file('{}', 0, { headerLength: MAX_SAFETENSORS_HEADER_BYTES }), 'BAD_SAFETENSORS', 'exactly the limit, past the end', 0);
  });

  test('a header length above 100,000,000 is LIMIT_EXCEEDED (before any allocation)', async () => {
    for (const n of [MAX_SAFETENSORS_HEADER_BYTES + 1, 2 ** 40, 0xffffffffffffffffn]) {
      await expectReject(file('{}', 0, { headerLength: n }), 'LIMIT_EXCEEDED', `header length ${n}`, 0);
    }
  });

  test('a header too short for an object (lengths 0 and 1)', async () => {
    await expectReject(assembleSafetensors('', new Uint8Array(0), { align: false }), 'BAD_SAFETENSORS', 'length 0', 0);
    await expectReject(assembleSafetensors('{', new Uint8Array(0), { align: false }), 'BAD_SAFETENSORS', 'length 1', 0);
  });

  test("a header that does not start with '{'", async () => {
    for (const h of ['[]', ' {}', '\n{}', 'null', '"{}"', '\ufeff{}']) await expectReject(file(h, 0), 'BAD_SAFETENSORS', JSON.stringify(h), 8);
  });

  test('a header that is not valid UTF-8', async () => {
    const good = new TextEncoder().encode(`{"a":${entry('U8', [1], [0, 1])}}`);
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const h = new Uint8Array([...good.subarray(0, 2), ...bad, ...good.subarray(3)]); // inside the name "a"
      await expectReject(assembleSafetensors(h, new Uint8Array(1)), 'BAD_SAFETENSORS', `bytes ${bad}`, 8);
    }
  });

  test('bad JSON: the offset points into the header', async () => {
    const cases = ['{"a":}', '{"a":1,}', '{} {}', '{"a":"x', "{'a':1}", '{"a":NaN}', '{"a":"\u0001"}', '{"a" 1}', '{"a":01}', '{"a":[1,]}', '{"a":"\\x41"}', '{a:1}'];
    for (const h of cases) {
      const bytes = file(h, 0);
      await assert.rejects(compressBuffer(bytes, { name: FILE, strict: true }), (e: unknown) => {
        assert.ok(e instanceof WcodecError && e.code === 'BAD_SAFETENSORS', `${h}: ${String(e)}`);
        assert.ok(e.offset! >= 8 && e.offset! <= bytes.length, `${h}: offset ${e.offset} outside the header`);
        return true;
      });
    }
  });

  test('duplicate keys: tensor names, escaped spellings of one name, __metadata__; offset at the second key, in bytes', async () => {
    const t = entry('U8', [1], [0, 1]);
    const t2 = entry('U8', [1], [1, 2]);
    const cases: [string, string][] = [
      [`{"a":${t},"a":${t2}}`, '"a"'],
      [`{"a":${t},"\\u0061":${t2}}`, '"\\u0061"'],
      [`{"é":${t},"é":${t2}}`, '"é"'],
      [`{"__metadata__":{},"a":${t},"__metadata__":{"x":"y"},"b":${t2}}`, '"__metadata__"'],
      [`{"__metadata__":{"k":"1","k":"2"},"a":${t},"b":${t2}}`, '"k"'],
    ];
    for (const [h, key] of cases) {
      const secondAt = h.indexOf(key, h.indexOf(key.startsWith('"\\') ? '"a"' : key) + 1);
      const byteAt = 8 + new TextEncoder().encode(h.slice(0, secondAt)).length;
      await expectReject(file(h, 2), 'BAD_SAFETENSORS', h, byteAt);
    }
  });

  test(`nesting deeper than ${MAX_JSON_DEPTH} is rejected without exhausting the stack`, async () => {
    for (const depth of [MAX_JSON_DEPTH + 2, 10_000, 200_000]) {
      const h = `{"__metadata__":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      await expectReject(file(h, 0), 'BAD_SAFETENSORS', `depth ${depth}`);
    }
  });
});

describe('strict JSON parser', () => {
  test(`accepts ${MAX_JSON_DEPTH} levels below the top, rejects one more`, () => {
    const nested = (k: number): string => '['.repeat(k) + ']'.repeat(k);
    assert.deepEqual(parseStrictJson(nested(MAX_JSON_DEPTH + 1)), JSON.parse(nested(MAX_JSON_DEPTH + 1)));
    assert.throws(() => parseStrictJson(nested(MAX_JSON_DEPTH + 2)), JsonProblem);
  });

  test('parses like JSON.parse where JSON.parse is unambiguous, keeps key order, rejects what it must', () => {
    for (const s of ['{}', '[]', '0', '-0.5e-3', '"\\ud83d\\ude00 \\n \\" \\\\"', ' { "b" : [1, {"c": null}], "a": true, "__proto__": false } ', '{"x":1.0E+2}']) {
      const v = parseStrictJson(s);
      assert.equal(JSON.stringify(v), JSON.stringify(JSON.parse(s)), s);
    }
    assert.deepEqual(Object.keys(parseStrictJson('{"z":1,"a":2,"m":3}') as object), ['z', 'a', 'm']);
    const proto = parseStrictJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(proto, '__proto__'), '__proto__ is an own key');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    for (const s of ['', ' ', '{', '{"a":1', '[1 2]', 'tru', '{"a":1}x', '{"a":1,"a":2}', '"abc', '+1', '.5', '1.', '{"a"}']) {
      assert.throws(() => parseStrictJson(s), JsonProblem, JSON.stringify(s));
    }
  });
});

describe('malformed safetensors: tensor entries', () => {
  /** A header with tensor `a` (given as text) plus a valid 4-byte U8 tensor `z` after it. */
  const withA = (a: string, aBytes: number): Uint8Array => {
    const h = `{"a":${a},"z":${entry('U8', [4], [aBytes, aBytes + 4])}}`;
    return file(h, aBytes + 4);
  };

  test('dtype missing, empty, not a string, longer than 32 bytes', async () => {
    await expectReject(withA(JSON.stringify({ shape: [2], data_offsets: [0, 2] }), 2), 'BAD_SAFETENSORS', 'no dtype', 8);
    await expectReject(withA(entry('', [2], [0, 2]), 2), 'BAD_SAFETENSORS', 'empty dtype', 8);
    await expectReject(withA(entry(5, [2], [0, 2]), 2), 'BAD_SAFETENSORS', 'numeric dtype', 8);
    await expectReject(withA(entry(null, [2], [0, 2]), 2), 'BAD_SAFETENSORS', 'null dtype', 8);
    await expectReject(withA(entry('X'.repeat(33), [2], [0, 2]), 2), 'BAD_SAFETENSORS', '33-byte dtype', 8);
  });

  test('shape: negative, fractional, non-numeric, missing, not an array, rank above 32', async () => {
    for (const shape of [[-1], [2, -1], [1.5], ['2'], [null], [[2]], [true], null, 2, '2', { 0: 2 }, undefined]) {
      await expectReject(withA(entry('U8', shape, [0, 2]), 2), 'BAD_SAFETENSORS', `shape ${JSON.stringify(shape)}`, 8);
    }
    // The safetensors library sets no bound on rank; the index does (MAX_RANK): an array longer than that is refused
    // while parsing, at its 33rd item, as beyond wcodec's bounds.
    const h = `{"a":${entry('U8', new Array(33).fill(1), [0, 1])}}`;
    await expectReject(file(h, 1), 'LIMIT_EXCEEDED', 'rank 33', 8 + h.indexOf('[1,') + 1 + 32 * 2);
  });

  test('shape product overflowing 64 bits, or not matching data_offsets', async () => {
    for (const shape of [[2 ** 31, 2 ** 31, 2 ** 31], [2 ** 53 - 1, 2], [65536, 65536, 65536, 65536]]) {
      await expectReject(withA(entry('U8', shape, [0, 2]), 2), 'BAD_SAFETENSORS', `shape ${JSON.stringify(shape)}`, 8);
    }
    await expectReject(withA(entry('U8', [2 ** 53], [0, 2]), 2), 'BAD_SAFETENSORS', 'a dimension of 2^53', 8);
  });

  test('shape x dtype size disagreeing with data_offsets', async () => {
    await expectReject(withA(entry('F32', [3], [0, 8]), 8), 'BAD_SAFETENSORS', 'F32[3] in 8 bytes', 8);
    await expectReject(withA(entry('BF16', [2, 2], [0, 10]), 10), 'BAD_SAFETENSORS', 'BF16[2,2] in 10 bytes', 8);
    await expectReject(withA(entry('F64', [], [0, 0]), 0), 'BAD_SAFETENSORS', 'F64 scalar in 0 bytes', 8);
    await expectReject(withA(entry('U8', [0], [0, 1]), 1), 'BAD_SAFETENSORS', 'U8[0] in 1 byte', 8);
  });

  test('dtypes the safetensors library does not know are refused; sub-byte and complex dtypes are sized exactly', async () => {
    for (const dtype of ['Q4_0', 'X', 'f32', 'F8_E4M3FN', 'C128', 'STR']) {
      await expectReject(withA(entry(dtype, [0], [0, 0]), 0), 'BAD_SAFETENSORS', `dtype ${dtype}`, 8);
    }
    await expectReject(withA(entry('F4', [4, 0], [0, 1]), 1), 'BAD_SAFETENSORS', 'F4[4,0] in 1 byte', 8);
    await expectReject(withA(entry('F4', [8], [0, 0]), 0), 'BAD_SAFETENSORS', 'F4[8] in 0 bytes', 8);
    await expectReject(withA(entry('F4', [3], [0, 2]), 2), 'BAD_SAFETENSORS', 'F4[3]: 12 bits, not whole bytes', 8);
    await expectReject(withA(entry('F6_E2M3', [3], [0, 3]), 3), 'BAD_SAFETENSORS', 'F6_E2M3[3]: 18 bits', 8);
    await expectReject(withA(entry('C64', [], [0, 0]), 0), 'BAD_SAFETENSORS', 'C64 scalar in 0 bytes', 8);
    for (const [dtype, shape, bytes] of [['F4', [8], 4], ['F6_E3M2', [4], 3], ['C64', [2], 16], ['F8_E8M0', [3], 3], ['F8_E5M2FNUZ', [0], 0]] as const) {
      const f = withA(entry(dtype, shape, [0, bytes]), bytes);
      const { bytes: c, warnings } = await compressBufferWithWarnings(f, { name: FILE, strict: true });
      assert.deepEqual(warnings, []);
      const reader = await ContainerReader.open(new MemorySource(c));
      assert.deepEqual(reader.index.members[0].segments.map((seg) => seg.dtype), ['', dtype, 'U8'], `${dtype}[${shape}] split`);
      assert.deepEqual(await decompressBuffer(c), f, `${dtype}[${shape}] in ${bytes} bytes`);
    }
  });

  test('data_offsets: out of range, begin > end, negative, fractional, wrong arity, missing, huge', async () => {
    const h = (a: string): string => `{"a":${a}}`;
    const oor = h(entry('U8', [4], [0, 4]));
    await expectReject(file(oor, 3), 'BAD_SAFETENSORS', 'end one past the data', dataStart(oor));
    const far = h(entry('U8', [1], [2 ** 40, 2 ** 40 + 1]));
    await expectReject(file(far, 1), 'BAD_SAFETENSORS', 'begin far past the data', dataStart(far));
    for (const offsets of [[4, 2], [-1, 1], [0.5, 1.5], [0], [0, 1, 2], null, '0,1', [0, 2 ** 53], [0, '1']]) {
      await expectReject(file(h(entry('U8', [1], offsets)), 4), 'BAD_SAFETENSORS', `data_offsets ${JSON.stringify(offsets)}`);
    }
    await expectReject(file(h(JSON.stringify({ dtype: 'U8', shape: [1] })), 1), 'BAD_SAFETENSORS', 'no data_offsets', 8);
  });

  test('overlapping tensors: offset is the later tensor start', async () => {
    const h = `{"a":${entry('U8', [4], [0, 4])},"b":${entry('U8', [4], [2, 6])}}`;
    await expectReject(file(h, 6), 'BAD_SAFETENSORS', 'b inside a', dataStart(h) + 2);
    const same = `{"a":${entry('U16', [2], [0, 4])},"b":${entry('I16', [2], [0, 4])}}`;
    await expectReject(file(same, 4), 'BAD_SAFETENSORS', 'two tensors on the same bytes', dataStart(same));
    const zeroInside = `{"a":${entry('U8', [4], [0, 4])},"z":${entry('U8', [0], [2, 2])}}`;
    await expectReject(file(zeroInside, 4), 'BAD_SAFETENSORS', 'a zero-size tensor inside another', dataStart(zeroInside) + 2);
  });

  test('a hole between tensors, before the first, and bytes after the last', async () => {
    const hole = `{"a":${entry('U8', [2], [0, 2])},"b":${entry('U8', [2], [3, 5])}}`;
    await expectReject(file(hole, 5), 'BAD_SAFETENSORS', 'a 1-byte hole', dataStart(hole) + 2);
    const lead = `{"a":${entry('U8', [2], [1, 3])}}`;
    await expectReject(file(lead, 3), 'BAD_SAFETENSORS', 'a hole before the first tensor', dataStart(lead));
    const tail = `{"a":${entry('U8', [2], [0, 2])}}`;
    await expectReject(file(tail, 3), 'BAD_SAFETENSORS', 'a trailing byte', dataStart(tail) + 2);
    await expectReject(file('{}', 1), 'BAD_SAFETENSORS', 'data with no tensors', dataStart('{}'));
  });

  test('entries that are not objects, unknown fields, __metadata__ that is not string to string', async () => {
    const cases = [
      `{"a":[1,2]}`,
      `{"a":"U8"}`,
      `{"a":null}`,
      `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}`,
      `{"__metadata__":"x","a":${entry('U8', [1], [0, 1])}}`,
      `{"__metadata__":[],"a":${entry('U8', [1], [0, 1])}}`,
      `{"__metadata__":{"n":1},"a":${entry('U8', [1], [0, 1])}}`,
      `{"__metadata__":{"n":{"deep":"x"}},"a":${entry('U8', [1], [0, 1])}}`,
    ];
    for (const h of cases) await expectReject(file(h, 1), 'BAD_SAFETENSORS', h, 8);
  });

  test('an input the container cannot record is refused when compressing, not when decompressing', async () => {
    // Tensor names are limited to MAX_NAME_BYTES (4096) UTF-8 bytes and dtypes to 32 UTF-8 bytes in the index.
    const d = new Uint8Array(4);
    for (const name of ['n'.repeat(4097), 'é'.repeat(2049), 'x'.repeat(70_000)]) {
      await expectReject(buildSafetensors([{ name, dtype: 'F32', shape: [1], data: d }]).bytes, 'LIMIT_EXCEEDED', `${new TextEncoder().encode(name).length}-byte name`, 8);
    }
    // At the limit, the container decodes.
    for (const [name, dtype] of [['é'.repeat(2048), 'F32']]) {
      const bytes = buildSafetensors([{ name, dtype, shape: [1], data: d }]).bytes;
      assert.deepEqual(await decompressBuffer(await compressBuffer(bytes)), bytes);
    }
  });

  // A name holding an unpaired surrogate escape ("a\ud800b") cannot be written to the UTF-8 index as itself (it
  // would become "a\ufffdb" and no longer be found by its own name); serde_json (the safetensors library) refuses
  // such a header, and so do we.
  test('a tensor name that is not well-formed Unicode is refused, or recorded exactly', async () => {
    const bytes = buildSafetensors([{ name: 'a\ud800b', dtype: 'U8', shape: [1], data: new Uint8Array(1) }]).bytes;
    let container: Uint8Array;
    try {
      container = await compressBuffer(bytes, { name: FILE, strict: true });
    } catch (e) {
      assert.ok(e instanceof WcodecError && e.code === 'BAD_SAFETENSORS', String(e));
      return;
    }
    const reader = await ContainerReader.open(new MemorySource(container));
    assert.deepEqual(reader.index.members[0].segments.map((seg) => seg.name), ['', 'a\ud800b']);
  });
});

// Each row was checked against the safetensors library (its Python binding, safetensors 0.8.0, deserialize()).
describe('header forms, as the safetensors library reads them (FORMAT.md §4.4)', () => {
  for (const form of HEADER_FORMS) {
    test(`${form.what}: the library ${form.reference === 'accepts' ? 'loads' : 'refuses'} it; wcodec ${form.wcodec === 'split' ? 'splits it' : `stores it as bytes (${form.wcodec})`}`, async () => {
      const bytes = file(form.header, form.dataBytes);
      if (form.wcodec !== 'split') {
        assert.notEqual(form.reference === 'refuses' && form.wcodec === 'LIMIT_EXCEEDED', true, 'a refused file is BAD_SAFETENSORS');
        return expectReject(bytes, form.wcodec, form.what);
      }
      assert.equal(form.reference, 'accepts', 'wcodec splits only what the library loads');
      const { bytes: container, warnings } = await compressBufferWithWarnings(bytes, { name: FILE, strict: true });
      assert.deepEqual(warnings, []);
      const segments = (await ContainerReader.open(new MemorySource(container))).index.members[0].segments;
      assert.equal(segments[0].kind, 'bytes');
      assert.ok(segments.slice(1).every((seg) => seg.kind === 'tensor'));
      assert.deepEqual(await decompressBuffer(container), bytes);
    });
  }
});

describe('a folder with a non-conforming .safetensors file', () => {
  test('is compressed, that file stored as bytes with a warning; with strict it is refused and no output appears', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wcodec-st-folder-'));
    try {
      const model = join(dir, 'model');
      await mkdir(model);
      const good = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(8).fill(7) }]).bytes;
      const bad = file(one0('[0.0,4]'), 4); // an offset written 0.0: the safetensors library refuses it
      await writeFile(join(model, 'a.safetensors'), good);
      await writeFile(join(model, 'b.safetensors'), bad);
      await writeFile(join(model, 'config.json'), '{}');
      const res = await compressFile(model, join(dir, 'm.wcodec'));
      assert.deepEqual(res.warnings.map((w) => [w.path, w.error.code, w.error.offset]), [['b.safetensors', 'BAD_SAFETENSORS', 8]]);
      assert.match(res.warnings[0].message, /b\.safetensors at offset 8.*stored as plain bytes/);
      const kinds = Object.fromEntries(res.index.members.map((m) => [m.path, m.segments.map((s) => s.kind).join(',')]));
      assert.deepEqual(kinds, { 'a.safetensors': 'bytes,tensor', 'b.safetensors': 'bytes', 'config.json': 'bytes' });
      await decompressFile(join(dir, 'm.wcodec'), join(dir, 'out'));
      assert.deepEqual(new Uint8Array(await readFile(join(dir, 'out', 'b.safetensors'))), bad);
      await assert.rejects(compressFile(model, join(dir, 's.wcodec'), { strict: true }), (e: unknown) =>
        e instanceof WcodecError && e.code === 'BAD_SAFETENSORS' && e.offset === 8 && /b\.safetensors$/.test(e.file ?? ''));
      assert.equal(existsSync(join(dir, 's.wcodec')), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A header with one F32 [1] tensor `a` whose data_offsets are written as `offsets`. */
function one0(offsets: string): string {
  return `{"a":{"dtype":"F32","shape":[1],"data_offsets":${offsets}}}`;
}
