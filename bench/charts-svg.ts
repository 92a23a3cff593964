// The benchmark's charts as standalone SVG (no dependencies): compression ratio by input and codec with the entropy
// bounds marked, and throughput by codec and thread count (log scale) for the inputs large enough to time well.

import { isSkipped, type BenchResults, type InputResult } from './results-schema.js';
import type { MeasureResult } from './measure.js';

/** One colour per codec in registry order (colour-blind-safe palette, Okabe-Ito). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

function svg(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

const ran = (r: InputResult, codec: string, threads: number): MeasureResult | undefined => {
  const c = r.results.find((x) => x.codec === codec && x.threads === threads);
  return c && !isSkipped(c) ? c : undefined;
};

/**
 * Ratio chart: one group of horizontal bars per input (one bar per codec, single thread), the order-0 bound as a
 * solid black mark and the order-1 bound as a dashed grey one. The axis starts at 1.0 (no gain).
 */
export function ratioChart(res: BenchResults): string {
  const codecs = res.codecs;
  const W = 960;
  const left = 200;
  const right = W - 70;
  const barH = 11;
  const groupGap = 14;
  const top = 64;
  let max = 1.1;
  for (const r of res.inputs) {
    max = Math.max(max, r.bytes / r.bounds.order0Bytes, r.bytes / r.bounds.order1Bytes);
    for (const c of codecs) max = Math.max(max, ran(r, c.id, 1)?.ratio ?? 0);
  }
  const step = max > 3 ? 0.5 : max > 1.6 ? 0.2 : 0.1;
  const xmax = Math.ceil((max + 0.001) / step) * step;
  const X = (v: number): number => left + ((Math.max(1, v) - 1) / (xmax - 1)) * (right - left);
  const groupH = codecs.length * barH + groupGap;
  const height = top + res.inputs.length * groupH + 40;
  const b: string[] = [];
  b.push(text(16, 24, 'Compression ratio (original / compressed), single thread: higher is better', 'font-size="15" font-weight="bold"'));
  // Legend.
  let lx = 16;
  codecs.forEach((c, i) => {
    b.push(`<rect x="${lx}" y="36" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    b.push(text(lx + 16, 46, c.label));
    lx += 24 + c.label.length * 7;
  });
  b.push(`<line x1="${lx}" y1="36" x2="${lx}" y2="48" stroke="#000" stroke-width="2"/>`);
  b.push(text(lx + 6, 46, 'order-0 bound'));
  lx += 100;
  b.push(`<line x1="${lx}" y1="36" x2="${lx}" y2="48" stroke="#777" stroke-width="2" stroke-dasharray="3,2"/>`);
  b.push(text(lx + 6, 46, 'order-1 bound'));
  // Grid.
  const gridBottom = top + res.inputs.length * groupH;
  for (let v = 1; v <= xmax + 1e-9; v += step) {
    b.push(`<line x1="${X(v).toFixed(1)}" y1="${top - 6}" x2="${X(v).toFixed(1)}" y2="${gridBottom}" stroke="#e5e5e5"/>`);
    b.push(text(X(v), gridBottom + 16, v.toFixed(1), 'text-anchor="middle" fill="#555"'));
  }
  b.push(text((left + right) / 2, gridBottom + 32, 'ratio (axis starts at 1.0 = no gain; * = measured on a leading slice)', 'text-anchor="middle" fill="#555"'));
  const labels: string[] = []; // drawn last, over the bound marks
  res.inputs.forEach((r, gi) => {
    const y0 = top + gi * groupH;
    b.push(text(left - 8, y0 + (codecs.length * barH) / 2 + 4, r.input.name, 'text-anchor="end"'));
    codecs.forEach((c, i) => {
      const m = ran(r, c.id, 1);
      if (!m) return;
      const y = y0 + i * barH;
      b.push(`<rect x="${left}" y="${y + 1}" width="${(X(m.ratio) - left).toFixed(1)}" height="${barH - 2}" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(`${r.input.name}, ${c.label}: x${m.ratio.toFixed(3)}`)}</title></rect>`);
      const star = m.ratioBytes < m.originalBytes ? '*' : '';
      labels.push(text(X(m.ratio) + 3, y + barH - 2, `${m.ratio.toFixed(3)}${star}`, 'font-size="9" fill="#333" stroke="#fff" stroke-width="3" paint-order="stroke"'));
    });
    const yb = y0 - 2;
    const ye = y0 + codecs.length * barH + 2;
    const b0 = X(r.bytes / r.bounds.order0Bytes);
    const b1 = X(r.bytes / r.bounds.order1Bytes);
    b.push(`<line x1="${b0.toFixed(1)}" y1="${yb}" x2="${b0.toFixed(1)}" y2="${ye}" stroke="#000" stroke-width="2"><title>order-0 bound x${(r.bytes / r.bounds.order0Bytes).toFixed(3)}</title></line>`);
    b.push(`<line x1="${b1.toFixed(1)}" y1="${yb}" x2="${b1.toFixed(1)}" y2="${ye}" stroke="#777" stroke-width="2" stroke-dasharray="3,2"><title>order-1 bound x${(r.bytes / r.bounds.order1Bytes).toFixed(3)}</title></line>`);
  });
  b.push(...labels);
  return svg(W, height, b);
}

/** Inputs the throughput chart shows: the synthetic ones and llama-tiny/base, else the largest input. */
export function throughputInputs(res: BenchResults): InputResult[] {
  const chosen = res.inputs.filter((r) => r.input.origin === 'synthetic' || r.input.name === 'llama-tiny/base');
  if (chosen.length > 0) return chosen;
  const largest = [...res.inputs].sort((a, b) => b.bytes - a.bytes)[0];
  return largest ? [largest] : [];
}

/**
 * Throughput chart: a panel per input; in each, one row per codec with four bars (encode and decode, at one thread
 * and at all threads), on a log scale since the codecs span four orders of magnitude.
 */
export function throughputChart(res: BenchResults): string {
  const codecs = res.codecs;
  const threads = res.options.threads;
  const series = threads.flatMap((t) => (['encode', 'decode'] as const).map((step) => ({ step, t })));
  series.sort((a, b) => (a.step === b.step ? a.t - b.t : a.step === 'encode' ? -1 : 1));
  const colour = (s: { step: 'encode' | 'decode'; t: number }): string => {
    const k = threads.indexOf(s.t);
    const enc = ['#9ecae1', '#3182bd', '#08519c'];
    const dec = ['#fdae6b', '#e6550d', '#a63603'];
    return (s.step === 'encode' ? enc : dec)[Math.min(k, 2)];
  };
  const inputs = throughputInputs(res);
  const W = 960;
  const left = 120;
  const right = W - 80;
  const barH = 7;
  const rowH = series.length * barH + 8;
  const panelHead = 26;
  let lo = Infinity;
  let hi = 0;
  for (const r of inputs) for (const c of codecs) for (const t of threads) {
    const m = ran(r, c.id, t);
    if (m) {
      lo = Math.min(lo, m.encode.median, m.decode.median);
      hi = Math.max(hi, m.encode.median, m.decode.median);
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 1;
    hi = 10;
  }
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.max(d0 + 1, Math.ceil(Math.log10(hi)));
  const X = (v: number): number => left + ((Math.log10(v) - d0) / (d1 - d0)) * (right - left);
  const top = 70;
  const panelH = panelHead + codecs.length * rowH + 10;
  const height = top + inputs.length * panelH + 36;
  const b: string[] = [];
  b.push(text(16, 24, 'Throughput in MB/s of original bytes (median of runs; log scale): longer is faster', 'font-size="15" font-weight="bold"'));
  let lx = 16;
  for (const s of series) {
    const label = `${s.step} ${s.t} thread${s.t > 1 ? 's' : ''}`;
    b.push(`<rect x="${lx}" y="38" width="12" height="12" fill="${colour(s)}"/>`);
    b.push(text(lx + 16, 48, label));
    lx += 30 + label.length * 7;
  }
  b.push(text(16, 64, 'A missing bar: that codec cannot use that many threads (see BENCHMARKS.md); † = timed on a leading slice.', 'fill="#555"'));
  const bottom = top + inputs.length * panelH;
  for (let d = d0; d <= d1; d++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** d;
      if (Math.log10(v) > d1 + 1e-9) continue;
      const x = X(v);
      b.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${k === 1 ? '#d0d0d0' : '#eeeeee'}"/>`);
      if (k === 1 || d1 - d0 <= 3) b.push(text(x, bottom + 14, v >= 1 ? String(v) : v.toString(), 'text-anchor="middle" fill="#555" font-size="10"'));
    }
  }
  b.push(text((left + right) / 2, bottom + 30, 'MB/s (10^6 bytes of original data per second)', 'text-anchor="middle" fill="#555"'));
  inputs.forEach((r, pi) => {
    const y0 = top + pi * panelH;
    b.push(text(16, y0 + 18, `${r.input.name} (${(r.bytes / 1e6).toFixed(1)} MB)`, 'font-weight="bold"'));
    codecs.forEach((c, ci) => {
      const yr = y0 + panelHead + ci * rowH;
      b.push(text(left - 8, yr + (series.length * barH) / 2 + 4, c.label, 'text-anchor="end"'));
      series.forEach((s, si) => {
        const m = ran(r, c.id, s.t);
        if (!m || (s.step === 'encode' ? m.encodeSingleThread : m.decodeSingleThread)) return;
        const v = m[s.step].median;
        const y = yr + si * barH;
        const dagger = m[s.step].bytes < m.originalBytes ? '†' : '';
        b.push(`<rect x="${left}" y="${y}" width="${Math.max(1, X(v) - left).toFixed(1)}" height="${barH - 1}" fill="${colour(s)}"><title>${esc(`${r.input.name}, ${c.label}, ${s.step}, ${s.t} thread(s): ${v.toFixed(1)} MB/s`)}</title></rect>`);
        b.push(text(X(v) + 3, y + barH - 1, `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${dagger}`, 'font-size="8" fill="#333"'));
      });
    });
  });
  return svg(W, height, b);
}
