// What `wcodec info` shows (text at 100 columns, --wide, JSON) and the sizes and ratios of the summaries; the JSON
// fields are documented in docs/CLI.md.

import type { Checkpoint, MemberInfo } from '../api/checkpoint.js';
import { HEADER_BYTES } from '../format/constants.js';
import { readHeader } from '../format/envelope.js';
import { segmentChunks, type ContainerIndex, type SegmentRecord } from '../pipeline/index-codec.js';
import { lossyParamsOf } from '../pipeline/lossy-segments.js';
import { TRANSFORM_XOR_DELTA } from '../transform/transform-registry.js';
import { printable } from './printable.js';

/** Columns the default `info` text fits in; --wide lifts the limit. */
export const INFO_COLUMNS = 100;

/** Human-readable byte count (MB = 10^6 bytes). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** original / compressed, as "x1.519". */
export function formatRatio(original: number, compressed: number): string {
  return compressed > 0 ? `x${(original / compressed).toFixed(3)}` : 'x-';
}

/** Lower-case hex of a digest. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Renders rows as aligned columns; numeric-looking columns are right-aligned. Any number of rows (no argument spreads). */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c], r[c].length);
  const right = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[x\d.,\-\s]+(B|kB|MB|GB)?$|^\[.*\]$/.test(r[c]) && c > 0));
  const line = (r: string[]): string => r.map((v, c) => (right[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `text` cut to `width` characters, with '…' in place of what was cut (at the start when `keepEnd`). */
function fit(text: string, width: number, keepEnd = false): string {
  if (text.length <= width) return text;
  return keepEnd ? '…' + text.slice(text.length - width + 1) : text.slice(0, width - 1) + '…';
}

/** One tensor as `info --json` lists it. */
export interface TensorJson {
  name: string;
  file: string;
  dtype: string;
  shape: number[];
  originalBytes: number;
  compressedBytes: number;
  transform: string;
  planes: string;
  sha256: string;
  /** XOR deltas: the SHA-256 the reference tensor of the same name must have (FORMAT.md §3.5.2). */
  referenceSha256?: string;
  /** A lossy tensor's label, bits per weight and error metrics (FORMAT.md §3.5.3.5); null for a lossless one. */
  lossy: LossyTensorJson | null;
}

/** What `info` shows of a lossy tensor: the params its segment stores, and the bits per weight of its streams. */
export interface LossyTensorJson {
  label: string;
  /** What its codes stand for (FORMAT.md §3.5.3.5 `levels`): integers, or FP8 E4M3 or E5M2 bit patterns. */
  levels: 'integer' | 'fp8-e4m3' | 'fp8-e5m2';
  /** The sparsity its params state and the decoder checks: '2:4', or null for none. */
  sparsity: '2:4' | null;
  groupSize: number;
  /** The tensor's stored bytes × 8 / its values. */
  bitsPerWeight: number;
  maxAbsError: number;
  meanAbsError: number;
  relL2Error: number;
  /** In dB; JSON has no infinities: null stands for +Infinity (no error) or -Infinity (a zero tensor with an error). */
  snrDb: number | null;
}

/** A container's lossy tensors in brief (every command's JSON `lossy` field; null when there are none). */
export interface LossySummary {
  /** Lossy tensors (GROUP_QUANT segments). */
  tensorCount: number;
  /** Their distinct labels, in order of first appearance. */
  labels: string[];
  /** Values of every tensor of the container, lossy or not. */
  parameters: number;
  /** Container bytes × 8 / parameters. */
  bitsPerWeight: number;
}

/** The lossy summary of `index` for a container of `containerBytes`, or null when no segment is lossy. */
export function lossySummary(index: ContainerIndex, containerBytes: number): LossySummary | null {
  let tensorCount = 0;
  let parameters = 0;
  const labels: string[] = [];
  for (const m of index.members) {
    for (const seg of m.segments) {
      if (seg.kind !== 'tensor') continue;
      parameters += seg.shape.reduce((a, d) => a * d, 1);
      const p = lossyParamsOf(seg);
      if (!p) continue;
      tensorCount++;
      if (!labels.includes(p.label)) labels.push(p.label);
    }
  }
  if (tensorCount === 0) return null;
  return { tensorCount, labels, parameters, bitsPerWeight: parameters > 0 ? (containerBytes * 8) / parameters : 0 };
}

/** One line naming a lossy container's tensors, labels and bits per weight. */
export function lossyLine(s: LossySummary): string {
  return `LOSSY (${s.labels.join(', ')}): ${s.tensorCount} tensor(s) hold dequantized values, not the original; ${s.bitsPerWeight.toFixed(3)} bits per weight`;
}

/** Everything `info` reports about a container, as `info --json` prints it (besides the shared fields). */
export interface ContainerInfo {
  kind: 'file' | 'folder';
  formatVersion: number;
  /** Original bytes per chunk (the most common among segments; null when no segment has chunks). */
  chunkBytes: number | null;
  originalBytes: number;
  compressedBytes: number;
  ratio: number;
  /** Tensors stored as XOR deltas against a reference checkpoint (decompress and verify need it: --ref). */
  reference: { needed: boolean; tensorCount: number };
  tensorCount: number;
  /** The lossy tensors in brief, or null when every decoded byte is the original's. */
  lossy: LossySummary | null;
  files: { path: string; originalBytes: number; compressedBytes: number; tensorCount: number; format: MemberInfo['format']; sha256: string }[];
  tensors: TensorJson[];
}

/**
 * Original bytes per chunk of a segment that has chunks (its own, or its streams'), else undefined. `chunkValues` is
 * the encoder's chunk size in values even for a segment smaller than one chunk.
 */
function chunkBytesOf(seg: SegmentRecord): number | undefined {
  const coded = seg.transform ? seg.transform.streams.find((s) => s.chunks.length > 0) : seg.chunks.length > 0 ? seg : undefined;
  return coded ? coded.chunkValues * coded.coding.layout.valueBytes : undefined;
}

/** Gathers what `info` shows; reads the container's header for its version. */
export async function describeContainer(cp: Checkpoint): Promise<ContainerInfo> {
  const index = cp.reader.index;
  const formatVersion = readHeader(await cp.reader.source.read(0, HEADER_BYTES), cp.reader.source.name);
  const counts = new Map<number, number>();
  for (const m of index.members) {
    for (const seg of m.segments) {
      const c = chunkBytesOf(seg);
      if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + segmentChunks(seg).length);
    }
  }
  let chunkBytes: number | null = null;
  for (const [c, n] of counts) if (chunkBytes === null || n > counts.get(chunkBytes)!) chunkBytes = c;
  const tensors: TensorJson[] = cp.tensors.map((t) => {
    const seg = cp.segmentOf(t);
    const json: TensorJson = {
      name: t.name,
      file: t.file,
      dtype: t.dtype,
      shape: t.shape,
      originalBytes: t.originalBytes,
      compressedBytes: t.compressedBytes,
      transform: t.transform,
      planes: t.layout,
      sha256: hex(seg.sha256),
      lossy: null,
    };
    const p = lossyParamsOf(seg);
    if (p) {
      const values = t.shape.reduce((a, d) => a * d, 1);
      json.lossy = {
        label: p.label,
        levels: p.levels === 1 ? 'fp8-e4m3' : p.levels === 2 ? 'fp8-e5m2' : 'integer',
        sparsity: p.sparsity === 1 ? '2:4' : null,
        groupSize: p.groupSize,
        bitsPerWeight: values > 0 ? (t.compressedBytes * 8) / values : 0,
        maxAbsError: p.maxAbsError,
        meanAbsError: p.meanAbsError,
        relL2Error: p.relL2Error,
        snrDb: Number.isFinite(p.snrDb) ? p.snrDb : null,
      };
    }
    if (seg.transform?.code === TRANSFORM_XOR_DELTA) json.referenceSha256 = hex(seg.transform.params);
    return json;
  });
  const deltas = tensors.filter((t) => t.referenceSha256 !== undefined).length;
  const originalBytes = cp.members.reduce((a, m) => a + m.originalBytes, 0);
  const compressedBytes = cp.reader.containerBytes;
  return {
    kind: cp.kind,
    formatVersion,
    chunkBytes,
    originalBytes,
    compressedBytes,
    ratio: compressedBytes > 0 ? originalBytes / compressedBytes : 0,
    reference: { needed: deltas > 0, tensorCount: deltas },
    tensorCount: tensors.length,
    lossy: lossySummary(index, compressedBytes),
    files: cp.members.map((m, k) => ({ ...m, sha256: hex(index.members[k].sha256) })),
    tensors,
  };
}

/** The legend of the planes column, at most INFO_COLUMNS wide. */
const PLANES_LEGEND = `planes: a value's bits are split into planes, each coded apart: s sign bit, eN N exponent bits,
  mN N mantissa bits, bN N bits of a non-float value (e8m2: exponent and top 2 mantissa bits);
  :rANSn rANS with n-bit probabilities, :huff Huffman, :raw stored as is; ' / ' separates streams;
  :model the byte model (format version 8), :cm the tensor model, all planes together (version 10).
transform: dup (= name) a copy of an earlier tensor, xor-delta the XOR with the reference's tensor
  of the same name, lossy a lossy tensor (codes and scales), other names a value transform
  (docs/FORMAT.md §3.5); - none.`;

/** How `info` names a one-file container's member format, where it is not plain safetensors or bytes. */
const FORMAT_NAMES: Partial<Record<string, string>> = {
  gguf: ' (a GGUF file)',
  onnx: ' (an ONNX model)',
  npy: ' (a NumPy array)',
  'raw-array': ' (a raw array)',
};

/**
 * The text of `wcodec info`: a summary, the files with their SHA-256 (as sha256sum prints them), the tensors and a
 * legend. Fits INFO_COLUMNS columns unless `wide`, which adds every column and each tensor's SHA-256.
 */
export function infoText(file: string, info: ContainerInfo, wide: boolean): string {
  const lines: string[] = [];
  const kind = info.kind === 'file' ? `one file${FORMAT_NAMES[info.files[0]?.format] ?? ''}` : `a folder of ${info.files.length} files`;
  const chunk = info.chunkBytes !== null ? `, chunks of ${info.chunkBytes} bytes` : '';
  lines.push(`${printable(file)}: ${kind}, format version ${info.formatVersion}${chunk}`);
  if (info.reference.needed) {
    lines.push(`  reference: ${info.reference.tensorCount} tensor(s) are XOR deltas; decompress and verify need --ref PATH, the`);
    lines.push(`    checkpoint they were compressed against (each reference tensor's SHA-256: --wide or --json)`);
  } else lines.push('  reference: none needed');
  lines.push(info.lossy ? `  ${lossyLine(info.lossy)}` : '  lossless: every file decodes to its original bytes');
  lines.push('', 'SHA-256 of each file (sha256sum -c reads these lines):');
  for (const f of info.files) lines.push(`${f.sha256}  ${printable(f.path)}`);
  if (info.kind === 'folder' || wide) {
    lines.push('');
    lines.push(
      renderTable(
        ['file', 'tensors', 'original', 'compressed', 'ratio'],
        info.files.map((m) => [wide ? printable(m.path) : fit(printable(m.path), 50, true), String(m.tensorCount), formatBytes(m.originalBytes), formatBytes(m.compressedBytes), formatRatio(m.originalBytes, m.compressedBytes)]),
      ),
    );
  }
  if (info.tensors.length > 0) {
    lines.push('');
    const nameOf = (t: TensorJson): string => printable(info.kind === 'folder' ? `${t.file}:${t.name}` : t.name);
    if (wide) {
      const delta = info.reference.needed;
      lines.push(
        renderTable(
          ['tensor', 'dtype', 'shape', 'original', 'compressed', 'ratio', 'transform', 'planes', 'sha256', ...(delta ? ['reference sha256'] : [])],
          info.tensors.map((t) => [nameOf(t), printable(t.dtype), `[${t.shape.join(',')}]`, formatBytes(t.originalBytes), formatBytes(t.compressedBytes), formatRatio(t.originalBytes, t.compressedBytes), t.transform || '-', printable(t.planes), t.sha256, ...(delta ? [t.referenceSha256 ?? '-'] : [])]),
        ),
      );
    } else {
      // The transform column only when some tensor has one.
      const transforms = info.tensors.some((t) => t.transform !== '');
      const rows = info.tensors.map((t) => [nameOf(t), fit(printable(t.dtype), 8), fit(`[${t.shape.join(',')}]`, 16, true), formatBytes(t.originalBytes), formatRatio(t.originalBytes, t.compressedBytes), ...(transforms ? [fit(t.transform || '-', 10)] : []), fit(printable(t.planes), 26)]);
      const header = ['tensor', 'dtype', 'shape', 'original', 'ratio', ...(transforms ? ['transform'] : []), 'planes'];
      // The name column takes what the others leave of INFO_COLUMNS (two spaces between columns).
      let others = 0;
      for (let c = 1; c < header.length; c++) {
        let w = header[c].length;
        for (const r of rows) w = Math.max(w, r[c].length); // a loop: a spread of 200 000 rows overflows the stack
        others += 2 + w;
      }
      const room = Math.max(20, INFO_COLUMNS - others);
      for (const r of rows) r[0] = fit(r[0], room, true);
      lines.push(renderTable(header, rows));
    }
  }
  const lossy = info.tensors.filter((t) => t.lossy !== null);
  if (lossy.length > 0) {
    lines.push('', 'Lossy tensors (errors against the original values, as the encoder measured them):');
    const nameOf = (t: TensorJson): string => printable(info.kind === 'folder' ? `${t.file}:${t.name}` : t.name);
    const rows = lossy.map((t) => {
      const l = t.lossy!;
      const snr = l.snrDb === null ? (l.maxAbsError === 0 ? 'inf' : '-inf') : l.snrDb.toFixed(1);
      const levels = `${l.levels === 'integer' ? 'int' : l.levels.slice(4)}${l.sparsity ? ` ${l.sparsity}` : ''}`;
      return [nameOf(t), fit(printable(l.label), 24), levels, String(l.groupSize), l.bitsPerWeight.toFixed(3), l.maxAbsError.toExponential(2), l.meanAbsError.toExponential(2), l.relL2Error.toExponential(2), snr];
    });
    const header = ['tensor', 'preset', 'levels', 'group', 'bits/w', 'max abs', 'mean abs', 'rel L2', 'SNR dB'];
    if (!wide) {
      let others = 0;
      for (let c = 1; c < header.length; c++) {
        let w = header[c].length;
        for (const r of rows) w = Math.max(w, r[c].length);
        others += 2 + w;
      }
      const room = Math.max(20, INFO_COLUMNS - others);
      for (const r of rows) r[0] = fit(r[0], room, true);
    }
    lines.push(renderTable(header, rows));
  }
  lines.push('', `total: ${info.tensorCount} tensors in ${info.files.length} file(s), ${formatBytes(info.originalBytes)} -> ${formatBytes(info.compressedBytes)} (${formatRatio(info.originalBytes, info.compressedBytes)}, the whole container)`);
  if (info.tensors.length > 0) lines.push('', PLANES_LEGEND);
  return lines.join('\n');
}
