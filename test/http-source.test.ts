// Containers read over HTTP (HttpSource through openCheckpoint) from a local range server (test/helpers/range-server.ts):
// request counts of a listing, a tensor and a whole model; exact bytes (SHA-256); retries of a 503 and of a connection
// reset mid-body (resumed from where it broke off); a corrupted range rejected and fetched again; an interrupted load
// continued without fetching again what it had; a server without range support; a file that changes mid-download;
// abort; progress; Blob and File sources against MemorySource. No network beyond 127.0.0.1.

import '../src/io/node-sha256.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { openContainer, segmentRanges, type LoadProgress } from '../src/api/checkpoint.js';
import { openCheckpoint, compressFile } from '../src/node.js';
import { HttpSource } from '../src/io/http-source.js';
import { BlobSource } from '../src/io/blob-source.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';
import { RangeServer } from './helpers/range-server.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Retries without waiting. */
const noWait = { sleep: async () => {}, retryDelayMs: 1 };

let server: RangeServer;
/** A model file of 8 tensors: two of several MB (many 256 KiB chunks), the rest small; and its container. */
let original: Uint8Array;
let container: Uint8Array;
/** Each tensor's original bytes, by name. */
const tensors = new Map<string, Uint8Array>();

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WcodecError, `a WcodecError, got ${(e as Error)?.stack ?? e}`);
    return e.code;
  }
  assert.fail('expected a rejection');
}

before(async () => {
  server = await RangeServer.start();
  const rng = new Rng(testSeed(71));
  const spec: [string, string, number][] = [
    ['embed', 'BF16', 3_000_001],
    ['norm', 'F32', 1025],
    ['layer.0.w', 'BF16', 1_500_000],
    ['layer.0.b', 'F16', 4097],
    ['layer.1.w', 'F32', 200_003],
    ['layer.1.b', 'F16', 33],
    ['mask', 'U8', 7],
    ['scale', 'F64', 65],
  ];
  const inputs = spec.map(([name, dtype, n]) => ({ name, dtype, shape: [n], data: makeValues(dtype, n, 'gaussian', rng) }));
  for (const t of inputs) tensors.set(t.name, t.data);
  original = buildSafetensors(inputs).bytes;
  container = await compressBuffer(original);
});

after(async () => {
  await server.close();
});

test('listing a container over HTTP costs two requests, made together: its first and last 64 KiB', async () => {
  const url = server.put('/list.wcodec', container);
  server.reset();
  const ckpt = await openCheckpoint(url);
  assert.equal(server.log.length, 2, JSON.stringify(server.log.map((r) => [r.start, r.end])));
  assert.deepEqual(server.log.map((r) => r.headers.range).sort(), ['bytes=-65536', 'bytes=0-65535']);
  const local = await openContainer(new MemorySource(container));
  assert.deepEqual(ckpt.tensors.map((t) => [t.name, t.dtype, t.shape, t.compressedBytes, t.sha256]), local.tensors.map((t) => [t.name, t.dtype, t.shape, t.compressedBytes, t.sha256]));
  await ckpt.close();
  // Wrong options are the caller's mistake: RangeError, before any request; a URL of another scheme: TypeError.
  server.reset();
  await assert.rejects(openCheckpoint(url, { maxInFlight: 0 }), RangeError);
  await assert.rejects(openCheckpoint(url, { maxRangeBytes: 1.5 }), RangeError);
  await assert.rejects(openCheckpoint(new URL('ftp://127.0.0.1/x.wcodec')), TypeError);
  assert.equal(server.log.length, 0);
});

