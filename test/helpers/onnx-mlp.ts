// A small runnable ONNX model for tests that run it (onnxruntime-web): y = Relu(x · W1 + b1) · W2 + b2 with float32
// weights of fixed seeded values, x of shape [1, inputs], opset 17. Written with tools/onnx-file.ts' protobuf writer.

import { ONNX_TYPE, ProtoWriter, tensorProto } from '../../tools/onnx-file.js';
import { Rng } from './prng.js';

/** The model's bytes; `hidden` × `inputs` and `outputs` × `hidden` weights large enough to be tensor segments. */
export function onnxMlp(inputs: number, hidden: number, outputs: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const f32 = (n: number, scale: number): Uint8Array => new Uint8Array(Float32Array.from({ length: n }, () => rng.gaussian() * scale).buffer);
  const init = (name: string, dims: number[], scale: number): ProtoWriter =>
    tensorProto({ name, dataType: ONNX_TYPE.FLOAT, dims, raw: f32(dims.reduce((a, d) => a * d, 1), scale) });
  const node = (ins: string[], out: string, op: string): ProtoWriter => {
    const w = new ProtoWriter();
    for (const i of ins) w.string(1, i);
    return w.string(2, out).string(4, op);
  };
  const valueInfo = (name: string, dims: number[]): ProtoWriter => {
    const shape = new ProtoWriter();
    for (const d of dims) shape.message(1, new ProtoWriter().int(1, d));
    const tensorType = new ProtoWriter().int(1, ONNX_TYPE.FLOAT).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  };
  const graph = new ProtoWriter()
    .message(1, node(['x', 'W1'], 'h', 'MatMul'))
    .message(1, node(['h', 'b1'], 'a', 'Add'))
    .message(1, node(['a'], 'r', 'Relu'))
    .message(1, node(['r', 'W2'], 'o', 'MatMul'))
    .message(1, node(['o', 'b2'], 'y', 'Add'))
    .string(2, 'mlp')
    .message(5, init('W1', [inputs, hidden], 0.1))
    .message(5, init('b1', [hidden], 0.1))
    .message(5, init('W2', [hidden, outputs], 0.1))
    .message(5, init('b2', [outputs], 0.1))
    .message(11, valueInfo('x', [1, inputs]))
    .message(12, valueInfo('y', [1, outputs]));
  return new ProtoWriter().int(1, 8).message(8, new ProtoWriter().string(1, '').int(2, 17)).message(7, graph).finish();
}
