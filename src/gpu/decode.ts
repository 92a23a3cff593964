// decodeToGPU: tensors of a .wcodec container decoded straight into GPU buffers (FORMAT.md §5.3 lockstep lanes,
// §6, §7.3), with every chunk's status (its CRC-32C or, in version 4, its digest, checked on the GPU) and, where asked
// or by default below version 4, each tensor's SHA-256 checked; Huffman-coded planes (§5.4) and DUPLICATE, XOR_DELTA,
// QUANT_SCALE, ZERO_FLAGS and INT_PREDICT segments (§3.5.1-§3.5.3.3) decoded on the GPU too, the tensors the GPU cannot
// decode (transform-routes.ts) decoded on the CPU and uploaded, and without a usable GPU the CPU decoding instead
// (reported).
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { GpuUnavailableError } from '../errors.js';
import type { Checkpoint, TensorData, TensorInfo } from '../api/checkpoint.js';
import type { GpuDecodeOptions, GpuDecodeResult, GpuTensor } from './decode-options.js';
import { requestDecodeDevice, type DeviceResult } from './adapter.js';
import type { PlanTensorInput } from './decode-plan.js';
import { LaneLayoutError } from './chunk-status.js';
import { chooseLanes } from './lanes-dispatch.js';
import { GpuDecodeJob } from './decode-job.js';
import { checkTensorDigests } from './digest-check.js';
import { uploadCpuDecoded } from './cpu-decoded-upload.js';
import { routeOf, type GpuRoute } from './transform-routes.js';
import { encodeXorDeltas, type XorDelta } from './xor-pass.js';
import { uploadReference } from './reference-upload.js';
import { encodePlaceCopies } from './place-copy.js';
import { zeroFlagsSteps } from './zero-flags-pass.js';
import { quantScaleSteps } from './quant-scale-pass.js';
import { intPredictSteps } from './int-predict-pass.js';
import { encodeComputeSteps, type GpuPlace, type InverseWork } from './compute-steps.js';
import { segmentChunks, type SegmentRecord } from '../pipeline/index-codec.js';
import { FORMAT_VERSION_DIGESTS, HEADER_BYTES } from '../format/constants.js';

/**
 * Decodes tensors of a checkpoint straight into GPU buffers. Each tensor's bytes land in one of the returned
 * buffers at a 256-byte aligned offset, exactly as the CPU path produces them. Every chunk is checked on the GPU (a
 * status word per chunk): its rANS end conditions and packed-plane padding; in versions 1-3 its CRC-32C (on the host
 * while uploading with `checkCrc: true`; not with false); in version 4 the digest of the bytes it decoded to, bound
 * to its segment and place (chunk-digest.wgsl). Each tensor's SHA-256 is checked after a readback with
 * `checkSha256: true`, and by default in versions 1-3; an XOR delta's and a value-transformed tensor's also in version
 * 4, as the CPU reader checks them. Its labels are checked against its file's stored safetensors header before anything
 * is decoded. A DUPLICATE decodes as the segment it repeats, an XOR_DELTA as its stream XORed on the GPU into the
 * reference tensor (`reference`), a ZERO_FLAGS, QUANT_SCALE or INT_PREDICT as its streams put together by the
 * transform's GPU inverse; Huffman-coded planes are transcoded into raw planes on the GPU first (huffman.wgsl). What
 * the GPU does not decode (the other value transforms, an XOR delta without its reference tensor, a record the inverse
 * rejects, a value-transformed tensor larger than a storage binding) is decoded on the CPU and uploaded
 * (GpuTensor.cpuDecoded says why).
 * @param checkpoint an open container (openContainer / openCheckpoint)
 * @param names tensor names (as Checkpoint.find resolves them)
 * @param device the GPU device to decode on; undefined: request one (navigator.gpu, or Dawn in Node)
 * @returns the GPU tensors, or, when no device can be had and the fallback is allowed, the tensors decoded
 *   on the CPU with the reason (`backend: 'cpu'`)
 * @throws NOT_FOUND, AMBIGUOUS_NAME, LABEL_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH, LIMIT_EXCEEDED, REFERENCE_MISSING,
 *   REFERENCE_MISMATCH, CORRUPT_TRANSFORM (a value transform's streams inconsistent with its record); GPU_UNAVAILABLE when there is no device and `allowCpuFallback` is false
 */