test('a tensor over HTTP: one request for its chunks (a few with a smaller maxRangeBytes), exact bytes; into a caller\'s buffer', async () => {
  const url = server.put('/one.wcodec', container);
  const ckpt = await openCheckpoint(url);
  const info = ckpt.tensors.find((t) => t.name === 'embed')!;
  const chunks = segmentRanges(ckpt.segmentOf(info), ckpt.reader.index).length;
  assert.ok(chunks >= 20, `${chunks} chunks`);
  server.reset();
  const t = await ckpt.read('embed');
  assert.equal(server.log.length, 1, `${server.log.length} requests for ${chunks} chunks of ${info.compressedBytes} bytes`);
  assert.equal(sha(t.bytes), sha(tensors.get('embed')!));
  // Into a buffer of the caller's, whose bytes are poisoned first.
  const into = new Uint8Array(info.originalBytes).fill(0xa5);
  server.reset();
  const again = await ckpt.read('embed', { into });
  assert.equal(again.bytes, into);
  assert.equal(sha(into), sha(tensors.get('embed')!));
  assert.equal(server.log.length, 1);
  await ckpt.close();

  const small = await openCheckpoint(url, { maxRangeBytes: 1 << 20 });
  server.reset();
  const s = await small.read('embed');
  assert.equal(sha(s.bytes), sha(tensors.get('embed')!));
  assert.equal(server.log.length, Math.ceil(info.compressedBytes / (1 << 20)));
  assert.ok(server.log.every((r) => r.end! - r.start! <= 1 << 20));
  await small.close();
});

test('a whole model over HTTP: requests of up to maxRangeBytes, at most maxInFlight at once, every tensor exact; progress grows to the total', async () => {
  const url = server.put('/whole.wcodec', container);
  let inFlight = 0;
  let most = 0;
  const countingFetch: typeof fetch = async (input, init) => {
    inFlight++;
    most = Math.max(most, inFlight);
    try {
      const res = await fetch(input, init);
      const buf = await res.arrayBuffer();
      return new Response(buf, { status: res.status, headers: res.headers });
    } finally {
      inFlight--;
    }
  };
  const ckpt = await openCheckpoint(url, { fetch: countingFetch, maxRangeBytes: 1 << 20, maxInFlight: 2 });
  server.reset();
  const events: LoadProgress[] = [];
  const all = await ckpt.load({ onProgress: (p) => events.push(p) });
  assert.equal(all.length, tensors.size);
  for (const t of all) assert.equal(sha(t.bytes), sha(tensors.get(t.info.name)!), t.info.name);
  const total = ckpt.tensors.reduce((a, t) => a + t.compressedBytes, 0);
  assert.ok(events.length > 10);
  for (let k = 1; k < events.length; k++) assert.ok(events[k].loadedBytes >= events[k - 1].loadedBytes, `progress went back at event ${k}`);
  assert.ok(events.every((e) => e.totalBytes === total && e.loadedBytes <= total && e.tensor !== undefined && e.file !== undefined));
  assert.equal(events[events.length - 1].loadedBytes, total);
  assert.ok(most <= 2, `${most} requests in flight`);
  // The data region less what the opening requests hold, in requests of at most 1 MiB.
  assert.ok(server.log.length <= Math.ceil(container.length / (1 << 20)) + 1, `${server.log.length} requests`);
  assert.ok(server.bytesSent <= container.length, `${server.bytesSent} bytes sent for a ${container.length}-byte container`);
  await ckpt.close();
});

test('transient failures are retried: a 503, and a reset mid-body resumed from the first byte not received', async () => {
  const url = server.put('/flaky.wcodec', container);
  const ckpt = await openCheckpoint(url, noWait);
  const source = ckpt.reader.source as HttpSource;
  server.reset();
  server.faults.push({ kind: 'status', status: 503 }, { kind: 'reset', afterBytes: 300_000 });
  const t = await ckpt.read('embed');
  assert.equal(sha(t.bytes), sha(tensors.get('embed')!));
  assert.equal(source.stats.retries, 2);
  const [first, second, third] = server.log;
  assert.deepEqual([first.status, second.status, third.status], [503, 206, 206]);
  assert.equal(second.start, first.start);
  // The third asks only for what the reset cut off.
  assert.ok(third.start! > second.start! && third.end === second.end, `resumed at ${third.start} of [${second.start}, ${second.end})`);
  assert.ok(server.bytesSent < t.info.compressedBytes + 65536);
  await ckpt.close();

  // Past the retries: HTTP_ERROR; a 404 is not retried at all.
  const gone = await openCheckpoint(url, { ...noWait, retries: 2 });
  server.faults.push(...[0, 1, 2].map(() => ({ kind: 'status' as const, status: 503 })));
  assert.equal(await codeOf(gone.read('embed')), 'HTTP_ERROR');
  await gone.close();
  assert.equal(await codeOf(openCheckpoint(server.origin + '/missing.wcodec', noWait)), 'HTTP_ERROR');
});

