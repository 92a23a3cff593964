// The rate–distortion chart of bench/lossy-curve.ts as standalone SVG: bits per weight against perplexity increase
// (log scale), one panel per evaluation text, one series per family of methods.

/** What the chart reads of a result row. */
export interface CurveRow {
  method: string;
  family: string;
  bitsPerWeight: number;
  texts: { text: string; increasePercent: number }[];
}

const FAMILIES = ['wcodec uniform', 'wcodec GPTQ', 'wcodec GPTQ mixed', 'wcodec FP8', 'wcodec pruned', 'RTN', 'FP8', 'llama.cpp'];
const PALETTE = ['#0072B2', '#D55E00', '#000000', '#56B4E9', '#999999', '#009E73', '#CC79A7', '#E69F00'];
/** Increases below this are drawn at it: the log axis has no zero, and smaller differences are noise of the text. */
const FLOOR_PERCENT = 0.01;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The chart of `rows` (the lossless row and any row above 9 bits per weight are left out).
 * @returns SVG text
 */
export function lossyChart(rows: CurveRow[]): string {
  const shown = rows.filter((r) => r.family !== 'lossless' && r.bitsPerWeight <= 9);
  const texts = rows[0]?.texts.map((t) => t.text) ?? [];
  const panelW = 440;
  const panelH = 320;
  const left = 60;
  const top = 70;
  const W = left + texts.length * (panelW + 40) + 20;
  const H = top + panelH + 60;
  let maxInc = 1;
  for (const r of shown) for (const t of r.texts) maxInc = Math.max(maxInc, t.increasePercent);
  const yDecades = [-2, Math.ceil(Math.log10(maxInc))];
  const X = (p: number, b: number): number => left + p * (panelW + 40) + ((b - 2) / 7) * panelW;
  const Y = (inc: number): number => top + panelH - ((Math.log10(Math.max(FLOOR_PERCENT, inc)) - yDecades[0]) / (yDecades[1] - yDecades[0])) * panelH;
  const b: string[] = [];
  b.push(`<text x="16" y="24" font-size="15" font-weight="bold">llama-tiny (F32): bits per weight against perplexity increase, lower left is better</text>`);
  FAMILIES.forEach((f, i) => {
    b.push(`<circle cx="${22 + i * 125}" cy="42" r="5" fill="${PALETTE[i]}"/>`, `<text x="${32 + i * 125}" y="46">${esc(f)}</text>`);
  });
  texts.forEach((name, p) => {
    const x0 = X(p, 2);
    b.push(`<text x="${x0 + panelW / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${esc(name)}</text>`);
    for (let bits = 2; bits <= 9; bits++) {
      b.push(`<line x1="${X(p, bits)}" y1="${top}" x2="${X(p, bits)}" y2="${top + panelH}" stroke="#e5e5e5"/>`);
      b.push(`<text x="${X(p, bits)}" y="${top + panelH + 16}" text-anchor="middle" fill="#555">${bits}</text>`);
    }
    for (let d = yDecades[0]; d <= yDecades[1]; d++) {
      const y = Y(10 ** d);
      b.push(`<line x1="${x0}" y1="${y}" x2="${x0 + panelW}" y2="${y}" stroke="#e5e5e5"/>`);
      b.push(`<text x="${x0 - 4}" y="${y + 4}" text-anchor="end" fill="#555">${10 ** d >= 1 ? 10 ** d : (10 ** d).toFixed(-d)} %</text>`);
    }
    b.push(`<text x="${x0 + panelW / 2}" y="${top + panelH + 34}" text-anchor="middle" fill="#555">bits per weight (all tensors); increases below ${FLOOR_PERCENT} % drawn at ${FLOOR_PERCENT} %</text>`);
    FAMILIES.forEach((f, i) => {
      const pts = shown.filter((r) => r.family === f).map((r) => ({ r, inc: r.texts[p].increasePercent })).sort((a, c) => a.r.bitsPerWeight - c.r.bitsPerWeight);
      if (f.startsWith('wcodec') && pts.length > 1) b.push(`<polyline fill="none" stroke="${PALETTE[i]}" stroke-width="1.5" points="${pts.map((q) => `${X(p, q.r.bitsPerWeight).toFixed(1)},${Y(q.inc).toFixed(1)}`).join(' ')}"/>`);
      for (const q of pts) {
        const x = X(p, q.r.bitsPerWeight).toFixed(1);
        const y = Y(q.inc).toFixed(1);
        b.push(`<circle cx="${x}" cy="${y}" r="4.5" fill="${PALETTE[i]}"><title>${esc(`${q.r.method}: ${q.r.bitsPerWeight.toFixed(3)} bits/weight, ${q.inc.toFixed(3)} %`)}</title></circle>`);
        b.push(`<text x="${Number(x) + 6}" y="${Number(y) - 5}" font-size="9" fill="#333">${esc(q.r.method)}</text>`);
      }
    });
  });
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="#ffffff"/>`, ...b, '</svg>', ''].join('\n');
}