export async function decodeToGPU(checkpoint: Checkpoint, names: string[], device?: GPUDevice, options: GpuDecodeOptions = {}): Promise<GpuDecodeResult> {
  const infos: TensorInfo[] = [];
  for (const name of names) infos.push(await checkpoint.find(name));
  // Labels first: a tensor is never decoded, on any device, under a name, dtype or shape its file does not give it.
  for (const info of infos) await checkpoint.checkLabels(info);
  let dev = device;
  if (!dev) {
    const got: DeviceResult = options.gpu === null ? { device: undefined, reason: 'no WebGPU entry point was given (gpu: null)' } : await requestDecodeDevice('wcodec decode', options.gpu);
    if (!got.device) {
      if (options.allowCpuFallback === false) throw new GpuUnavailableError('GPU_UNAVAILABLE', `no GPU for decoding: ${got.reason}`);
      const tensors: TensorData[] = [];
      for (const info of infos) tensors.push(await checkpoint.read(info.name, { reference: options.reference, checkSha256: checksSha256(checkpoint, options) }));
      return { backend: 'cpu', reason: got.reason, tensors };
    }
    dev = got.device;
  }
  try {
    return await decodeOn(dev, checkpoint, infos, options);
  } catch (e) {
    if (!(e instanceof LaneLayoutError) || options.lanes === 'subgroup') throw e;
    return decodeOn(dev, checkpoint, infos, { ...options, lanes: 'workgroup' });
  }
}

/**
 * Decodes on the CPU the tensors the GPU cannot (transform-routes.ts, cpu-decoded-upload.ts) and the others on the
 * GPU, and returns them in the order of `infos`.
 */
async function decodeOn(device: GPUDevice, checkpoint: Checkpoint, infos: TensorInfo[], options: GpuDecodeOptions): Promise<GpuDecodeResult> {
  const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const routes = new Map(infos.map((info) => [info, routeOf(checkpoint.segmentOf(info), checkpoint.reader.index, options.reference, maxBinding)]));
  const onGpu = infos.filter((info) => routes.get(info)!.kind !== 'cpu');
  if (onGpu.length === infos.length) return decodeOnGpu(device, checkpoint, infos, routes, options);
  const t0 = performance.now();
  const reasons = new Map<TensorInfo, string>();
  for (const [info, r] of routes) if (r.kind === 'cpu') reasons.set(info, r.reason);
  const uploaded = await uploadCpuDecoded(device, checkpoint, reasons, { reference: options.reference, checkSha256: checksSha256(checkpoint, options) });
  const cpuMs = performance.now() - t0;
  const own = [...uploaded.values()].map((t) => t.buffer);
  if (onGpu.length === 0) {
    return { backend: 'gpu', device, tensors: infos.map((i) => uploaded.get(i)!), buffers: own, lanes: options.lanes ?? chooseLanes(device), inputBytes: 0, outputBytes: 0, timings: { setupMs: cpuMs, uploadAndDecodeMs: 0, digestMs: 0 } };
  }
  let gpu: GpuDecodeResult;
  try {
    gpu = await decodeOnGpu(device, checkpoint, onGpu, routes, options);
  } catch (e) {
    for (const b of own) b.destroy();
    throw e;
  }
  if (gpu.backend !== 'gpu') return gpu;
  const byInfo = new Map(gpu.tensors.map((t) => [t.info, t]));
  return { ...gpu, tensors: infos.map((i) => uploaded.get(i) ?? byInfo.get(i)!), buffers: [...gpu.buffers, ...own], timings: { ...gpu.timings, setupMs: gpu.timings.setupMs + cpuMs } };
}

/** Whether the tensors' SHA-256 is checked: `checkSha256`, else `checkDigests`, else the CPU reader's default for the container's version. */
function checksSha256(checkpoint: Checkpoint, options: GpuDecodeOptions): boolean {
  return checkpoint.reader.checksSha256({ checkSha256: options.checkSha256, checkDigests: options.checkDigests });
}

/**
 * Decodes `infos` (none routed to the CPU) on the GPU; on failure no output buffer stays. The streams of XOR deltas
 * and value-transformed tensors are decoded first, by a job of their own whose outputs are freed at the end (their
 * chunk checks come before the reference's and the inverse's, FORMAT.md §3.5); then one job decodes every tensor's
 * chunks into its place (a DUPLICATE's target's chunks into the duplicate's), the reference tensors are written into
 * the places of the XOR deltas and their streams XORed in (xor-pass.ts), the value transforms' inverses write their
 * tensors from their streams (zero-flags-pass.ts, quant-scale-pass.ts, int-predict-pass.ts) and their checks are read
 * back, and a tensor whose bytes another place of this decode already holds is copied from there. The SHA-256 checks
 * follow the CPU reader's: on request or by default in versions 1-3, and for an XOR delta or a value-transformed
 * tensor always in version 4 (its chunk digests cover the streams, not the tensor: FORMAT.md §7.3 item 4).
 */