test('an interrupted load continues: bytes held are not fetched again, a corrupted range is rejected and fetched again, the result is exact', async () => {
  const url = server.put('/resume.wcodec', container);
  // One request at a time, so that the first attempt, stopped at 30 %, has fetched at most ~2 MiB beyond.
  const ckpt = await openCheckpoint(url, { ...noWait, maxRangeBytes: 1 << 20, maxInFlight: 1 });
  const victimTensor = ckpt.tensors.find((t) => t.name === 'layer.1.w')!;
  const ranges = segmentRanges(ckpt.segmentOf(victimTensor), ckpt.reader.index);
  // A byte in the middle of one chunk of a tensor past the point where the first attempt stops.
  const victim = ranges[Math.floor(ranges.length / 2)];
  const at = victim.offset + (victim.length >> 1);
  server.reset();
  server.faults.push({ kind: 'corrupt', at, when: (r) => r.start !== undefined && r.start <= at && at < r.end! });
  const controller = new AbortController();
  const total = ckpt.tensors.reduce((a, t) => a + t.compressedBytes, 0);
  const seen: number[] = [];
  const first = ckpt.load({
    signal: controller.signal,
    onProgress: (p) => {
      seen.push(p.loadedBytes);
      if (p.loadedBytes > total * 0.3) controller.abort();
    },
  });
  assert.equal(await codeOf(first), 'ABORTED');
  const stoppedAt = seen[seen.length - 1];
  assert.ok(stoppedAt < total);
  const resumed: number[] = [];
  const all = await ckpt.load({ onProgress: (p) => resumed.push(p.loadedBytes) });
  for (const t of all) assert.equal(sha(t.bytes), sha(tensors.get(t.info.name)!), t.info.name);
  // Progress goes on from where it stopped (the first event comes after the next chunk), up to the total.
  assert.ok(resumed[0] > stoppedAt && resumed[0] - stoppedAt <= 300_000, `resumed at ${resumed[0]}, stopped at ${stoppedAt}`);
  for (let k = 1; k < resumed.length; k++) assert.ok(resumed[k] >= resumed[k - 1]);
  assert.equal(resumed[resumed.length - 1], total);
  // The corrupted range was served once, and the chunk holding it asked for again on its own.
  assert.equal(server.faults.length, 0, 'the corrupted range was served');
  assert.ok(server.log.some((r) => r.start === victim.offset && r.end === victim.offset + victim.length), 'the failed chunk was fetched again');
  assert.ok(server.bytesSent < 2 * container.length, `${server.bytesSent} bytes sent for a ${container.length}-byte container`);
  // Exactly: the file once, the failed chunk again, and at most the one request the abort cut off (sent whole by the server).
  assert.ok(server.bytesSent <= container.length + victim.length + (1 << 20), `${server.bytesSent} bytes sent for a ${container.length}-byte container`);
  await ckpt.close();

  // A chunk that fails its check twice (the file itself is damaged) is an error, not a loop.
  const bad = container.slice();
  bad[at] ^= 0xff;
  const badUrl = server.put('/bad.wcodec', bad);
  const damaged = await openCheckpoint(badUrl);
  server.reset();
  const code = await codeOf(damaged.read('layer.1.w'));
  assert.ok(code === 'CHECKSUM_MISMATCH' || code === 'CORRUPT_CHUNK', code);
  assert.equal(server.log.filter((r) => r.start === victim.offset && r.end === victim.offset + victim.length).length, 1);
  await damaged.close();
});

test('a server without range support: a small file is taken whole; a large one is RANGE_UNSUPPORTED', async () => {
  const url = server.put('/norange.wcodec', container);
  server.noRanges = true;
  try {
    server.reset();
    const ckpt = await openCheckpoint(url, { maxWholeBytes: container.length });
    const t = await ckpt.read('layer.1.w');
    assert.equal(sha(t.bytes), sha(tensors.get('layer.1.w')!));
    assert.ok(server.log.length <= 2, JSON.stringify(server.log.map((r) => [r.headers.range, r.status])));
    await ckpt.close();
    assert.equal(await codeOf(openCheckpoint(url, { maxWholeBytes: 100_000 })), 'RANGE_UNSUPPORTED');
  } finally {
    server.noRanges = false;
  }
});

