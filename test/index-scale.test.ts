// Containers with very many records: an index of many tensors read in memory bounded by its size, `wcodec info` on
// hundreds of thousands of tensors, and containers of 1-value chunks decoded from a file as from memory.

import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer } from '../src/api/buffers.js';
import { CLI } from './helpers/cli.js';

/** A safetensors file of `count` empty F16 tensors (shape [0]). */
function emptyTensors(count: number): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"t.${i}":{"dtype":"F16","shape":[0],"data_offsets":[0,0]}`);
  let json = `{${parts.join(',')}}`;
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  return out;
}

test('wcodec info lists a container of 200,000 tensors that wcodec wrote', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-scale-'));
  try {
    const count = 200_000;
    const packed = join(dir, 'many.wcodec');
    await writeFile(packed, await compressBuffer(emptyTensors(count), { name: 'many.safetensors' }));
    // Its table is ~20 MB of text: more than spawnSync's default buffer.
    const info = spawnSync(process.execPath, [CLI, 'info', packed], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`total: ${count} tensors in 1 file`));
    assert.match(info.stdout, /^t\.199999 +F16 +\[0\]/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
