// A one-line progress bar on stderr, shown only on a terminal; the only place besides main.ts that prints.

import { printable } from './printable.js';

/** Progress over a known total of bytes. */
export class ProgressBar {
  private last = 0;
  private start = Date.now();
  private label = '';
  constructor(private enabled: boolean, private total: number) {}

  setLabel(label: string): void {
    this.label = printable(label);
  }

  /** Redraws at most every 100 ms. */
  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const mbps = done / 1e6 / Math.max(0.001, (now - this.start) / 1000);
    const name = this.label.length > 40 ? '…' + this.label.slice(-39) : this.label;
    process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mbps.toFixed(1)} MB/s ${name}\x1b[K`);
  }

  /** Clears the line. */
  finish(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
