// WGSL kernel variants and the per-device pipeline cache (src/gpu/*.wgsl, embedded by tools/embed-wgsl.mjs).
// The decode kernel comes in two lane variants (FORMAT.md §5.3, "Lockstep decoding"): subgroup ballots and
// shuffles where the adapter has subgroups of exactly 32, workgroup-memory ballots everywhere else.
/// <reference types="@webgpu/types" />

import type { GPUComputePipeline, GPUDevice, GPUPipelineLayout } from './webgpu-types.js';
import { WGSL_SOURCES } from './wgsl-sources.js';

/** How the 32 lanes of a chunk cooperate: one subgroup of 32, or a workgroup through shared memory. */
export type LaneVariant = 'subgroup' | 'workgroup';

/** Default chunks (groups of 32 invocations) per workgroup in the subgroup variant. */
export const SUBGROUP_GROUPS = 8;

const variantText = (variant: LaneVariant, groups: number): Record<string, string> => variant === 'subgroup' ? {
    WORKGROUP_SIZE: String(32 * groups),
    GROUPS: `${groups}u`,
    GROUP_INDEX: 'li / 32u',
    LANE_BUILTINS: '@builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32',
    LANE_ID: 'sg_id',
    LANE_LAYOUT_BROKEN: '(sg_size != 32u || (li & 31u) != sg_id)',
  } : {
    WORKGROUP_SIZE: '32',
    GROUPS: '1u',
    GROUP_INDEX: '0u',
    LANE_BUILTINS: '@builtin(local_invocation_id) lid: vec3<u32>',
    LANE_ID: 'lid.x',
    LANE_LAYOUT_BROKEN: 'false',
  };

/**
 * Groups of 32 invocations (chunks) per workgroup: `requested` (1 to 8) or the default in the subgroup
 * variant, always 1 in the workgroup variant (its barriers span the workgroup).
 */
export function groupsPerWorkgroup(variant: LaneVariant, requested?: number): number {
  if (variant === 'workgroup') return 1;
  const g = requested ?? SUBGROUP_GROUPS;
  if (!Number.isInteger(g) || g < 1 || g > 8) throw new RangeError(`chunks per workgroup ${g} is not 1 to 8`);
  return g;
}

/**
 * The constants of a class of segments that one specialised decode pipeline serves (decode.wgsl SPEC_*): value
 * width, plane count, lanes, whether any plane is coded, and per plane its flags word and, where the kernel reads
 * them, its raw plane index and symbol bits (planes stored raw) and byte index (byte planes). Everything else
 * (tables, probBits, head ranges) stays per segment in the descriptor.
 */
export interface KernelSpec {
  W: number;
  planes: number;
  K: number;
  coded: boolean;
  /** Per plane: flags (decode.wgsl: 1 coded, 2 head, 4 workgroup tables, 8 head by two ranges). */
  flags: number[];
  /** Per plane: the raw plane index (uncoded planes) or undefined. */
  rawIndex: (number | undefined)[];
  /** Per plane: the symbol bits of a raw plane (8, or 1 to 8 for a packed head plane, FORMAT.md §6) or undefined. */
  rawBits: (number | undefined)[];
  /** Per plane: the byte index (byte planes) or undefined. */
  byteIndex: (number | undefined)[];
  /** Set for a segment that the lean kernel decodes (decode-lean.wgsl); the fields above are then unused. */
  lean?: LeanSpec;
}

/**
 * The constants of the lean kernel (decode-lean.wgsl) for a class of segments: the coded head plane's probability
 * bits, symbol bits and the freq bits of its packed slot entries, and its two ranges (lo1, width1, lo2, width2);
 * the raw head plane's bits and ranges; the byte index of each raw byte plane after it.
 */
export interface LeanSpec {
  pb: number;
  sb: number;
  fb: number;
  coded: [number, number, number, number];
  rawBits: number;
  raw: [number, number, number, number];
  bytes: number[];
}

/** Most planes a specialised kernel holds (decode.wgsl HOISTED_PLANES). */
export const SPEC_MAX_PLANES = 4;

/** A key naming a KernelSpec (equal specs, equal keys). */
export function specKey(spec: KernelSpec): string {
  const list = (a: (number | undefined)[]): number[] => a.map((v) => v ?? -1);
  if (spec.lean) return JSON.stringify(['lean', spec.W, spec.lean]);
  return JSON.stringify([spec.W, spec.planes, spec.K, spec.coded, spec.flags, list(spec.rawIndex), list(spec.rawBits), list(spec.byteIndex)]);
}

function specText(spec: KernelSpec | undefined): Record<string, string> {
  if (!spec) {
    return { SPEC_W: 'descs[seg]', SPEC_PLANE_COUNT: 'descs[seg + 1u]', SPEC_K: 'descs[seg + 2u]', SPEC_CODED: 'descs[seg + 3u] > 0u', SPEC_PLANE_WORDS: '' };
  }
  const lines: string[] = [];
  for (let p = 0; p < spec.planes; p++) {
    lines.push(`hoisted_a[${p}].x = ${spec.flags[p]}u;`);
    if (spec.rawIndex[p] !== undefined) lines.push(`hoisted_a[${p}].y = ${spec.rawIndex[p]}u;`);
    if (spec.rawBits[p] !== undefined) lines.push(`hoisted_a[${p}].z = ${spec.rawBits[p]}u;`);
    if (spec.byteIndex[p] !== undefined) lines.push(`hoisted_a[${p}].w = ${spec.byteIndex[p]}u;`);
  }
  return {
    SPEC_W: `${spec.W}u`,
    SPEC_PLANE_COUNT: `${spec.planes}u`,
    SPEC_K: `${spec.K}u`,
    SPEC_CODED: String(spec.coded),
    SPEC_PLANE_WORDS: lines.join('\n  '),
  };
}

