// Where one window of the perplexity harness spends its time: the llama-tiny forward pass in one thread with every
// evaluator kernel call timed (performance.now around each call from TypeScript), per kernel and, for the matrix
// products, per shape with the operations per second of the products actually needed (the causal half of attention).
// Usage: npm run bench:perplexity-profile -- [--windows 8] [--model DIR_OR_CONTAINER]
// Prints a Markdown table: milliseconds per window and share, after one warm-up window.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadLlama } from '../src/eval/load-llama.js';
import { packModel } from '../src/eval/packed-model.js';
import { WindowForward } from '../src/eval/window-forward.js';
import { EvalKernels, instantiateEvalKernels, type EvalKernelExports } from '../src/wasm/eval-kernels.js';
import { CORPUS_ROOT } from './inputs.js';
import { option } from './args.js';

const windows = Number(option('windows') ?? 8);
const model = option('model') ?? join(CORPUS_ROOT, 'llama-tiny', 'base');
const text = readFileSync(join(CORPUS_ROOT, 'llama-tiny', 'eval', 'gyp.py.txt'));
const T = 512;
const weights = await loadLlama(model);

const plain = (await instantiateEvalKernels()).k;
const ms = new Map<string, number>();
const flops = new Map<string, number>();
const timed = { ...plain } as Record<string, unknown>;
for (const [name, f] of Object.entries(plain)) {
  if (typeof f !== 'function' || name === 'heapBase') continue;
  timed[name] = (...a: number[]) => {
    const t0 = performance.now();
    const r = (f as (...x: number[]) => number)(...a);
    const dt = performance.now() - t0;
    let key = name;
    if (name === 'gemm') {
      const [M, N, K, causal] = [a[7], a[8], a[9], a[10]];
      key = `gemm ${M}x${N}x${K}${causal === 1 ? ' (Q·Kᵀ, causal)' : causal === 2 ? ' (P·V, causal)' : ''}`;
      // Products needed: M·N·K multiply-adds, or the causal half (row i uses i + 1 columns of Q·Kᵀ, or i + 1 rows of V).
      const macs = causal === 0 ? M * N * K : causal === 1 ? ((M * (M + 1)) / 2) * K : ((M * (M + 1)) / 2) * N;
      flops.set(key, (flops.get(key) ?? 0) + 2 * macs);
    }
    ms.set(key, (ms.get(key) ?? 0) + dt);
    return r;
  };
}
const kernels = new EvalKernels(timed as unknown as EvalKernelExports);
const fwd = await WindowForward.create(packModel(weights), T, kernels);
fwd.score(text.subarray(0, T));
ms.clear();
flops.clear();
const load = loadavg()[0];
const t0 = performance.now();
for (let w = 1; w <= windows; w++) fwd.score(text.subarray(w * T, (w + 1) * T));
const total = (performance.now() - t0) / windows;

console.log(`${windows} windows of ${T} bytes after one warm-up, one thread, load average ${load.toFixed(2)}: ${total.toFixed(1)} ms per window`);
console.log('| kernel | ms per window | share | 10^9 operations/s |');
console.log('| --- | --- | --- | --- |');
for (const [key, v] of [...ms].sort((a, b) => b[1] - a[1])) {
  const per = v / windows;
  const f = flops.get(key);
  console.log(`| ${key} | ${per.toFixed(2)} | ${((100 * per) / total).toFixed(1)} % | ${f ? (f / v / 1e6).toFixed(1) : ''} |`);
}
