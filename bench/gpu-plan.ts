// The host's planning cost of a GPU decode (src/gpu/decode-plan.ts): planDecode of every tensor of a container, as
// decodeToGPU plans it with an H200's limits, timed N times (wall clock and this process's CPU time; the CPU time is
// what to compare on a shared machine). No GPU is used.
// Usage: node dist/bench/gpu-plan.js CONTAINER [--reps N]

import '../src/io/node-sha256.js';
import { openCheckpoint } from '../src/node.js';
import { planDecode } from '../src/gpu/decode-plan.js';

async function main(): Promise<void> {
  const [container, ...rest] = process.argv.slice(2);
  if (!container) throw new RangeError('usage: gpu-plan CONTAINER [--reps N]');
  const reps = rest[0] === '--reps' ? Number(rest[1]) : 15;
  const cp = await openCheckpoint(container);
  try {
    const inputs = cp.tensors.map((info) => ({ name: info.name, seg: cp.segmentOf(info) }));
    // decode-job.ts's defaults with an H200's limits: 64 MiB input slabs, 1 GiB outputs, 48 KiB workgroup tables.
    const limits = { maxBinding: 2 ** 31 - 4, maxBuffer: 2 ** 34, inputSlabBytes: 64 << 20, outputSlabBytes: 1 << 30, tableWords: 12 * 1024 - 128, groups: 8, specialize: true, lean: true };
    const wall: number[] = [];
    const cpu: number[] = [];
    let chunks = 0;
    for (let k = 0; k < reps; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      chunks = planDecode(inputs, limits, container).origins.length;
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
    const [w, u] = [sorted(wall), sorted(cpu)];
    const mid = Math.floor(reps / 2);
    console.log(JSON.stringify({ container, tensors: inputs.length, chunks, reps, wallMs: { min: w[0], median: w[mid] }, cpuMs: { min: u[0], median: u[mid] } }));
  } finally {
    await cp.close();
  }
}

await main();
