// Text tables for `wcodec info` and the compress/decompress summaries.

import type { Checkpoint } from '../api/checkpoint.js';
import { printable } from './printable.js';

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

/** Renders rows as aligned columns; numeric-looking columns are right-aligned. Any number of rows (no argument spreads). */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c], r[c].length);
  const right = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[x\d.,\-\s]+(B|kB|MB|GB)?$|^\[.*\]$/.test(r[c]) && c > 0));
  const line = (r: string[]): string => r.map((v, c) => (right[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The per-tensor table and totals that `wcodec info` prints. */
export function infoTable(cp: Checkpoint, containerBytes: number): string {
  const rows = cp.tensors.map((t) => [
    printable(cp.kind === 'folder' ? `${t.file}:${t.name}` : t.name),
    printable(t.dtype),
    `[${t.shape.join(',')}]`,
    formatBytes(t.originalBytes),
    formatBytes(t.compressedBytes),
    formatRatio(t.originalBytes, t.compressedBytes),
    t.transform || '-',
    t.layout,
  ]);
  const orig = cp.members.reduce((a, m) => a + m.originalBytes, 0);
  const lines = [renderTable(['tensor', 'dtype', 'shape', 'original', 'compressed', 'ratio', 'transform', 'planes'], rows), ''];
  lines.push(
    renderTable(
      ['file', 'tensors', 'original', 'compressed', 'ratio'],
      cp.members.map((m) => [printable(m.path), String(m.tensorCount), formatBytes(m.originalBytes), formatBytes(m.compressedBytes), formatRatio(m.originalBytes, m.compressedBytes)]),
    ),
  );
  lines.push('');
  lines.push(`total: ${cp.tensors.length} tensors in ${cp.members.length} file(s), ${formatBytes(orig)} -> ${formatBytes(containerBytes)} (${formatRatio(orig, containerBytes)}, container incl. index)`);
  return lines.join('\n');
}
