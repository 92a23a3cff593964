// Hostile safetensors headers that are small on disk but large once parsed (docs/SECURITY.md, "Hostile
// safetensors"): long arrays, many small entries, huge objects. Each must be refused early, without building
// the parsed JSON. Its own file, so the process's peak RSS is not already raised by other tests.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WcodecError, type ErrorCode } from '../src/errors.js';
import { MAX_RANK, MAX_SEGMENTS } from '../src/format/constants.js';
import { MemorySource } from '../src/io/byte-source.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { JsonProblem, parseStrictJson, type JsonValue } from '../src/safetensors/strict-json.js';
import { assembleSafetensors } from './helpers/safetensors-builder.js';
import { peakRssBytes } from './helpers/measure.js';

/** Rejects `bytes` with `code`; returns the growth of the peak RSS during the read, in bytes. */
async function refusedWith(bytes: Uint8Array, code: ErrorCode, what: string): Promise<number> {
  const rss0 = peakRssBytes();
  await assert.rejects(readSafetensorsLayout(new MemorySource(bytes, 'bomb.safetensors')), (e: unknown) => {
    assert.ok(e instanceof WcodecError, `${what}: ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  }, what);
  return peakRssBytes() - rss0;
}

const MIB = 2 ** 20;
/** Peak memory a refused 20 MB header may add: its text as a string plus slack (parsed, it took 190 MB or more). */
const BOMB_GROWTH_LIMIT = 64 * MIB;

describe('safetensors header bombs', () => {
  test('a 20 MB array (shape of 10 million zeros) is refused at item 33, without building it', async () => {
    const h = `{"a":{"dtype":"U8","shape":[${'0,'.repeat(10_000_000)}0],"data_offsets":[0,0]}}`;
    const growth = await refusedWith(assembleSafetensors(h, new Uint8Array(0)), 'LIMIT_EXCEEDED', 'array bomb');
    assert.ok(growth < BOMB_GROWTH_LIMIT, `peak RSS grew ${(growth / MIB).toFixed(0)} MiB`);
  });

  test('2.5 million empty top-level entries ("k":{}) are refused at the first one', async () => {
    const parts: string[] = [];
    for (let k = 0; k < 2_500_000; k++) parts.push(`"${k.toString(36)}":{}`);
    const bytes = assembleSafetensors(`{${parts.join(',')}}`, new Uint8Array(0));
    const t0 = performance.now();
    const growth = await refusedWith(bytes, 'BAD_SAFETENSORS', 'entry bomb');
    assert.ok(growth < BOMB_GROWTH_LIMIT, `peak RSS grew ${(growth / MIB).toFixed(0)} MiB`);
    assert.ok(performance.now() - t0 < 1000, `took ${(performance.now() - t0).toFixed(0)} ms`);
  });

  test(`an object of more than ${MAX_SEGMENTS + 1} keys (in __metadata__) is refused while parsing`, async () => {
    const parts: string[] = [];
    for (let k = 0; k <= MAX_SEGMENTS + 1; k++) parts.push(`"${k.toString(36)}":""`);
    const bytes = assembleSafetensors(`{"__metadata__":{${parts.join(',')}}}`, new Uint8Array(0));
    await refusedWith(bytes, 'LIMIT_EXCEEDED', 'metadata bomb');
  });
});

describe('strict JSON parser limits', () => {
  test('maxArrayItems and maxObjectKeys bound every array and object, at the first item over', () => {
    assert.deepEqual(parseStrictJson('[1,2]', { maxArrayItems: 2 }), [1, 2]);
    assert.throws(() => parseStrictJson('[1,2,3]', { maxArrayItems: 2 }), (e) => e instanceof JsonProblem && e.position === 5);
    assert.throws(() => parseStrictJson('{"a":{"b":[[1,2,3]]}}', { maxArrayItems: 2 }), JsonProblem);
    assert.equal(JSON.stringify(parseStrictJson('{"a":1,"b":2}', { maxObjectKeys: 2 })), '{"a":1,"b":2}');
    assert.throws(() => parseStrictJson('{"x":{"a":1,"b":2,"c":3}}', { maxObjectKeys: 2 }), (e) => e instanceof JsonProblem && e.position === 18);
    assert.equal(MAX_RANK >= 2, true, 'data_offsets must fit the array bound');
  });

  test('onTopMember sees each top-level member in order and nothing is kept; what it throws passes through', () => {
    const seen: [string, JsonValue][] = [];
    const v = parseStrictJson('{"b":[1],"a":{"c":null}}', { onTopMember: (k, x) => seen.push([k, x]) });
    assert.equal(JSON.stringify(seen), '[["b",[1]],["a",{"c":null}]]');
    assert.deepEqual(Object.keys(v as object), []);
    class Stop extends Error {}
    let calls = 0;
    assert.throws(() => parseStrictJson('{"a":1,"b":2,', { onTopMember: () => { calls++; throw new Stop(); } }), Stop);
    assert.equal(calls, 1, 'the parse stops at the first member the visitor refuses');
  });
});
