// The golden (valid) test vectors: what each one holds and the encoder coverage it must show (tools/make-vectors.ts).
// Each vector draws its data from its own PRNG, seeded from its name, so adding a vector changes no other.

import type { ContainerIndex, ContainerKind, MemberAttributes, SegmentRecord } from '../../src/pipeline/index-codec.js';
import { CONFIG_JSON, Prng, SPECIAL_BF16, SPECIAL_F16, SPECIAL_F32, SPECIAL_F64, bf16Bits, bf16s, buildSafetensors, f16Bits, f16s, f32Bits, f32s, f64s, gridValues, le, sparseBf16, times, type TensorInput } from './inputs.js';
import { indexIsCoded, segmentsOf, tensor } from './surgery.js';
import type { MemberFormat, RawArray } from '../../src/pipeline/member-format.js';
import { buildNpy } from '../npy-file.js';
import { buildGguf, GGUF } from '../gguf-file.js';
import { buildOnnx, ONNX_TYPE } from '../onnx-file.js';
import type { LossyOptions } from '../../src/pipeline/container-writer.js';
import { quantizeRoundToNearest } from '../../src/lossy/round-to-nearest.js';
import { quantizeFp8 } from '../../src/lossy/quantize-fp8.js';
import { applyMask, pruneMask } from '../../src/lossy/prune-mask.js';
import { LEVELS_E4M3, LEVELS_E5M2 } from '../../src/transform/fp8-levels.js';
import { SPARSITY_2_4, type QuantizedMatrix } from '../../src/transform/group-quant.js';

/** One original file of a valid vector. */
export interface MemberInput {
  path: string;
  bytes: Uint8Array;
  safetensors: boolean;
  /** How to split it (version 5: 'gguf', 'onnx'); overrides `safetensors` when given. */
  format?: MemberFormat;
  /** Split it with dtypes the safetensors library does not know kept as opaque bytes (readSafetensorsLayout's opaqueDtypes). */
  opaqueDtypes?: boolean;
  /** Version 3 member record fields (FORMAT.md §3.2): type, mode, mtimeUs, raw path bytes. */
  attrs?: MemberAttributes;
  /** Version 9: store it as a raw array of this dtype and shape (FORMAT.md §4.9); overrides `format`. */
  array?: RawArray;
}

/** A valid vector: its members, encoder options and the coverage it must show. */
export interface ValidSpec {
  name: string;
  description: string;
  kind: ContainerKind;
  chunkBytes?: number;
  /** Format version 2 modes (duplicates, value transforms) on; the version 1 vectors are made without them. */
  transforms?: boolean;
  /**
   * The encoder's `formatVersion`: 3 for the `v3-` vectors, 4 for the `v4-` vectors, 5 for the `v5-` vectors; the others are made with 2
   * (version 1 unless a transform or Huffman plane needs 2), as they were released.
   */
  formatVersion?: 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;
  /** The encoder's quantizer (the `v6-` vectors: lossy GROUP_QUANT segments, FORMAT.md §3.5.3.5). */
  lossy?: LossyOptions;
  /** The `huffman` encoder option (format version 2: Huffman-coded exponent planes, §5.4). */
  huffman?: boolean;
  /** A safetensors file the vector's XOR deltas are coded against (written beside it as `<name>.ref.safetensors`). */
  reference?: Uint8Array;
  members: MemberInput[];
  /** Checks that the encoder produced the coverage this vector is for; returns the problem, if any. */
  expect?: (index: ContainerIndex, container: Uint8Array) => string | undefined;
}

/** Number of rANS-coded planes of a segment. */
export const codedPlanes = (s: SegmentRecord): number => s.coding.tables.filter((t) => t).length;
/** A segment's plane layout as text: head planes as lo+width ranges joined by |, byte planes as bN. */
export const rangesOf = (s: SegmentRecord): string =>
  s.coding.layout.planes.map((p) => (p.kind === 'byte' ? `b${p.byteIndex}` : p.ranges.map((r) => `${r.lo}+${r.width}`).join('|'))).join(' ');

/** Problems found by `checks` (each a [condition, message] pair), joined; undefined when all hold. */
export function problems(...checks: [boolean, string][]): string | undefined {
  const bad = checks.filter(([ok]) => !ok).map(([, m]) => m);
  return bad.length > 0 ? bad.join('; ') : undefined;
}

