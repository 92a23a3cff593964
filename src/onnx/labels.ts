// The decoder's check that an ONNX member's tensor segments are the initializers its stored bytes give (FORMAT.md §4.7
// "Labels", §7.3): a model's tensor segment is the raw_data of an eligible inline initializer of the same name, dtype
// and shape; an external data file's is the range an eligible external initializer of its model names.

import { ProtoProblem, type ProtoBytes } from './proto-reader.js';
import { readOnnxInitializers, resolveLocation, type OnnxInitializer } from './read-model.js';
import type { LabelledSegment } from '../format/segment-labels.js';

/**
 * A member's bytes as far as its byte segments hold them: a read that touches a tensor segment (or runs past the
 * member) is a ProtoProblem, so the model's structure is read from its byte segments alone.
 */
export class ByteSegmentsView implements ProtoBytes {
  /** Runs of adjacent byte segments: member offset and bytes. */
  private readonly runs: { at: number; bytes: Uint8Array }[] = [];

  /** @param pieces each byte segment's member offset and decoded bytes, in member order */
  constructor(pieces: readonly { at: number; bytes: Uint8Array }[]) {
    for (const p of pieces) {
      const last = this.runs[this.runs.length - 1];
      if (last && last.at + last.bytes.length === p.at) {
        const joined = new Uint8Array(last.bytes.length + p.bytes.length);
        joined.set(last.bytes);
        joined.set(p.bytes, last.bytes.length);
        last.bytes = joined;
      } else this.runs.push({ at: p.at, bytes: p.bytes });
    }
  }

  async read(at: number, length: number): Promise<Uint8Array> {
    const run = this.runAt(at);
    if (run && at + length <= run.at + run.bytes.length) return run.bytes.subarray(at - run.at, at - run.at + length);
    throw new ProtoProblem(`the model's structure at member byte ${at} lies in a tensor segment`, at);
  }

  async readUpTo(at: number, max: number): Promise<Uint8Array> {
    const run = this.runAt(at);
    if (run) return run.bytes.subarray(at - run.at, Math.min(run.bytes.length, at - run.at + max));
    throw new ProtoProblem(`the model's structure at member byte ${at} lies in a tensor segment`, at);
  }

  /** The run of byte segments that holds member byte `at`, if any. */
  private runAt(at: number): { at: number; bytes: Uint8Array } | undefined {
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.runs[mid];
      if (at < r.at) hi = mid - 1;
      else if (at >= r.at + r.bytes.length) lo = mid + 1;
      else return r;
    }
    return undefined;
  }
}

/**
 * The eligible initializers of a model member read from its byte segments, or the problem that stops the read.
 * @param view the member's byte segments
 * @param size the member's size
 */
export async function memberInitializers(view: ProtoBytes, size: number): Promise<OnnxInitializer[] | string> {
  try {
    return await readOnnxInitializers(view, size);
  } catch (e) {
    if (e instanceof ProtoProblem) return `the stored ONNX model does not parse at member byte ${e.offset}: ${e.message}`;
    throw e;
  }
}

/** @returns the first disagreement between a tensor segment at member byte `at` and initializer `init`, or undefined */
function disagreement(seg: LabelledSegment, at: number, init: OnnxInitializer | undefined, what: string): string | undefined {
  const where = `tensor segment '${seg.name}' at member byte ${at}`;
  if (!init) return `${where}: no eligible initializer has ${what} there`;
  if (init.name !== seg.name) return `${where}: the model names it '${init.name}'`;
  if (init.dtype !== seg.dtype) return `${where}: dtype ${seg.dtype} in the index, ${init.dtype} in the model`;
  if (init.shape.length !== seg.shape.length || init.shape.some((d, k) => d !== seg.shape[k])) return `${where}: shape [${seg.shape}] in the index, [${init.shape}] in the model`;
  if (init.bytes !== seg.originalBytes) return `${where}: ${seg.originalBytes} bytes in the index, ${init.bytes} in the model`;
  return undefined;
}

/**
 * Checks a model member (layout 2): each tensor segment must be the raw_data content of an eligible inline initializer
 * with its labels.
 * @returns the first disagreement, or undefined
 */
export function onnxLabelProblem(initializers: readonly OnnxInitializer[], segments: readonly LabelledSegment[]): string | undefined {
  const byBegin = new Map<number, OnnxInitializer>();
  for (const i of initializers) if (i.inline) byBegin.set(i.inline.begin, i);
  let at = 0;
  for (const seg of segments) {
    const segAt = at;
    at += seg.originalBytes;
    if (seg.kind !== 'tensor') continue;
    const problem = disagreement(seg, segAt, byBegin.get(segAt), 'its raw_data');
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Checks an external data member (layout 3) at `path` against its model's initializers: each tensor segment must lie
 * where an eligible external initializer whose location resolves to `path` puts its data, with its labels.
 * @param modelPath the model member's path (locations are relative to its folder)
 * @returns the first disagreement, or undefined
 */
export function onnxDataLabelProblem(path: string, modelPath: string, initializers: readonly OnnxInitializer[], segments: readonly LabelledSegment[]): string | undefined {
  const byOffset = new Map<number, OnnxInitializer[]>();
  for (const i of initializers) {
    if (!i.external || resolveLocation(modelPath, i.external.location) !== path) continue;
    const list = byOffset.get(i.external.offset) ?? [];
    list.push(i);
    byOffset.set(i.external.offset, list);
  }
  let at = 0;
  for (const seg of segments) {
    const segAt = at;
    at += seg.originalBytes;
    if (seg.kind !== 'tensor') continue;
    const candidates = byOffset.get(segAt) ?? [];
    const match = candidates.find((i) => disagreement(seg, segAt, i, '') === undefined);
    if (!match) return disagreement(seg, segAt, candidates[0], `its data in '${path}'`) ?? `tensor segment '${seg.name}' at member byte ${segAt}: no initializer of '${modelPath}' matches it`;
  }
  return undefined;
}

/** Whether `initializers` (of the model at `modelPath`) place some data in the member at `path`. */
export function referencesData(modelPath: string, initializers: readonly OnnxInitializer[], path: string): boolean {
  return initializers.some((i) => i.external !== undefined && resolveLocation(modelPath, i.external.location) === path);
}
