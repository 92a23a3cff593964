// Where decodeToGPU's setup goes on a real GPU, before the first input slab is read: the decode plan (planDecode, in
// JavaScript), the output buffers, and the rest of GpuDecodeJob.start (its pipelines' creation up to their first
// await, table images), each timed alone; then the whole start and, awaited, the pipelines and tables ready. Every
// tensor of the container, as decodeToGPU plans it (plain segments only). Median of --reps after one warm-up, the
// same device throughout (pipelines cached after the first).
// Usage: node dist/bench/gpu-setup.js CONTAINER [--reps 5]

import '../src/io/node-sha256.js';
import { openCheckpoint } from '../src/node.js';
import { BUFFER_USAGE, requestDecodeDevice } from '../src/gpu/adapter.js';
import { GpuDecodeJob, INPUT_SLAB_BYTES, workgroupTableWords } from '../src/gpu/decode-job.js';
import { planDecode } from '../src/gpu/decode-plan.js';
import { chooseLanes } from '../src/gpu/lanes-dispatch.js';
import { groupsPerWorkgroup } from '../src/gpu/kernels.js';
import { median } from './median.js';

const path = process.argv[2];
const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 5;
if (!path || !(reps >= 1)) throw new Error('usage: gpu-setup CONTAINER [--reps 5]');
const got = await requestDecodeDevice('wcodec setup bench');
if (!got.device) throw new Error(`no GPU: ${got.reason}`);
const device = got.device;
const cp = await openCheckpoint(path);
const inputs = cp.tensors.map((info) => ({ name: info.name, seg: cp.segmentOf(info) }));
const lanes = chooseLanes(device);
const groups = groupsPerWorkgroup(lanes);
const times: Record<string, number[]> = { plan: [], outputBuffers: [], start: [], ready: [] };
let chunks = 0;
for (let r = 0; r <= reps; r++) {
  let t = performance.now();
  const plan = planDecode(inputs, { maxBinding: device.limits.maxStorageBufferBindingSize, maxBuffer: device.limits.maxBufferSize, inputSlabBytes: INPUT_SLAB_BYTES, outputSlabBytes: 1024 * 1024 * 1024, tableWords: workgroupTableWords(device), groups, lean: true }, path);
  const planMs = performance.now() - t;
  chunks = plan.origins.length;
  t = performance.now();
  const outs = plan.outputSizes.map((size) => device.createBuffer({ size, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST }));
  const buffersMs = performance.now() - t;
  for (const b of outs) b.destroy();
  await device.queue.onSubmittedWorkDone();
  t = performance.now();
  const job = GpuDecodeJob.start(device, cp.reader.source, inputs, { lanes });
  const startMs = performance.now() - t;
  await job.ready();
  const readyMs = performance.now() - t;
  job.releaseInputs();
  for (const b of job.outputs) b.destroy();
  await device.queue.onSubmittedWorkDone();
  if (r === 0) continue;
  times.plan.push(planMs);
  times.outputBuffers.push(buffersMs);
  times.start.push(startMs);
  times.ready.push(readyMs);
}
await cp.close();
console.log(JSON.stringify({ container: path, tensors: inputs.length, chunks, lanes, reps, medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(median(v) * 100) / 100])), runsMs: times }));
device.destroy();
