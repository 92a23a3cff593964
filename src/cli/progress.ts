// A one-line progress bar on stderr over one input's total bytes (every file of a folder), with speed, ETA and
// "file i of n"; shown only on a terminal. The only place besides main.ts that prints.

import { printable } from './printable.js';

/** Redraws at most this often. */
const REDRAW_MS = 100;
const BAR_WIDTH = 20;

/** "1:05", "1:02:03": a duration in whole seconds. */
function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  return (hms[0] > 0 ? `${hms[0]}:${String(hms[1]).padStart(2, '0')}` : `${hms[1]}`) + `:${String(hms[2]).padStart(2, '0')}`;
}

/** Progress over the bytes of one input; `prefix` ("(2/5) ") marks which of several inputs it is. */
export class ProgressBar {
  private lastDraw = 0;
  private readonly start = Date.now();
  private total = 0;
  private files = 0;
  private file = 0;
  private label = '';
  /** Bytes of the files before the current one. */
  private base = 0;
  /** The current file's size, as its progress reports it. */
  private current = 0;
  private drawn = false;

  constructor(private readonly enabled: boolean, private readonly prefix = '') {}

  /** The input's total size and file count. */
  begin(totalBytes: number, fileCount: number): void {
    this.total = totalBytes;
    this.files = fileCount;
  }

  /** A file starts: the bytes of the previous one count as done. */
  member(path: string, index: number, count: number): void {
    this.base += this.current;
    this.current = 0;
    this.file = index + 1;
    this.files = count;
    this.label = printable(path);
    this.update(0, 0);
  }

  /** `done` of the current file's `size` bytes are through. */
  update(done: number, size: number): void {
    this.current = size;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS && done < size) return;
    this.lastDraw = now;
    const all = this.base + done;
    const total = Math.max(this.total, all);
    const frac = total > 0 ? all / total : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const secs = Math.max(0.001, (now - this.start) / 1000);
    const rate = all / secs;
    const eta = rate > 0 && all > 0 ? ` ETA ${formatDuration((total - all) / rate)}` : '';
    const mb = (n: number): string => (n / 1e6).toFixed(n < 1e7 ? 1 : 0);
    // Parts in display order; what does not fit the terminal is left out, the least useful first.
    const parts: { text: string; priority: number }[] = [
      { text: `${this.prefix}[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`, priority: 0 },
      { text: `${mb(all)}/${mb(total)} MB`, priority: 1 },
      { text: `${(rate / 1e6).toFixed(1)} MB/s`, priority: 4 },
      { text: eta.trim(), priority: 2 },
      { text: this.files > 1 ? `file ${this.file} of ${this.files}` : '', priority: 3 },
    ].filter((p) => p.text !== '');
    const columns = (process.stderr.columns || 80) - 1; // 0 where the terminal reports no size
    const keep = new Set<number>();
    let width = -1;
    for (const k of parts.map((_, k) => k).sort((a, b) => parts[a].priority - parts[b].priority)) {
      if (width + 1 + parts[k].text.length > columns) break;
      width += 1 + parts[k].text.length;
      keep.add(k);
    }
    let line = parts.filter((_, k) => keep.has(k)).map((p) => p.text).join(' ');
    const room = columns - line.length - 1;
    if (room > 8) line += ' ' + (this.label.length > room ? '…' + this.label.slice(-(room - 1)) : this.label);
    process.stderr.write(`\r${line.slice(0, columns)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line. */
  finish(): void {
    if (this.enabled && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