/** Every valid vector, in manifest order. */
export function validSpecs(): ValidSpec[] {
  const specs: ValidSpec[] = [];
  const add = (s: ValidSpec): void => void specs.push(s);

  add({
    name: 'empty-file',
    description: 'single-file container of one 0-byte non-safetensors member: no segments, no chunks',
    kind: 'file',
    members: [{ path: 'empty.bin', bytes: new Uint8Array(0), safetensors: false }],
    expect: (ix) => problems([ix.members[0].segments.length === 0, 'an empty member has no segments']),
  });

  add({
    name: 'bytes-text',
    description: 'one non-safetensors file (a config.json) as a single rANS-coded byte segment',
    kind: 'file',
    members: [{ path: 'config.json', bytes: new TextEncoder().encode(CONFIG_JSON), safetensors: false }],
    expect: (ix) => problems([segmentsOf(ix).length === 1 && codedPlanes(segmentsOf(ix)[0]) === 1, 'the text is one rANS-coded byte segment']),
  });

  add({
    name: 'bytes-raw',
    description: '37 random bytes: a byte segment stored raw (coding would cost more than it saves)',
    kind: 'file',
    members: [{ path: 'blob.bin', bytes: Prng.forName('bytes-raw').bytes(37), safetensors: false }],
    expect: (ix) => problems([segmentsOf(ix).length === 1 && codedPlanes(segmentsOf(ix)[0]) === 0, 'random bytes are stored raw']),
  });

  {
    const rng = Prng.forName('bf16-single');
    const st = buildSafetensors([{ name: 'weight', dtype: 'BF16', shape: [16, 16], data: bf16s(times(256, () => rng.gauss() * 0.02)) }], { format: 'pt' });
    add({
      name: 'bf16-single',
      description: 'safetensors with __metadata__ and one BF16 [16,16] gaussian tensor: exponent plane rANS-coded, sign+mantissa plane raw',
      kind: 'file',
      members: [{ path: 'model.safetensors', bytes: st, safetensors: true }],
      expect: (ix) => {
        const w = tensor(ix, 'weight');
        return problems([w !== undefined && rangesOf(w) === '7+8 15+1|0+7' && codedPlanes(w) === 1, `weight layout ${w && rangesOf(w)}`]);
      },
    });
  }

  {
    const rng = Prng.forName('mixed-dtypes');
    const tensors: TensorInput[] = [
      { name: 'layers.0.attn.q_proj.weight', dtype: 'F32', shape: [8, 8], data: f32s(times(64, () => rng.gauss() * 0.05)) },
      { name: 'position_ids', dtype: 'U64', shape: [12], data: le(8, [...times(10, (i) => BigInt(i)), 2n ** 53n + 1n, 2n ** 64n - 1n]) },
      { name: 'layers.0.norm.weight', dtype: 'F16', shape: [64], data: f16s(times(64, () => 1 + rng.gauss() * 0.1)) },
      { name: 'layers.0.quant.codes', dtype: 'I8', shape: [10, 10], data: le(1, times(100, () => Math.max(-128, Math.min(127, Math.round(rng.gauss() * 20))))) },
      { name: 'layers.0.mask', dtype: 'BOOL', shape: [37], data: le(1, times(37, () => (rng.uniform() < 0.3 ? 1 : 0))) },
    ];
    const headerOrder = tensors.map((t) => t.name).sort();
    add({
      name: 'mixed-dtypes',
      description: 'safetensors with F32, U64 (incl. 2^53+1 and 2^64-1), F16, I8 and BOOL tensors; header keys sorted, data in another order',
      kind: 'file',
      members: [{ path: 'model.safetensors', bytes: buildSafetensors(tensors, undefined, headerOrder), safetensors: true }],
      expect: (ix) => {
        const order = segmentsOf(ix).filter((s) => s.kind === 'tensor').map((s) => s.dtype).join(',');
        return problems([order === 'F32,U64,F16,I8,BOOL', `segments follow file order (got ${order})`]);
      },
    });
  }

  add({
    name: 'scalar-0d',
    description: 'safetensors with 0-d tensors (shape []): F32, BF16 and I64 scalars, one value each',
    kind: 'file',
    members: [
      {
        path: 'model.safetensors',
        safetensors: true,
        bytes: buildSafetensors([
          { name: 'temperature', dtype: 'F32', shape: [], data: f32s([0.7071067811865476]) },
          { name: 'scale', dtype: 'BF16', shape: [], data: bf16s([-3.140625]) },
          { name: 'step', dtype: 'I64', shape: [], data: le(8, [123456789012345n]) },
        ]),
      },
    ],
    expect: (ix) => problems([segmentsOf(ix).filter((s) => s.kind === 'tensor' && s.shape.length === 0 && s.chunks.length === 1).length === 3, 'three 0-d tensors of one chunk each']),
  });

  add({
    name: 'zero-elements',
    description: 'safetensors with zero-element tensors (F32 [0], BF16 [4,0,3], F16 [0] last) at the same offsets as their neighbours',
    kind: 'file',
    members: [
      {
        path: 'model.safetensors',
        safetensors: true,
        bytes: buildSafetensors([
          { name: 'a', dtype: 'F32', shape: [2], data: f32s([1.5, -2.25]) },
          { name: 'empty', dtype: 'BF16', shape: [4, 0, 3], data: new Uint8Array(0) },
          { name: 'none', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
          { name: 'b', dtype: 'I8', shape: [3], data: le(1, [1, -1, 127]) },
          { name: 'z', dtype: 'F16', shape: [0], data: new Uint8Array(0) },
        ]),
      },
    ],
    expect: (ix) => problems([segmentsOf(ix).filter((s) => s.kind === 'tensor' && s.originalBytes === 0 && s.chunks.length === 0).length === 3, 'three empty tensors without chunks']),
  });

  {
    const rng = Prng.forName('unknown-dtype');
    add({
      name: 'unknown-dtype',
      description: "safetensors with a tensor of a dtype wcodec does not know ('Q4_0', shape [64], 36 bytes) kept as opaque 1-byte values, beside a BF16 tensor",
      kind: 'file',
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          opaqueDtypes: true,
          bytes: buildSafetensors([
            { name: 'blocks', dtype: 'Q4_0', shape: [64], data: rng.bytes(36) },
            { name: 'norm', dtype: 'BF16', shape: [4], data: bf16s([1, 0.5, 0.25, 2]) },
          ]),
        },
      ],
      expect: (ix) => {
        const q = tensor(ix, 'blocks');
        return problems([q !== undefined && q.coding.layout.valueBytes === 1 && q.originalBytes === 36, 'Q4_0 kept as 36 one-byte values']);
      },
    });
  }

  {
    const rng = Prng.forName('multi-chunk');
    add({
      name: 'multi-chunk',
      description: 'BF16 [40,25] gaussian tensor coded with chunkBytes 256: 8 chunks of 128 values (the last 104), each with its own rANS stream (1 lane) and raw plane',
      kind: 'file',
      chunkBytes: 256,
      members: [{ path: 'model.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [40, 25], data: bf16s(times(1000, () => rng.gauss() * 0.1)) }]) }],
      expect: (ix) => {
        const w = tensor(ix, 'w');
        return problems([w !== undefined && w.chunks.length === 8 && w.chunkValues === 128 && codedPlanes(w) >= 1, `w in 8 coded chunks (got ${w?.chunks.length})`]);
      },
    });
  }

  {
    const rng = Prng.forName('lanes-4');
    add({
      name: 'lanes-4',
      description: 'sparse BF16 [69153] tensor (1% nonzero), chunkBytes 65536: 3 chunks (32768, 32768, 3617 values) of 4 interleaved rANS lanes, last step partial',
      kind: 'file',
      chunkBytes: 65536,
      members: [{ path: 'model.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'sparse', dtype: 'BF16', shape: [69153], data: sparseBf16(rng, 69153, 0.01) }]) }],
      expect: (ix) => {
        const s = tensor(ix, 'sparse');
        return problems([s !== undefined && s.chunks.length === 3 && s.coding.lanes === 4 && codedPlanes(s) === 2, `sparse: ${s?.chunks.length} chunks, ${s?.coding.lanes} lanes`]);
      },
    });
  }

  {
    const rng = Prng.forName('lanes-32');
    add({
      name: 'lanes-32',
      description: 'sparse BF16 [65573] tensor (1% nonzero) in one chunk of 32 interleaved rANS lanes; 65573 = 32*2049 + 5, so the last step is partial',
      kind: 'file',
      members: [{ path: 'model.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'sparse', dtype: 'BF16', shape: [65573], data: sparseBf16(rng, 65573, 0.01) }]) }],
      expect: (ix) => {
        const s = tensor(ix, 'sparse');
        return problems([s !== undefined && s.chunks.length === 1 && s.coding.lanes === 32 && codedPlanes(s) === 2, `sparse: ${s?.chunks.length} chunks, ${s?.coding.lanes} lanes`]);
      },
    });
  }

  {
    const rng = Prng.forName('special-floats');
    // Each special once in order (small tensors), then mixed into gaussian data so the specials pass through coded planes.
    const mix = <T>(n: number, specials: T[], gen: () => T): T[] => times(n, (i) => (i % 5 === 0 ? specials[rng.below(specials.length)] : gen()));
    const bf16Mix = mix(400, SPECIAL_BF16, () => bf16Bits(rng.gauss() * 0.02));
    const f32Mix = mix(256, SPECIAL_F32, () => f32Bits(rng.gauss()));
    const f16Mix = mix(400, SPECIAL_F16, () => f16Bits(rng.gauss() * 1e-4));
    add({
      name: 'special-floats',
      description: 'F32, BF16, F16 and F64 tensors of +-0, +-Inf, quiet/signalling/payload/negative NaNs, subnormals, extremes; then specials mixed into coded gaussian data',
      kind: 'file',
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'f32', dtype: 'F32', shape: [15], data: le(4, SPECIAL_F32) },
            { name: 'bf16', dtype: 'BF16', shape: [15], data: le(2, SPECIAL_BF16) },
            { name: 'f16', dtype: 'F16', shape: [15], data: le(2, SPECIAL_F16) },
            { name: 'f64', dtype: 'F64', shape: [15], data: le(8, SPECIAL_F64) },
            { name: 'bf16_mix', dtype: 'BF16', shape: [400], data: le(2, bf16Mix) },
            { name: 'f32_mix', dtype: 'F32', shape: [256], data: le(4, f32Mix) },
            { name: 'f16_mix', dtype: 'F16', shape: [400], data: le(2, f16Mix) },
          ]),
        },
      ],
      expect: (ix) =>
        problems(
          ...['bf16_mix', 'f32_mix', 'f16_mix'].map((n): [boolean, string] => {
            const s = tensor(ix, n);
            return [s !== undefined && codedPlanes(s) >= 1, `${n} has a coded plane`];
          }),
        ),
    });
  }

  {
    const rng = Prng.forName('joint-exponent');
    add({
      name: 'joint-exponent',
      description: 'grid-quantised gaussian BF16/F32/F16 tensors whose chosen layouts code the exponent jointly with top mantissa bits (head ranges 7+8|4+3, 7+8|5+2, F16 10+5|x)',
      kind: 'file',
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'bf16_q6', dtype: 'BF16', shape: [32, 32], data: bf16s(gridValues(rng, 1024, 6)) },
            { name: 'bf16_q3', dtype: 'BF16', shape: [256], data: bf16s(gridValues(rng, 256, 3)) },
            { name: 'f32_q6', dtype: 'F32', shape: [16, 32], data: f32s(gridValues(rng, 512, 6)) },
            { name: 'f16_q40', dtype: 'F16', shape: [512], data: f16s(gridValues(rng, 512, 40)) },
          ]),
        },
      ],
      expect: (ix) => {
        const checks: [boolean, string][] = [];
        for (const [name, want] of [
          ['bf16_q6', '7+8|4+3 15+1|0+4'],
          ['bf16_q3', '7+8|5+2 15+1|0+5'],
        ]) {
          const s = tensor(ix, name);
          checks.push([s !== undefined && rangesOf(s) === want && codedPlanes(s) === 2, `${name}: layout ${s && rangesOf(s)}, want ${want}`]);
        }
        const f32 = tensor(ix, 'f32_q6');
        checks.push([f32 !== undefined && /^7\+8\|\d\+\d /.test(rangesOf(f32)), `f32_q6: layout ${f32 && rangesOf(f32)}`]);
        const f16 = tensor(ix, 'f16_q40');
        checks.push([f16 !== undefined && /^10\+5\|\d\+\d /.test(rangesOf(f16)) && codedPlanes(f16) >= 1, `f16_q40: layout ${f16 && rangesOf(f16)}`]);
        return problems(...checks);
      },
    });
  }

  {
    const rng = Prng.forName('other-dtypes');
    add({
      name: 'other-dtypes',
      description: 'safetensors with U8, I16, U16, I32, U32, I64, F64, F8_E4M3 and F8_E5M2 tensors (F64 gaussian with a coded 11/12-bit exponent plane)',
      kind: 'file',
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'u8', dtype: 'U8', shape: [200], data: le(1, times(200, () => Math.min(255, Math.floor(rng.uniform() ** 3 * 40)))) },
            { name: 'i16', dtype: 'I16', shape: [10, 10], data: le(2, times(100, () => Math.round(rng.gauss() * 300))) },
            { name: 'u16', dtype: 'U16', shape: [64], data: le(2, times(64, () => rng.below(65536))) },
            { name: 'i32', dtype: 'I32', shape: [50], data: le(4, times(50, () => Math.round(rng.gauss() * 1e6))) },
            { name: 'u32', dtype: 'U32', shape: [40], data: le(4, times(40, () => rng.u32())) },
            { name: 'i64', dtype: 'I64', shape: [20], data: le(8, times(20, (i) => (i % 2 ? -1n : 1n) * BigInt(rng.u32()) * BigInt(i + 1))) },
            { name: 'f64', dtype: 'F64', shape: [256], data: f64s(times(256, () => rng.gauss() * 0.01)) },
            { name: 'f8_e4m3', dtype: 'F8_E4M3', shape: [128], data: le(1, times(128, () => (rng.below(2) << 7) | (0x20 + rng.below(24)))) },
            { name: 'f8_e5m2', dtype: 'F8_E5M2', shape: [128], data: le(1, times(128, () => (rng.below(2) << 7) | (0x30 + rng.below(12)))) },
          ]),
        },
      ],
      expect: (ix) => {
        const f64 = tensor(ix, 'f64');
        return problems([f64 !== undefined && /^4\+1[12]\*? /.test(rangesOf(f64)) && f64.coding.tables[0] !== undefined, `f64 codes its exponent plane (layout ${f64 && rangesOf(f64)})`]);
      },
    });
  }

  {
    const rng = Prng.forName('coded-index');
    const tensors: TensorInput[] = [];
    for (let layer = 0; layer < 4; layer++) {
      for (const part of ['input_layernorm', 'post_attention_layernorm']) {
        tensors.push({ name: `model.layers.${layer}.${part}.weight`, dtype: 'BF16', shape: [8], data: bf16s(times(8, () => 1)) });
      }
      for (const proj of ['q_proj', 'k_proj']) {
        tensors.push({ name: `model.layers.${layer}.self_attn.${proj}.weight`, dtype: 'BF16', shape: [2, 4], data: bf16s(times(8, () => Math.round(rng.gauss() * 4) / 64)) });
      }
    }
    add({
      name: 'coded-index',
      description: '16 small BF16 tensors with long shared name prefixes (front-coded) and repeated digests: the index block is stored rANS-coded (coding 1)',
      kind: 'file',
      members: [{ path: 'model.safetensors', safetensors: true, bytes: buildSafetensors(tensors) }],
      expect: (_, c) => problems([indexIsCoded(c), 'the index block is rANS-coded']),
    });
  }

  add({
    name: 'utf8-names',
    description: "non-ASCII member path and tensor names: front-coded prefixes that end inside a UTF-8 character ('poids.é'/'poids.è'), CJK, emoji, and 302-byte names sharing more than 255 bytes",
    kind: 'file',
    members: [
      {
        path: 'modèle.safetensors',
        safetensors: true,
        bytes: buildSafetensors([
          { name: 'poids.é', dtype: 'BF16', shape: [2], data: bf16s([0.5, -0.5]) },
          { name: 'poids.è', dtype: 'BF16', shape: [2], data: bf16s([0.25, -0.25]) },
          { name: '权重/嵌入', dtype: 'F16', shape: [3], data: f16s([1, 2, 3]) },
          { name: '🙂', dtype: 'I8', shape: [1], data: le(1, [7]) },
          { name: `${'a'.repeat(300)}.x`, dtype: 'U8', shape: [1], data: le(1, [1]) },
          { name: `${'a'.repeat(300)}.y`, dtype: 'U8', shape: [1], data: le(1, [2]) },
        ]),
      },
    ],
    expect: (ix) => problems([segmentsOf(ix).filter((s) => s.kind === 'tensor').length === 6, 'six tensors']),
  });

  {
    const rng = Prng.forName('folder');
    const st = buildSafetensors([
      { name: 'embed.weight', dtype: 'BF16', shape: [8, 8], data: bf16s(times(64, () => rng.gauss() * 0.02)) },
      { name: 'norm.weight', dtype: 'F32', shape: [4], data: f32s([1, 1, 0.5, 2]) },
    ]);
    add({
      name: 'folder',
      description: "folder container with two members: 'a/config.json' (bytes) and 'model.safetensors' (BF16 + F32)",
      kind: 'folder',
      members: [
        { path: 'a/config.json', bytes: new TextEncoder().encode(CONFIG_JSON), safetensors: false },
        { path: 'model.safetensors', bytes: st, safetensors: true },
      ],
    });
  }

  // Format version 2 (FORMAT.md §3.5): transformed segments.
  const transformed = (ix: ContainerIndex, code: number): SegmentRecord[] => segmentsOf(ix).filter((s) => s.transform?.code === code);
  {
    const rng = Prng.forName('v2-dup-file');
    const embed = bf16s(times(512, () => rng.gauss() * 0.02));
    const ones = f32s(times(16, () => 1));
    add({
      name: 'v2-dup-file',
      description: "version 2: tied embeddings ('lm_head.weight' = 'embed.weight', BF16, 2 chunks) and two identical F32 norms stored once as DUPLICATE segments",
      kind: 'file',
      chunkBytes: 512,
      transforms: true,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'embed.weight', dtype: 'BF16', shape: [16, 32], data: embed },
            { name: 'layers.0.norm', dtype: 'F32', shape: [16], data: ones },
            { name: 'layers.1.norm', dtype: 'F32', shape: [16], data: ones.slice() },
            { name: 'lm_head.weight', dtype: 'BF16', shape: [16, 32], data: embed.slice() },
          ]),
        },
      ],
      expect: (ix, c) => problems([c[8] === 2, 'version 2'], [transformed(ix, 1).map((s) => s.name).join() === 'layers.1.norm,lm_head.weight', 'two DUPLICATE segments']),
    });
  }
  {
    const rng = Prng.forName('v2-dup-folder');
    const shared = bf16s(times(64, () => rng.gauss() * 0.02));
    add({
      name: 'v2-dup-folder',
      description: 'version 2: a folder of two shards holding the same BF16 tensor; the second shard refers to the first (DUPLICATE across members)',
      kind: 'folder',
      transforms: true,
      members: [
        { path: 'model-1.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'a', dtype: 'BF16', shape: [64], data: shared }]) },
        { path: 'model-2.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'b', dtype: 'BF16', shape: [64], data: shared.slice() }]) },
      ],
      expect: (ix, c) => problems([c[8] === 2, 'version 2'], [transformed(ix, 1).length === 1 && transformed(ix, 1)[0].transform!.target!.member === 0, 'one DUPLICATE of member 0']),
    });
  }
  {
    const rng = Prng.forName('v2-xor-delta');
    const base = times(600, () => rng.gauss() * 0.02);
    const tuned = base.map((x) => (rng.below(3) === 0 ? x * (1 + rng.gauss() * 0.01) : x));
    const baseF32 = times(40, () => rng.gauss());
    const tunedF32 = baseF32.map((x, i) => (i % 4 === 0 ? x + 1 / 1024 : x));
    add({
      name: 'v2-xor-delta',
      description: "version 2: XOR_DELTA segments against 'v2-xor-delta.ref.safetensors' (BF16 in 3 chunks, F32), one tensor the reference lacks coded plainly",
      kind: 'file',
      chunkBytes: 512,
      transforms: true,
      reference: buildSafetensors([
        { name: 'w', dtype: 'BF16', shape: [20, 30], data: bf16s(base) },
        { name: 'v', dtype: 'F32', shape: [40], data: f32s(baseF32) },
      ]),
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'w', dtype: 'BF16', shape: [20, 30], data: bf16s(tuned) },
            { name: 'v', dtype: 'F32', shape: [40], data: f32s(tunedF32) },
            { name: 'new', dtype: 'BF16', shape: [3], data: bf16s([1, 2, 3]) },
          ]),
        },
      ],
      expect: (ix, c) => problems([c[8] === 2, 'version 2'], [transformed(ix, 2).map((s) => s.name).join() === 'w,v', "XOR_DELTA segments for 'w' and 'v'"]),
    });
  }
  {
    // Quantized then dequantized as quantizers do: scale = absmax / qmax per group (binary32), value = fround(q x scale)
    // rounded to the dtype; q8.row also holds a -0 and a NaN (escaped: stored in the exceptions stream).
    const rng = Prng.forName('v2-quant-scale');
    const dequantized = (n: number, group: number, qmax: number): number[] => {
      const out: number[] = [];
      for (let at = 0; at < n; at += group) {
        const w = times(group, () => rng.gauss() * 0.02);
        const scale = Math.fround(Math.max(...w.map(Math.abs)) / qmax);
        for (const x of w) out.push(Math.fround(Math.max(-qmax, Math.min(qmax, Math.round(x / scale))) * scale));
      }
      return out;
    };
    const q8 = dequantized(16 * 64, 64, 127);
    q8[5] = -0;
    q8[6] = NaN;
    add({
      name: 'v2-quant-scale',
      description: 'version 2: QUANT_SCALE segments (§3.5.3.1): INT8 per row into BF16 (with an escaped -0 and NaN), INT4 per group of 32 into F16, INT8 per row into F32; a norm vector coded plainly',
      kind: 'file',
      transforms: true,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'q8.row', dtype: 'BF16', shape: [16, 64], data: bf16s(q8) },
            { name: 'q4.g32', dtype: 'F16', shape: [8, 64], data: f16s(dequantized(8 * 64, 32, 7)) },
            { name: 'q8.f32', dtype: 'F32', shape: [4, 64], data: f32s(dequantized(4 * 64, 64, 127)) },
            { name: 'norm', dtype: 'BF16', shape: [64], data: bf16s(times(64, () => 1 + rng.gauss() * 0.1)) },
          ]),
        },
      ],
      expect: (ix, c) => problems([c[8] === 2, 'version 2'], [transformed(ix, 3).map((s) => s.name).join() === 'q8.row,q4.g32,q8.f32', 'three QUANT_SCALE segments']),
    });
  }
  {
    const rng = Prng.forName('v2-zero-flags');
    add({
      name: 'v2-zero-flags',
      description: 'version 2: ZERO_FLAGS segments (§3.5.3.2): BF16 with 10% non-zero values and I8 with 5% non-zero over 1001 values (flags end mid-byte)',
      kind: 'file',
      transforms: true,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'sparse.bf16', dtype: 'BF16', shape: [40, 50], data: bf16s(times(2000, () => (rng.uniform() < 0.1 ? rng.gauss() * 0.02 : 0))) },
            { name: 'sparse.i8', dtype: 'I8', shape: [1001], data: Uint8Array.from(times(1001, () => (rng.uniform() < 0.05 ? 1 + rng.below(255) : 0))) },
          ]),
        },
      ],
      expect: (ix, c) => problems([c[8] === 2, 'version 2'], [transformed(ix, 4).map((s) => s.name).join() === 'sparse.bf16,sparse.i8', 'two ZERO_FLAGS segments']),
    });
  }
  {
    const rng = Prng.forName('v2-int-predict');
    add({
      name: 'v2-int-predict',
      description: 'version 2: INT_PREDICT segments (§3.5.3.3): an I32 GPTQ-style g_idx (i / 128), a U8 70 x 90 smooth image with noise (partial 64 x 64 tiles), an I16 ramp wrapping past 32767',
      kind: 'file',
      transforms: true,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'g_idx', dtype: 'I32', shape: [1024], data: le(4, times(1024, (i) => Math.floor(i / 128))) },
            { name: 'image', dtype: 'U8', shape: [70, 90], data: Uint8Array.from(times(70 * 90, (i) => (Math.floor(i / 90) + 2 * (i % 90) + rng.below(3)) & 0xff)) },
            { name: 'ramp', dtype: 'I16', shape: [3000], data: le(2, times(3000, (i) => (32000 + i) & 0xffff)) },
          ]),
        },
      ],
      expect: (ix, c) => problems([c[8] === 2, 'version 2'], [transformed(ix, 5).map((s) => s.name).join() === 'g_idx,image,ramp', 'three INT_PREDICT segments']),
    });
  }
  {
    const rng = Prng.forName('v2-huffman');
    add({
      name: 'v2-huffman',
      description: 'version 2, encoder option huffman: BF16 [48,40] in chunks of 512 values (a short last chunk), F32 [333], F16 [40,50] and a BF16 scalar, each exponent plane Huffman-coded (§5.4), sign and mantissa raw',
      kind: 'file',
      huffman: true,
      chunkBytes: 1024,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'w', dtype: 'BF16', shape: [48, 40], data: bf16s(times(1920, () => rng.gauss() * 0.02)) },
            { name: 'f32', dtype: 'F32', shape: [333], data: f32s(times(333, () => rng.gauss() * 0.1)) },
            { name: 'f16', dtype: 'F16', shape: [40, 50], data: f16s(times(2000, () => rng.gauss())) },
            { name: 'one', dtype: 'BF16', shape: [], data: bf16s([0.5]) },
          ]),
        },
      ],
      expect: (ix, c) => {
        const huff = segmentsOf(ix).filter((s) => s.kind === 'tensor' && s.coding.tables.some((t) => t && 'kind' in t && t.kind === 'huffman')).map((s) => s.name);
        const w = tensor(ix, 'w');
        return problems([c[8] === 2, 'version 2'], [huff.join() === 'w,f32,f16', `Huffman-coded: ${huff.join()}`], [w !== undefined && w.chunks.length === 4, 'w in 4 chunks']);
      },
    });
  }
  {
    const rng = Prng.forName('v3-file');
    add({
      name: 'v3-file',
      description: 'version 3: a safetensors file of BF16 [16,8], F32 [16], I64 [3] and F16 [4,4] tensors; the member record carries its identity digest (§7.4)',
      kind: 'file',
      formatVersion: 3,
      chunkBytes: 128,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'gate_proj', dtype: 'BF16', shape: [16, 8], data: bf16s(times(128, () => rng.gauss() * 0.02)) },
            { name: 'up_proj', dtype: 'BF16', shape: [16, 8], data: bf16s(times(128, () => rng.gauss() * 0.02)) },
            { name: 'norm', dtype: 'F32', shape: [16], data: f32s(times(16, () => 1 + rng.gauss() * 0.1)) },
            { name: 'ids', dtype: 'I64', shape: [3], data: le(8, [1n, 2n, 3n]) },
            { name: 'scale', dtype: 'F16', shape: [4, 4], data: f16s(times(16, () => rng.gauss())) },
          ], { format: 'pt' }),
        },
      ],
      expect: (ix, c) => problems([c[8] === 3, 'version 3'], [ix.members[0].identitySha256?.length === 32, 'an identity digest']),
    });
  }
  {
    const rng = Prng.forName('v3-folder');
    const shared = bf16s(times(64, () => rng.gauss() * 0.02));
    add({
      name: 'v3-folder',
      description: 'version 3: a folder of config.json, two shards (the second repeats a tensor of the first: DUPLICATE) and tokenizer/vocab.txt; each member record carries its identity digest',
      kind: 'folder',
      formatVersion: 3,
      transforms: true,
      members: [
        { path: 'config.json', safetensors: false, bytes: new TextEncoder().encode(CONFIG_JSON) },
        { path: 'model-1.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'a', dtype: 'BF16', shape: [64], data: shared }, { name: 'n', dtype: 'F32', shape: [4], data: f32s([1, 2, 3, 4]) }]) },
        { path: 'model-2.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'b', dtype: 'BF16', shape: [64], data: shared.slice() }]) },
        { path: 'tokenizer/vocab.txt', safetensors: false, bytes: new TextEncoder().encode('a\nb\nc\n') },
      ],
      expect: (ix, c) => problems([c[8] === 3, 'version 3'], [ix.members.every((m) => m.identitySha256?.length === 32), 'identity digests'], [transformed(ix, 1).length === 1, 'one DUPLICATE (of a tensor of another member)']),
    });
  }
  {
    const T = 1_700_000_000_123_456; // microseconds since the Unix epoch
    const text = (t: string): Uint8Array => new TextEncoder().encode(t);
    const rawPath = new Uint8Array([0x6e, 0xff, 0x2e, 0x62, 0x69, 0x6e]); // "n", 0xff, ".bin": not UTF-8
    add({
      name: 'v3-attrs',
      description: 'version 3: an empty folder (type 2), files with modes 0o644 and 0o755 and modification times, symbolic links (type 1) to a file and up one folder, a path that is not UTF-8 (flag bit 2) and one with \\ and :',
      kind: 'folder',
      formatVersion: 3,
      members: [
        { path: 'empty', safetensors: false, bytes: new Uint8Array(0), attrs: { type: 'folder', mode: 0o750, mtimeUs: T } },
        { path: 'config.json', safetensors: false, bytes: text(CONFIG_JSON), attrs: { mode: 0o644, mtimeUs: T + 1 } },
        { path: 'run.sh', safetensors: false, bytes: text('#!/bin/sh\necho ok\n'), attrs: { mode: 0o755, mtimeUs: T + 2 } },
        { path: 'latest', safetensors: false, bytes: text('config.json'), attrs: { type: 'link', mtimeUs: T + 3 } },
        { path: 'sub/config.json', safetensors: false, bytes: text('../config.json'), attrs: { type: 'link' } },
        { path: 'n\\xff.bin', safetensors: false, bytes: text('raw name'), attrs: { pathBytes: rawPath, mode: 0o600 } },
        { path: 'back\\slash:colon.txt', safetensors: false, bytes: text('odd name') },
      ],
      expect: (ix, c) =>
        problems(
          [c[8] === 3, 'version 3'],
          [ix.members.map((m) => m.type ?? 'file').join() === 'folder,file,file,link,link,file,file', 'member types'],
          [ix.members[5].pathBytes?.length === 6, 'a raw path'],
        ),
    });
  }
  {
    const rng = Prng.forName('v4-file');
    add({
      name: 'v4-file',
      description: 'version 4: a safetensors file of BF16 [63,130], F32 [5999], F16 [8,8], I64 [3] and BF16 [4] tensors in chunks of 4096 bytes; each chunk record carries the chunk digest of its decoded bytes, bound to its place (§7.5); BF16 and F32 weights code exponent and 2 mantissa bits as one rANS plane and store sign and 5 mantissa bits packed raw (6 bits, §6), the last chunk of each with padding bits',
      kind: 'file',
      formatVersion: 4,
      chunkBytes: 4096,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'q_proj', dtype: 'BF16', shape: [63, 130], data: bf16s(times(8190, () => rng.gauss() * 0.02)) },
            { name: 'w_f32', dtype: 'F32', shape: [5999], data: f32s(times(5999, () => rng.gauss() * 0.05)) },
            { name: 'scale', dtype: 'F16', shape: [8, 8], data: f16s(times(64, () => rng.gauss())) },
            { name: 'ids', dtype: 'I64', shape: [3], data: le(8, [1n, 2n, 3n]) },
            { name: 'bias', dtype: 'BF16', shape: [4], data: bf16s([0, -0, Infinity, NaN]) },
          ], { format: 'pt' }),
        },
      ],
      expect: (ix, c) => {
        const q = tensor(ix, 'q_proj');
        const packed = (name: string): boolean => {
          const s = tensor(ix, name);
          return s !== undefined && s.coding.layout.planes.some((p, k) => s.coding.tables[k] === undefined && p.kind === 'head' && p.ranges.reduce((a, r) => a + r.width, 0) === 6);
        };
        return problems(
          [c[8] === 4, 'version 4'],
          [q !== undefined && q.chunks.length === 4, 'q_proj in 4 chunks'],
          [packed('q_proj') && packed('w_f32'), 'packed 6-bit raw planes in q_proj and w_f32'],
          [segmentsOf(ix).every((s) => s.chunks.every((r) => r.digest !== undefined)), 'chunk digests'],
        );
      },
    });
  }
  {
    const rng = Prng.forName('v4-folder');
    const shared = bf16s(times(300, () => rng.gauss() * 0.02));
    add({
      name: 'v4-folder',
      description: 'version 4: a folder of config.json and two shards, the second repeating a tensor of the first (DUPLICATE) beside a sparse BF16 tensor (ZERO_FLAGS, a value transform whose streams\' chunk digests are bound to their stream numbers)',
      kind: 'folder',
      formatVersion: 4,
      transforms: true,
      chunkBytes: 256,
      members: [
        { path: 'config.json', safetensors: false, bytes: new TextEncoder().encode(CONFIG_JSON) },
        { path: 'model-1.safetensors', safetensors: true, bytes: buildSafetensors([{ name: 'a', dtype: 'BF16', shape: [300], data: shared }]) },
        {
          path: 'model-2.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'b', dtype: 'BF16', shape: [300], data: shared.slice() },
            { name: 'sparse', dtype: 'BF16', shape: [40, 50], data: bf16s(times(2000, () => (rng.uniform() < 0.1 ? rng.gauss() * 0.02 : 0))) },
          ]),
        },
      ],
      expect: (ix, c) => problems([c[8] === 4, 'version 4'], [transformed(ix, 1).length >= 1, 'a DUPLICATE'], [segmentsOf(ix).some((s) => s.transform !== undefined && s.transform.code !== 1 && s.transform.streams.length > 0), 'a value transform with streams']),
    });
  }
  {
    const rng = Prng.forName('v5-gguf');
    // Q8_0 blocks: an F16 scale, then 32 int8 codes of a narrow distribution.
    const q8 = new Uint8Array(64 * 34);
    for (let b = 0; b < 64; b++) {
      q8.set(le(2, [f16Bits(0.002 + rng.uniform() * 0.001)]), b * 34);
      for (let j = 0; j < 32; j++) q8[b * 34 + 2 + j] = Math.round(rng.gauss() * 30) & 0xff;
    }
    add({
      name: 'v5-gguf',
      description: 'version 5: a GGUF file (version 3, general.alignment 64, metadata of string, integer, float, bool and array types) with an F32 [3,40] (GGUF dims [40,3]), an F16 [13] and a Q8_0 [8,256] tensor: member layout 1, a header byte segment, padding byte segments of non-zero bytes, tensor segments; the Q8_0 tensor as a BLOCK_FIELDS segment (F16 scales, int8 codes)',
      kind: 'file',
      formatVersion: 5,
      transforms: true,
      members: [
        {
          path: 'model.gguf',
          safetensors: false,
          format: 'gguf',
          bytes: buildGguf({
            kvs: [
              { key: 'general.architecture', type: GGUF.STRING, value: 'llama' },
              { key: 'general.alignment', type: GGUF.U32, value: 64 },
              { key: 'llama.block_count', type: GGUF.U32, value: 1 },
              { key: 'llama.rope.freq_base', type: GGUF.F32, value: 10000 },
              { key: 'tokenizer.ggml.add_bos_token', type: GGUF.BOOL, value: true },
              { key: 'tokenizer.ggml.tokens', type: GGUF.ARRAY, value: { itemType: GGUF.STRING, items: ['<s>', '</s>', 'a', 'b'] } },
              { key: 'tokenizer.ggml.scores', type: GGUF.ARRAY, value: { itemType: GGUF.F32, items: [0, 0, -1, -2] } },
              { key: 'general.file_type', type: GGUF.U64, value: 7n },
            ],
            alignment: 64,
            tensors: [
              { name: 'output_norm.weight', type: 1, dims: [13], data: f16s(times(13, () => 1 + rng.gauss() * 0.1)) },
              { name: 'token_embd.weight', type: 0, dims: [40, 3], data: f32s(times(120, () => rng.gauss() * 0.02)) },
              { name: 'blk.0.attn_q.weight', type: 8, dims: [256, 8], data: q8 },
            ],
          }),
        },
      ],
      expect: (ix, c) => problems(
        [c[8] === 5, 'version 5'],
        [ix.members[0].layout === 'gguf', 'layout gguf'],
        [segmentsOf(ix).filter((s) => s.kind === 'bytes').length >= 3, 'a header and padding byte segments'],
        [tensor(ix, 'blk.0.attn_q.weight')?.transform?.code === 6, 'a BLOCK_FIELDS segment'],
      ),
    });
  }

  {
    const rng = Prng.forName('v6-lossy');
    // Per tensor: the largest code and the group size (the F32 tensor's codes need i16; the BF16 rows of 40 end in a
    // group of 8).
    const settings: Record<string, { maxCode: number; groupSize: number }> = {
      'bf16.weight': { maxCode: 7, groupSize: 32 },
      'f16.weight': { maxCode: 127, groupSize: 16 },
      'f32.weight': { maxCode: 1000, groupSize: 20 },
    };
    add({
      name: 'v6-lossy',
      description: 'version 6: a safetensors file with lossy GROUP_QUANT segments — BF16 [3,40] (codes within ±7, groups of 32: each row ends in a group of 8), F16 [4,16] (±127, groups of 16, i8 codes) and F32 [2,5,20] (±1000, groups of 20: i16 codes) — beside a lossless F32 [7] tensor; every digest covers the dequantized values',
      kind: 'file',
      formatVersion: 6,
      transforms: true,
      lossy: {
        label: 'rtn-test',
        quantize: (name, _dtype, shape, values) => {
          const q = settings[name];
          if (!q) return undefined;
          const cols = shape[shape.length - 1];
          return quantizeRoundToNearest(values, values.length / cols, cols, { name, ...q });
        },
      },
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'bf16.weight', dtype: 'BF16', shape: [3, 40], data: bf16s(times(120, () => rng.gauss() * 0.05)) },
            { name: 'f16.weight', dtype: 'F16', shape: [4, 16], data: f16s(times(64, () => rng.gauss() * 0.5)) },
            { name: 'f32.weight', dtype: 'F32', shape: [2, 5, 20], data: f32s(times(200, () => rng.gauss())) },
            { name: 'norm', dtype: 'F32', shape: [7], data: f32s(times(7, () => 1 + rng.gauss() * 0.1)) },
          ]),
        },
      ],
      expect: (ix, c) => problems(
        [c[8] === 6, 'version 6'],
        [['bf16.weight', 'f16.weight', 'f32.weight'].every((n) => tensor(ix, n)?.transform?.code === 7), 'three GROUP_QUANT segments'],
        [tensor(ix, 'f32.weight')?.transform?.params[1] === 2, 'i16 codes'],
        [tensor(ix, 'f16.weight')?.transform?.params[1] === 1, 'i8 codes'],
        [tensor(ix, 'norm')?.transform === undefined, 'a lossless 1-D tensor'],
      ),
    });
  }

  {
    const rng = Prng.forName('v7-fp8-sparse');
    // Per tensor: FP8 E4M3 with a scale per row; FP8 E5M2 with a scale per row and 2:4 pruning; integer codes (±7, groups of 8) with 2:4
    // pruning over rows of 10 (each row ends in a run of 2 values, of which 1 is zero).
    const quantize = (name: string, shape: number[], values: Float32Array): QuantizedMatrix | undefined => {
      const cols = shape[shape.length - 1];
      const rows = values.length / cols;
      if (name === 'e4m3.weight') return quantizeFp8(values, rows, cols, { levels: LEVELS_E4M3, scale: 'row' });
      const mask = pruneMask(values, rows, cols, { kind: '2:4' });
      if (name === 'e5m2.weight') return { ...quantizeFp8(values, rows, cols, { levels: LEVELS_E5M2, scale: 'row', mask }), sparsity: SPARSITY_2_4 };
      if (name === 'int.weight') return { ...quantizeRoundToNearest(applyMask(values, mask), rows, cols, { name, maxCode: 7, groupSize: 8 }), sparsity: SPARSITY_2_4 };
      return undefined;
    };
    add({
      name: 'v7-fp8-sparse',
      description: 'version 7: a safetensors file with lossy GROUP_QUANT segments of the version 7 params — BF16 [3,40] as FP8 E4M3 codes (levels 1, a scale per row), F16 [4,16] as FP8 E5M2 codes with 2:4 sparsity (levels 2, sparsity 1), F32 [2,3,10] as integer codes within ±7 in groups of 8 with 2:4 sparsity (rows of 10 end in a run of 2) — beside a lossless F32 [7] tensor',
      kind: 'file',
      formatVersion: 7,
      transforms: true,
      lossy: { label: 'fp8-test', formatVersion: 7, quantize: (name, _dtype, shape, values) => quantize(name, shape, values) },
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'e4m3.weight', dtype: 'BF16', shape: [3, 40], data: bf16s(times(120, () => rng.gauss() * 0.05)) },
            { name: 'e5m2.weight', dtype: 'F16', shape: [4, 16], data: f16s(times(64, () => rng.gauss() * 0.5)) },
            { name: 'int.weight', dtype: 'F32', shape: [2, 3, 10], data: f32s(times(60, () => rng.gauss())) },
            { name: 'norm', dtype: 'F32', shape: [7], data: f32s(times(7, () => 1 + rng.gauss() * 0.1)) },
          ]),
        },
      ],
      expect: (ix, c) => problems(
        [c[8] === 7, 'version 7'],
        [['e4m3.weight', 'e5m2.weight', 'int.weight'].every((n) => tensor(ix, n)?.transform?.code === 7), 'three GROUP_QUANT segments'],
        [tensor(ix, 'e4m3.weight')?.transform?.params[2] === 1 && tensor(ix, 'e4m3.weight')?.transform?.params[3] === 0, 'E4M3 levels, no sparsity'],
        [tensor(ix, 'e5m2.weight')?.transform?.params[2] === 2 && tensor(ix, 'e5m2.weight')?.transform?.params[3] === 1, 'E5M2 levels, 2:4'],
        [tensor(ix, 'int.weight')?.transform?.params[2] === 0 && tensor(ix, 'int.weight')?.transform?.params[3] === 1, 'integer levels, 2:4'],
        [tensor(ix, 'norm')?.transform === undefined, 'a lossless 1-D tensor'],
      ),
    });
  }

  {
    const rng = Prng.forName('v8-bytes');
    const vocab: Record<string, number> = {};
    for (let i = 0; i < 400; i++) vocab[`\u2581w${(i * 7919) % 1009}${String.fromCharCode(97 + (i % 26))}`] = i;
    const tokenizer = JSON.stringify({ version: '1.0', added_tokens: [{ id: 0, content: '<unk>', special: true }], model: { type: 'BPE', vocab } }, null, 2);
    const names = times(12, (i) => `model.layers.${i >> 2}.mlp.proj_${i & 3}.weight`);
    add({
      name: 'v8-bytes',
      description: 'version 8: a folder with tokenizer.json (a BPE vocabulary as indented JSON: one byte segment coded with the byte model, no primer) and model.safetensors of twelve F32 tensors, whose header is coded with the byte model primed from its tensor labels (primer 1)',
      kind: 'folder',
      formatVersion: 8,
      members: [
        { path: 'model.safetensors', safetensors: true, bytes: buildSafetensors(names.map((name) => ({ name, dtype: 'F32', shape: [2, 3], data: f32s(times(6, () => rng.gauss())) })), { format: 'pt' }) },
        { path: 'tokenizer.json', bytes: new TextEncoder().encode(tokenizer), safetensors: false },
      ],
      expect: (ix, c) => problems(
        [c[8] === 8, 'version 8'],
        [ix.members[0].segments[0].coding.byteModel?.primer === 1, 'a primed safetensors header'],
        [ix.members[1].segments[0].coding.byteModel?.primer === 0, 'tokenizer.json coded with the byte model'],
      ),
    });
  }

  {
    const rng = Prng.forName('v9-npy');
    const specialF32 = le(4, [...SPECIAL_F32, ...times(20, () => f32Bits(rng.gauss()))]);
    add({
      name: 'v9-npy',
      description: "version 9: a folder of NumPy arrays (member layout 4): F32 [5,7] with zeros of both signs, infinities, NaNs and subnormals (format 1.0), F16 [3,4] in Fortran order (format 2.0, tensor shape [4,3]), a 0-d I64 (format 3.0), an empty U8 (0,) (a tensor segment with no chunks), BOOL [9] (16-byte header alignment, as older NumPy wrote), a big-endian '>f4' array (layout 0: plain bytes), and a raw F64 [2,3] array (member layout 5)",
      kind: 'folder',
      formatVersion: 9,
      members: [
        { path: 'arrays/f32.npy', safetensors: false, format: 'npy', bytes: buildNpy({ descr: '<f4', shape: [5, 7], data: specialF32 }) },
        { path: 'arrays/f16-fortran.npy', safetensors: false, format: 'npy', bytes: buildNpy({ descr: '<f2', shape: [3, 4], fortranOrder: true, version: 2, data: f16s(times(12, () => rng.gauss())) }) },
        { path: 'arrays/scalar.npy', safetensors: false, format: 'npy', bytes: buildNpy({ descr: '<i8', shape: [], version: 3, data: le(8, [-5n]) }) },
        { path: 'arrays/empty.npy', safetensors: false, format: 'npy', bytes: buildNpy({ descr: '|u1', shape: [0], data: new Uint8Array(0) }) },
        { path: 'arrays/mask.npy', safetensors: false, format: 'npy', bytes: buildNpy({ descr: '|b1', shape: [9], align: 16, data: new Uint8Array(times(9, (i) => i % 2)) }) },
        { path: 'arrays/big-endian.npy', safetensors: false, format: 'npy', bytes: buildNpy({ descr: '>f4', shape: [4], data: new Uint8Array([0x3f, 0x80, 0, 0, 0x40, 0, 0, 0, 0xbf, 0x80, 0, 0, 0, 0, 0, 0]) }) },
        { path: 'raw/grid.f64', safetensors: false, array: { dtype: 'F64', shape: [2, 3] }, bytes: f64s([0.5, -0, Infinity, NaN, 1e-310, -2.25]) },
      ],
      expect: (ix, c) =>
        problems(
          [c[8] === 9, 'version 9'],
          [ix.members.filter((m) => m.layout === 'npy').length === 5, 'five NumPy array members'],
          [ix.members[5].layout === undefined && ix.members[5].segments.every((s) => s.kind === 'bytes'), 'the big-endian array as bytes'],
          [ix.members[6].layout === 'raw-array', 'a raw array member'],
          [tensor(ix, 'arrays/f16-fortran')?.shape.join() === '4,3', 'the Fortran-ordered shape reversed'],
          [tensor(ix, 'arrays/scalar')?.shape.length === 0, 'a 0-d tensor'],
        ),
    });
    add({
      name: 'v9-raw',
      description: 'version 9: one file given as a raw F32 [4,9] array (member layout 5): one tensor segment of the whole file, named after it without its extension',
      kind: 'file',
      formatVersion: 9,
      members: [{ path: 'weights.bin', safetensors: false, array: { dtype: 'F32', shape: [4, 9] }, bytes: le(4, times(36, () => f32Bits(rng.gauss() * 0.02))) }],
      expect: (ix, c) => problems([c[8] === 9, 'version 9'], [ix.members[0].layout === 'raw-array', 'layout raw-array'], [tensor(ix, 'weights')?.shape.join() === '4,9', 'tensor weights [4,9]']),
    });
  }

  {
    const rng = Prng.forName('v10-tensor-model');
    // Rows with their own scale: the planar magnitude context has something to find.
    const scaled = (rows: number, cols: number, base: number): number[] => {
      const scales = times(rows, () => base * 2 ** Math.floor(rng.gauss() * 2));
      return times(rows * cols, (i) => scales[Math.floor(i / cols)] * rng.gauss());
    };
    // An F32 value with its low 12 mantissa bits cleared (the low byte planes mostly zero, as in widened weights).
    const coarse = (x: number): number => {
      const u = new Uint32Array(new Float32Array([x]).buffer);
      u[0] &= ~0xfff;
      return new Float32Array(u.buffer)[0];
    };
    add({
      name: 'v10-tensor-model',
      description: 'version 10 (level max, chunkBytes 5120): a safetensors file with BF16 [80,64], F32 [24,80] (low 12 mantissa bits zero) and F16 [30,50] tensors of rows with their own scales, coded with the tensor model (rowValues 64, 80 and 50; BF16 in two chunks of 2560 values, F32 in chunks of 1280 and 640, F16 in one), and an F32 [16] vector coded as in version 4',
      kind: 'file',
      formatVersion: 10,
      chunkBytes: 5120,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'bf16.weight', dtype: 'BF16', shape: [80, 64], data: bf16s(scaled(80, 64, 0.02)) },
            { name: 'f32.weight', dtype: 'F32', shape: [24, 80], data: f32s(scaled(24, 80, 0.5).map(coarse)) },
            { name: 'f16.weight', dtype: 'F16', shape: [30, 50], data: f16s(scaled(30, 50, 0.1)) },
            { name: 'norm', dtype: 'F32', shape: [16], data: f32s(times(16, () => 1 + rng.gauss() * 0.1)) },
          ]),
        },
      ],
      expect: (ix, c) => problems(
        [c[8] === 10, 'version 10'],
        [tensor(ix, 'bf16.weight')?.coding.tensorModel?.rowValues === 64 && tensor(ix, 'bf16.weight')?.chunks.length === 2, 'BF16 in the tensor model, two chunks'],
        [tensor(ix, 'f32.weight')?.coding.tensorModel?.rowValues === 80 && tensor(ix, 'f32.weight')?.chunks.length === 2, 'F32 in the tensor model, two chunks'],
        [tensor(ix, 'f16.weight')?.coding.tensorModel?.rowValues === 50, 'F16 in the tensor model'],
        [tensor(ix, 'norm')?.coding.tensorModel === undefined, 'a small vector coded as before'],
      ),
    });
  }

  {
    const rng = Prng.forName('v11-groups');
    // Quantized weights as TF.js U8 models store them: bytes around a zero point, a few far out.
    const u8 = (n: number): Uint8Array => Uint8Array.from(times(n, () => Math.max(0, Math.min(255, Math.round(128 + rng.gauss() * (rng.below(10) === 0 ? 40 : 6))))));
    add({
      name: 'v11-groups',
      description: 'version 11: model.safetensors of four U8 tensors (300, 200, 400 and 100 bytes) and two F32 biases between them: the U8 tensors are one byte-model group, the first holding the 1000-byte stream (primer 0, one chunk) and the other three continuations (primer 2, no chunks), the biases coded apart; the header is primed (primer 1)',
      kind: 'file',
      formatVersion: 11,
      members: [
        {
          path: 'model.safetensors',
          safetensors: true,
          bytes: buildSafetensors([
            { name: 'conv0.filters', dtype: 'U8', shape: [3, 10, 10], data: u8(300) },
            { name: 'conv0.bias', dtype: 'F32', shape: [4], data: f32s(times(4, () => rng.gauss())) },
            { name: 'conv1.filters', dtype: 'U8', shape: [2, 10, 10], data: u8(200) },
            { name: 'conv1.pointwise', dtype: 'U8', shape: [4, 100], data: u8(400) },
            { name: 'conv1.bias', dtype: 'F32', shape: [4], data: f32s(times(4, () => rng.gauss())) },
            { name: 'fc.weights', dtype: 'U8', shape: [10, 10], data: u8(100) },
          ]),
        },
      ],
      expect: (ix, c) => problems(
        [c[8] === 11, 'version 11'],
        [tensor(ix, 'conv0.filters')?.groupBytes === 1000 && tensor(ix, 'conv0.filters')?.chunks.length === 1, 'a group of 1000 bytes in one chunk'],
        [['conv1.filters', 'conv1.pointwise', 'fc.weights'].every((n) => tensor(ix, n)?.coding.byteModel?.primer === 2 && tensor(ix, n)?.chunks.length === 0), 'three continuations'],
        [tensor(ix, 'conv1.bias')?.coding.byteModel === undefined, 'a bias between them coded apart'],
      ),
    });
  }

  add({
    name: 'v11-tiny',
    description: 'version 11: one small config.json (a byte segment coded with the byte model), the member of one segment whose segment record holds no SHA-256 (the member\'s stands for it)',
    kind: 'file',
    formatVersion: 11,
    members: [{ path: 'config.json', safetensors: false, bytes: new TextEncoder().encode(JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 172, num_attention_heads: 8, num_hidden_layers: 2, vocab_size: 512, torch_dtype: 'float32' }, null, 2)) }],
    expect: (ix, c) => problems([c[8] === 11, 'version 11'], [ix.members[0].segments.length === 1 && ix.members[0].segments[0].coding.byteModel?.primer === 0, 'one byte-model segment']),
  });

  {
    const rng = Prng.forName('v5-onnx');
    add({
      name: 'v5-onnx',
      description: 'version 5: an ONNX model with FLOAT [4,20] and FLOAT16 [3,11] initializers in raw_data, an INT64 [2] shape constant (under 64 bytes: left in the byte segments) and a FLOAT initializer in float_data (not raw_data: bytes): member layout 2, tensor segments at the raw_data of the first two',
      kind: 'file',
      formatVersion: 5,
      members: [
        {
          path: 'model.onnx',
          safetensors: false,
          format: 'onnx',
          bytes: buildOnnx({
            initializers: [
              { name: 'fc.weight', dataType: ONNX_TYPE.FLOAT, dims: [4, 20], raw: f32s(times(80, () => rng.gauss() * 0.05)) },
              { name: 'fc.bias16', dataType: ONNX_TYPE.FLOAT16, dims: [3, 11], raw: f16s(times(33, () => rng.gauss() * 0.5)) },
              { name: 'shape', dataType: ONNX_TYPE.INT64, dims: [2], raw: le(8, [1n, 80n]) },
              { name: 'listed', dataType: ONNX_TYPE.FLOAT, dims: [3], floatData: [0.5, 1, 2] },
            ],
          }),
        },
      ],
      expect: (ix, c) => problems([c[8] === 5, 'version 5'], [ix.members[0].layout === 'onnx', 'layout onnx'], [segmentsOf(ix).filter((s) => s.kind === 'tensor').length === 2, 'two tensor segments']),
    });
  }

  {
    const rng = Prng.forName('v5-onnx-external');
    const a = f32s(times(200, () => rng.gauss() * 0.05));
    const b = f16s(times(50, () => rng.gauss() * 0.5));
    const data = new Uint8Array(1024 + b.length);
    data.set(a, 0);
    data.fill(0x11, a.length, 1024);
    data.set(b, 1024);
    add({
      name: 'v5-onnx-external',
      description: 'version 5: a folder of an ONNX model whose FLOAT [200] and FLOAT16 [5,10] initializers are external data in model.onnx_data (offsets 0 and 1024, the bytes between them non-zero padding): the model is member layout 2 with no tensor segment, the data file member layout 3 with two tensor segments',
      kind: 'folder',
      formatVersion: 5,
      members: [
        {
          path: 'model.onnx',
          safetensors: false,
          format: 'onnx',
          bytes: buildOnnx({
            initializers: [
              { name: 'emb', dataType: ONNX_TYPE.FLOAT, dims: [200], external: { location: 'model.onnx_data', offset: 0, length: a.length } },
              { name: 'proj', dataType: ONNX_TYPE.FLOAT16, dims: [5, 10], external: { location: 'model.onnx_data', offset: 1024, length: b.length } },
            ],
          }),
        },
        { path: 'model.onnx_data', safetensors: false, bytes: data },
      ],
      expect: (ix, c) => problems([c[8] === 5, 'version 5'], [ix.members[1].layout === 'onnx-data', 'layout onnx-data'], [ix.members[1].segments.filter((s) => s.kind === 'tensor').length === 2, 'two tensor segments']),
    });
  }
  return specs;
}