test('a file that changes while it is read is SOURCE_CHANGED, never a mix of bytes (If-Match, and the ETag compared without it)', async () => {
  for (const conditional of [true, false]) {
    const url = server.put('/changing.wcodec', container);
    const ckpt = await openCheckpoint(url, { conditional });
    server.put('/changing.wcodec', await compressBuffer(original, { chunkBytes: 65536 }));
    server.reset();
    assert.equal(await codeOf(ckpt.read('embed')), 'SOURCE_CHANGED', `conditional ${conditional}`);
    assert.equal(server.log[0].headers['if-match'] !== undefined, conditional);
    // Every later read fails the same way.
    assert.equal(await codeOf(ckpt.read('norm')), 'SOURCE_CHANGED');
    await ckpt.close();
  }
  // Without an ETag, Last-Modified pins the file (If-Unmodified-Since).
  server.noEtag = true;
  try {
    const url = server.put('/dated.wcodec', container);
    const ckpt = await openCheckpoint(url);
    server.put('/dated.wcodec', container.slice());
    server.reset();
    assert.equal(await codeOf(ckpt.read('embed')), 'SOURCE_CHANGED');
    assert.ok(server.log[0].headers['if-unmodified-since']);
    await ckpt.close();
  } finally {
    server.noEtag = false;
  }
});

test('abort: an open with a fired signal, and a read whose fetch is under way, reject with ABORTED at once', async () => {
  const url = server.put('/abort.wcodec', container);
  assert.equal(await codeOf(openCheckpoint(url, { signal: AbortSignal.abort() })), 'ABORTED');
  const ckpt = await openCheckpoint(url);
  server.reset();
  server.faults.push({ kind: 'stall', afterBytes: 10_000 });
  const controller = new AbortController();
  const reading = ckpt.read('embed', { signal: controller.signal });
  while (server.log.length === 0) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  controller.abort();
  assert.equal(await codeOf(reading), 'ABORTED');
  assert.ok(performance.now() - t0 < 1000);
  // The checkpoint goes on working; the read continues after the 10,000 bytes it had.
  server.reset();
  const t = await ckpt.read('embed');
  assert.equal(sha(t.bytes), sha(tensors.get('embed')!));
  assert.ok(server.log[0].start! >= 10_000, `continued at ${server.log[0].start}`);
  await ckpt.close();
});

test('a folder container over HTTP: listing costs the two opening requests and one per further shard header; load progress is one figure over its files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-http-'));
  try {
    const rng = new Rng(testSeed(72));
    const shards = [0, 1, 2].map((k) => buildSafetensors([{ name: `s${k}.w`, dtype: 'BF16', shape: [400_000], data: makeValues('BF16', 400_000, 'gaussian', rng) }]).bytes);
    await mkdir(join(dir, 'model'));
    for (let k = 0; k < 3; k++) await writeFile(join(dir, 'model', `model-${k}.safetensors`), shards[k]);
    await compressFile(join(dir, 'model'), join(dir, 'model.wcodec'));
    const bytes = new Uint8Array(await readFile(join(dir, 'model.wcodec')));
    const url = server.put('/folder.wcodec', bytes);
    server.reset();
    const ckpt = await openCheckpoint(url);
    assert.equal(ckpt.kind, 'folder');
    assert.ok(server.log.length <= 2 + 2, `${server.log.length} requests`);
    const events: LoadProgress[] = [];
    const all = await ckpt.load({ onProgress: (p) => events.push(p) });
    assert.deepEqual(all.map((t) => sha(t.bytes)), shards.map((s) => sha(s.subarray(s.length - 800_000))));
    assert.deepEqual(new Set(events.map((e) => e.file)), new Set(ckpt.members.map((m) => m.path)));
    assert.ok(events.every((e) => e.totalBytes === events[0].totalBytes));
    assert.equal(events[events.length - 1].loadedBytes, events[0].totalBytes);
    await ckpt.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Blob and File sources read as MemorySource does', async () => {
  const local = await openContainer(new MemorySource(container));
  const part = container as Uint8Array<ArrayBuffer>;
  const file = new File([part], 'model.wcodec');
  for (const input of [new Blob([part]), file]) {
    const ckpt = await openCheckpoint(input);
    assert.deepEqual(ckpt.tensors.map((t) => [t.name, t.compressedBytes, t.sha256]), local.tensors.map((t) => [t.name, t.compressedBytes, t.sha256]));
    for (const t of ckpt.tensors) assert.equal(sha((await ckpt.read(t.name)).bytes), sha((await local.read(t.name)).bytes));
    await ckpt.close();
  }
  assert.equal(new BlobSource(file).name, 'model.wcodec');
  assert.equal(await codeOf(new BlobSource(file).read(container.length - 1, 2)), 'TRUNCATED');
  // A whole decode from a Blob's bytes gives the original file.
  assert.equal(sha(await decompressBuffer(new Uint8Array(await file.arrayBuffer()))), sha(original));
});