/** Largest number of chunks one group of 32 decodes one after another (the chunksPerGroup option). */
export const MAX_CHUNKS_PER_GROUP = 64;

/**
 * Chunks each group of 32 invocations decodes one after another, sharing the workgroup's copy of the tables:
 * `requested` (1 to MAX_CHUNKS_PER_GROUP) or 1.
 */
export function chunksPerGroupOf(requested?: number): number {
  const c = requested ?? 1;
  if (!Number.isInteger(c) || c < 1 || c > MAX_CHUNKS_PER_GROUP) throw new RangeError(`chunks per group ${c} is not 1 to ${MAX_CHUNKS_PER_GROUP}`);
  return c;
}

/**
 * The complete WGSL of the decode kernel for one lane variant with `groups` groups of 32 per workgroup, each
 * decoding `chunksPerGroup` chunks in turn, and a workgroup table of `tableWords` u32.
 * @param overrides replacement text for the kernel's upper-case names (benchmarks only; WRITE_OUTPUT = 'true')
 */
export function decodeKernelSource(variant: LaneVariant, groups: number, tableWords: number, overrides: Record<string, string> = {}, chunksPerGroup = 1, spec?: KernelSpec): string {
  if (spec?.lean) return leanKernelSource('decode-lean.wgsl', variant, spec.W, spec.lean, groups, tableWords, overrides, chunksPerGroup);
  const lanes = WGSL_SOURCES[variant === 'subgroup' ? 'lanes-subgroup.wgsl' : 'lanes-workgroup.wgsl'];
  let body = WGSL_SOURCES['decode.wgsl'];
  const names = {
    ...specText(spec),
    JOBS_PER_WORKGROUP: `${groups * chunksPerGroup}u`,
    CHUNKS_PER_GROUP: `${chunksPerGroup}u`,
    ...variantText(variant, groups),
    TABLE_WORDS: `${Math.max(1, tableWords)}u`,
    WRITE_OUTPUT: 'true',
    PAIRED_STORES: 'true',
    ...overrides,
  };
  for (const [name, text] of Object.entries(names)) body = body.split(name).join(text);
  return `${lanes}\n${body}`;
}

/**
 * The WGSL of a kernel built on lean-step.wgsl for one class of segments: the lane primitives of `variant`, then
 * lean-step.wgsl, then `file` (decode-lean.wgsl, or another kernel that decodes values as lean-step.wgsl does), with
 * the class's constants and the dispatch's shape in place of the upper-case names.
 */
export function leanKernelSource(file: string, variant: LaneVariant, W: number, lean: LeanSpec, groups: number, tableWords: number, overrides: Record<string, string>, chunksPerGroup: number): string {
  const u = (v: number): string => `${v}u`;
  const names: Record<string, string> = {
    LEAN_W: u(W),
    LEAN_PB: u(lean.pb),
    LEAN_SB: u(lean.sb),
    LEAN_FB: u(lean.fb),
    LEAN_C_LO1: u(lean.coded[0]),
    LEAN_C_W1: u(lean.coded[1]),
    LEAN_C_LO2: u(lean.coded[2]),
    LEAN_C_W2: u(lean.coded[3]),
    LEAN_R_BITS: u(lean.rawBits),
    LEAN_R_LO1: u(lean.raw[0]),
    LEAN_R_W1: u(lean.raw[1]),
    LEAN_R_LO2: u(lean.raw[2]),
    LEAN_R_W2: u(lean.raw[3]),
    LEAN_BYTE_PLANES: u(lean.bytes.length),
    LEAN_BYTE0: u(lean.bytes[0] ?? 0),
    LEAN_BYTE1: u(lean.bytes[1] ?? 0),
    JOBS_PER_WORKGROUP: u(groups * chunksPerGroup),
    CHUNKS_PER_GROUP: u(chunksPerGroup),
    ...variantText(variant, groups),
    TABLE_WORDS: u(Math.max(1, tableWords)),
    WRITE_OUTPUT: 'true',
    ...overrides,
  };
  const main = WGSL_SOURCES[file];
  if (main === undefined) throw new RangeError(`no kernel file '${file}'`);
  let body = `${WGSL_SOURCES['lean-step.wgsl']}\n${main}`;
  for (const [name, text] of Object.entries(names)) body = body.split(name).join(text);
  return `${WGSL_SOURCES[variant === 'subgroup' ? 'lanes-subgroup.wgsl' : 'lanes-workgroup.wgsl']}\n${body}`;
}

/** The WGSL of a kernel file used as is. */
export function kernelSource(file: string): string {
  const text = WGSL_SOURCES[file];
  if (text === undefined) throw new RangeError(`no kernel file '${file}'`);
  return text;
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/**
 * The compute pipeline for `key` on `device`, compiled once per device (the cache holds the device weakly).
 * @param source the WGSL, used only when the pipeline is not cached yet
 * @throws the device's GPUPipelineError when the WGSL does not compile
 */
export function cachedPipeline(device: GPUDevice, key: string, source: () => string, entryPoint: string, layout: GPUPipelineLayout | 'auto' = 'auto'): Promise<GPUComputePipeline> {
  let byKey = pipelines.get(device);
  if (!byKey) {
    byKey = new Map();
    pipelines.set(device, byKey);
  }
  let p = byKey.get(key);
  if (!p) {
    const module = device.createShaderModule({ label: `wcodec ${key}`, code: source() });
    p = device.createComputePipelineAsync({ label: `wcodec ${key}`, layout, compute: { module, entryPoint } });
    byKey.set(key, p);
    p.catch(() => byKey!.delete(key));
  }
  return p;
}
