// Serving an ONNX model compressed: onnxruntime-web (a dev dependency; WebAssembly, no native code) loads the model that
// wcodecFetch decodes from `model.onnx.wcodec`, on a local HTTP server that holds only the container, and gives the
// same outputs, bit for bit, as from the original file. Also: requests it does not match pass through, a missing
// container falls back to the original (or answers 404 when asked), a damaged one rejects with its error code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-web';
import { compressBuffer } from '../src/api/buffers.js';
import { wcodecFetch } from '../src/api/wcodec-fetch.js';
import { WcodecError } from '../src/errors.js';
import { RangeServer } from './helpers/range-server.js';
import { onnxMlp } from './helpers/onnx-mlp.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('onnxruntime-web runs a model served as model.onnx.wcodec through wcodecFetch, with the original outputs', async () => {
  ort.env.wasm.numThreads = 1;
  const model = onnxMlp(64, 96, 10, 11);
  const container = await compressBuffer(model, { name: 'model.onnx' });
  assert.ok(container.length < model.length, `${container.length} bytes for a ${model.length}-byte model`);
  const server = await RangeServer.start();
  try {
    server.put('/models/model.onnx.wcodec', container);
    server.put('/models/plain.onnx', model);
    const fetchModel = wcodecFetch();
    const served = new Uint8Array(await (await fetchModel(`${server.origin}/models/model.onnx`)).arrayBuffer());
    assert.equal(sha(served), sha(model));
    // A model the server holds only uncompressed: the container's 404 falls back to it.
    const plain = new Uint8Array(await (await fetchModel(`${server.origin}/models/plain.onnx`)).arrayBuffer());
    assert.equal(sha(plain), sha(model));
    assert.equal((await wcodecFetch({ fallback: false })(`${server.origin}/models/plain.onnx`)).status, 404);
    // Not matched (a POST, another suffix): the wrapped fetch answers.
    assert.equal((await fetchModel(`${server.origin}/models/model.onnx.wcodec`)).status, 200);

    const x = new ort.Tensor('float32', Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [1, 64]);
    const fromOriginal = await (await ort.InferenceSession.create(model)).run({ x });
    const fromContainer = await (await ort.InferenceSession.create(served)).run({ x });
    assert.deepEqual([...(fromContainer.y.data as Float32Array)], [...(fromOriginal.y.data as Float32Array)]);
    assert.equal((fromOriginal.y.data as Float32Array).length, 10);

    // A damaged container never yields a model: the decode's check rejects it.
    const damaged = container.slice();
    damaged[Math.floor(damaged.length / 2)] ^= 0x40;
    server.put('/models/bad.onnx.wcodec', damaged);
    await assert.rejects(fetchModel(`${server.origin}/models/bad.onnx`), (e: unknown) => e instanceof WcodecError);
  } finally {
    await server.close();
  }
});