test('with worker threads, a chunk that fails its check is fetched again as well, and the tensor is exact', async () => {
  const url = server.put('/threads.wcodec', container);
  const ckpt = await openCheckpoint(url);
  const info = ckpt.tensors.find((t) => t.name === 'embed')!;
  const ranges = segmentRanges(ckpt.segmentOf(info), ckpt.reader.index);
  for (const victim of [ranges[1], ranges[ranges.length - 2]]) {
    const at = victim.offset + 100;
    server.reset();
    server.faults.push({ kind: 'corrupt', at, when: (r) => r.start !== undefined && r.start <= at && at < r.end! });
    const t = await ckpt.read('embed', { threads: 2, minPoolBytes: 0 });
    assert.equal(sha(t.bytes), sha(tensors.get('embed')!));
    assert.equal(server.faults.length, 0);
    assert.ok(server.log.some((r) => r.start === victim.offset && r.end === victim.offset + victim.length), 'the failed chunk was fetched again');
  }
  await ckpt.close();
});

test('a large tensor read into a buffer of the caller\'s: memory beyond it stays at a few ranges, not the tensor', async (t) => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const rng = new Rng(testSeed(74));
  const values = 48_000_000;
  // Random bits: the chunks are about as large as the tensor, and random values are quick to make.
  const big = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [values], data: makeValues('BF16', values, 'random', rng) }]).bytes;
  const want = sha(big.subarray(big.length - 2 * values));
  const url = server.put('/big.wcodec', await compressBuffer(big));
  const ckpt = await openCheckpoint(url, { maxRangeBytes: 2 << 20, maxInFlight: 2 });
  const info = ckpt.tensors[0];
  const into = new Uint8Array(info.originalBytes);
  gc();
  const base = process.memoryUsage();
  let peak = 0;
  // Sampled after a forced collection: what the read holds alive (the server's answers, in this process, included).
  const sample = setInterval(() => {
    gc();
    const m = process.memoryUsage();
    peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
  }, 25);
  try {
    await ckpt.read('w', { into });
  } finally {
    clearInterval(sample);
  }
  assert.equal(sha(into), want);
  t.diagnostic(`peak ${(peak / 1e6).toFixed(1)} MB beyond the output buffer while reading ${(info.compressedBytes / 1e6).toFixed(1)} MB of chunks`);
  // The source holds at most (maxInFlight + 1) x maxRangeBytes = 6.3 MB; the tensor's chunks are over 12x that. Half of
  // them is a generous bound that a source holding the tensor's chunks would break (the HTTP client's and the
  // in-process server's own buffers, 5-20 MB here, stay well inside it).
  assert.ok(info.compressedBytes > 80e6, `${info.compressedBytes} compressed bytes`);
  assert.ok(peak < info.compressedBytes / 2, `peak ${peak} bytes beyond the output buffer while reading ${info.compressedBytes} compressed bytes`);
  await ckpt.close();
});

test('a large read nobody announced goes out in requests of at most maxRangeBytes, at most maxInFlight at once', async () => {
  const url = server.put('/plain.wcodec', container);
  const source = await HttpSource.open(url, { maxRangeBytes: 1 << 20, maxInFlight: 2 });
  server.reset();
  const bytes = await source.read(100_000, 5_000_000);
  assert.equal(sha(bytes), sha(container.subarray(100_000, 5_100_000)));
  assert.equal(server.log.length, 5);
  assert.ok(server.log.every((r) => r.end! - r.start! <= 1 << 20));
  await source.close();
});