async function decodeOnGpu(device: GPUDevice, checkpoint: Checkpoint, infos: TensorInfo[], routes: Map<TensorInfo, GpuRoute>, options: GpuDecodeOptions): Promise<GpuDecodeResult> {
  const file = checkpoint.reader.source.name;
  const source = checkpoint.reader.source;
  const sha = checksSha256(checkpoint, options);
  const v4 = checkpoint.reader.version >= FORMAT_VERSION_DIGESTS;
  const upload = options.upload ?? 'staging';
  const checkCrc = options.checkCrc ?? 'gpu';
  const t0 = performance.now();
  // Inputs of the main job, one per tensor in the order of `infos`: the segment its chunks come from, or (for an XOR
  // delta, and for bytes this decode already produces elsewhere) a stand-in without chunks that only takes a place.
  const mainInputs: PlanTensorInput[] = [];
  const streamInputs: PlanTensorInput[] = [];
  const xors: { k: number; seg: SegmentRecord; stream: number }[] = [];
  // Value-transformed tensors: their route and the index of their first stream among the stream job's inputs.
  const inverses: { k: number; route: Extract<GpuRoute, { kind: 'zero-flags' | 'quant-scale' | 'int-predict' }>; first: number }[] = [];
  const copies: { from: number; to: number }[] = [];
  const firstPlace = new Map<SegmentRecord, number>();
  for (const [k, info] of infos.entries()) {
    const route = routes.get(info)!;
    if (route.kind === 'cpu') throw new RangeError(`tensor '${info.name}' is routed to the CPU`);
    const first = firstPlace.get(route.seg);
    const place = { name: info.name, seg: { ...route.seg, transform: undefined, chunks: [] } };
    if (first !== undefined) {
      copies.push({ from: first, to: k });
      mainInputs.push(place);
      continue;
    }
    firstPlace.set(route.seg, k);
    if (route.kind === 'xor-delta') {
      xors.push({ k, seg: route.seg, stream: streamInputs.length });
      streamInputs.push({ name: route.stream.name, seg: route.stream });
      mainInputs.push(place);
    } else if (route.kind === 'zero-flags' || route.kind === 'quant-scale' || route.kind === 'int-predict') {
      inverses.push({ k, route, first: streamInputs.length });
      const streams = route.kind === 'zero-flags' ? [route.flags, route.values] : route.streams;
      for (const st of streams) streamInputs.push({ name: st.name, seg: st });
      mainInputs.push(place);
    } else {
      mainInputs.push({ name: info.name, seg: route.seg });
    }
  }
  // Whose SHA-256 is checked after a readback: as the CPU reader checks them (FORMAT.md §7.3 item 4).
  const checked = infos.map((info) => sha || (v4 && routes.get(info)!.kind !== 'plain'));

  let streams: GpuDecodeJob | undefined;
  let job: GpuDecodeJob | undefined;
  let params: GPUBuffer | undefined;
  let scratch: GPUBuffer | undefined;
  const works: InverseWork[] = [];
  let worksPending: Promise<InverseWork[]> | undefined;
  let inverseParams: GPUBuffer | undefined;
  let ok = false;
  let t1 = t0;
  let t2 = t0;
  try {
    // Both jobs planned first; their pipelines compile while their first input slabs are read and uploaded.
    if (streamInputs.length > 0) streams = GpuDecodeJob.start(device, source, streamInputs, options);
    job = GpuDecodeJob.start(device, source, mainInputs, options);
    t1 = performance.now();
    // The inverses' pipelines compile and their steps are recorded while the streams upload (the places exist).
    if (inverses.length > 0) {
      worksPending = inverseSteps(device, inverses, infos, job, streams!, file);
      worksPending.catch(() => undefined);
    }
    if (streams) await streams.uploadAndDecode(upload, checkCrc);
    await job.uploadAndDecode(upload, checkCrc);
    // The streams' chunk checks come before the reference's and the inverses' (FORMAT.md §3.5).
    await streams?.checkStatus();
    const deltas: XorDelta[] = [];
    for (const x of xors) {
      const place = job.plan.tensors[x.k];
      const st = streams!.plan.tensors[x.stream];
      await uploadReference(device, options.reference!, x.seg, job.outputs[place.output], place.offset, file, segmentChunks(x.seg)[0]?.offset ?? 0);
      deltas.push({ out: job.outputs[place.output], outOffset: place.offset, stream: streams!.outputs[st.output], streamOffset: st.offset, bytes: place.byteLength });
    }
    if (worksPending) works.push(...(await worksPending));
    if (deltas.length > 0 || copies.length > 0 || works.length > 0) {
      const enc = device.createCommandEncoder({ label: 'wcodec transforms' });
      if (deltas.length > 0) params = await encodeXorDeltas(device, enc, deltas);
      // Before the copies: a value-transformed tensor's place may be the source of one.
      const steps = works.flatMap((w) => w.steps);
      if (steps.length > 0) inverseParams = encodeComputeSteps(device, enc, 'wcodec value transforms', steps);
      const places = job.plan.tensors;
      scratch = encodePlaceCopies(device, enc, copies.map((c) => ({ from: job!.outputs[places[c.from].output], fromOffset: places[c.from].offset, to: job!.outputs[places[c.to].output], toOffset: places[c.to].offset, bytes: places[c.to].byteLength })));
      device.queue.submit([enc.finish()]);
    }
    await job.checkStatus();
    for (const w of works) await w.check();
    t2 = performance.now();
    if (checked.some((c) => c)) await checkTensorDigests(job, file, (k) => checked[k]);
    ok = true;
  } finally {
    streams?.releaseInputs();
    if (streams) for (const b of streams.outputs) b.destroy();
    job?.releaseInputs();
    params?.destroy();
    scratch?.destroy();
    inverseParams?.destroy();
    for (const w of works) for (const b of w.buffers) b.destroy();
    // Steps recorded but never taken (an upload or a check failed first): their buffers go too.
    if (worksPending && works.length === 0) for (const w of await worksPending.catch(() => [])) for (const b of w.buffers) b.destroy();
    if (!ok && job) for (const b of job.outputs) b.destroy();
  }
  const t3 = performance.now();
  const done = job!;
  const tensors: GpuTensor[] = done.plan.tensors.map((t, k) => ({ info: infos[k], buffer: done.outputs[t.output], offset: t.offset, byteLength: t.byteLength }));
  return {
    backend: 'gpu',
    device,
    tensors,
    buffers: done.outputs,
    lanes: done.lanes,
    inputBytes: done.plan.inputBytes + (streams?.plan.inputBytes ?? 0),
    outputBytes: done.plan.outputBytes,
    timings: { setupMs: t1 - t0, uploadAndDecodeMs: t2 - t1, digestMs: checked.some((c) => c) ? t3 - t2 : 0 },
  };
}

/**
 * The GPU inverses of the value-transformed tensors `inverses` (their streams decoded by `streams` into its outputs,
 * their places in `job`'s outputs), one work per transform; an empty tensor has nothing to write and no steps.
 * @throws the device's GPUPipelineError when a kernel does not compile
 */
async function inverseSteps(device: GPUDevice, inverses: { k: number; route: Extract<GpuRoute, { kind: 'zero-flags' | 'quant-scale' | 'int-predict' }>; first: number }[], infos: TensorInfo[], job: GpuDecodeJob, streams: GpuDecodeJob, file: string): Promise<InverseWork[]> {
  const placeOf = (p: { output: number; offset: number; byteLength: number }, outputs: GPUBuffer[]): GpuPlace => ({ buffer: outputs[p.output], offset: p.offset, bytes: p.byteLength });
  const stream = (x: { first: number }, j: number): GpuPlace => placeOf(streams.plan.tensors[x.first + j], streams.outputs);
  const common = (x: { k: number; route: { seg: SegmentRecord } }) => ({ name: infos[x.k].name, out: placeOf(job.plan.tensors[x.k], job.outputs), at: segmentChunks(x.route.seg)[0]?.offset ?? HEADER_BYTES });
  const works: InverseWork[] = [];
  try {
    const zf = inverses.flatMap((x) => (x.route.kind === 'zero-flags' ? [{ ...common(x), n: x.route.n, W: x.route.W, flags: stream(x, 0), values: stream(x, 1) }] : []));
    if (zf.length > 0) works.push(await zeroFlagsSteps(device, zf, file));
    const qs = inverses.flatMap((x) => (x.route.kind === 'quant-scale' && x.route.n > 0 ? [{ ...common(x), dtype: x.route.seg.dtype, n: x.route.n, W: x.route.W, G: x.route.G, codes: stream(x, 0), scales: stream(x, 1), exceptions: stream(x, 2) }] : []));
    if (qs.length > 0) works.push(await quantScaleSteps(device, qs, file));
    const ip = inverses.flatMap((x) => (x.route.kind === 'int-predict' && x.route.rows > 0 ? [{ ...common(x), rows: x.route.rows, cols: x.route.cols, tileRows: x.route.tileRows, tileCols: x.route.tileCols, W: x.route.W, signed: x.route.signed, predictors: stream(x, 0), residuals: stream(x, 1) }] : []));
    if (ip.length > 0) works.push(await intPredictSteps(device, ip, file));
  } catch (e) {
    for (const w of works) for (const b of w.buffers) b.destroy();
    throw e;
  }
  return works;
}
