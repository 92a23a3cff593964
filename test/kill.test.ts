// SIGKILL at any moment of a CLI compress or decompress leaves either nothing or the whole, verified output at the
// output path (docs/SECURITY.md, "Output safety"): the CLI is killed at several moments of a run (early, mid, late,
// and once its temporary file has reached its final size, i.e. between the last write and the move into place). What a kill may leave is a
// temporary named .<output>.<host>.<pid>.<hex>.wcodec-tmp beside the output, which the next run removes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** Original bytes per case: enough for a run of about half a second, so that kills land inside it. */
const INPUT_BYTES = 16_000_000;
/** Kill moments as fractions of a complete run's duration (the last lets the run finish). */
const KILL_AT = [0.1, 0.5, 0.85];

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** BF16-like weights made fast: random mantissas under a narrow band of exponents (compressible, like real ones). */
function weights(values: number, rng: Rng): Uint8Array {
  const b = rng.bytes(values * 2);
  for (let i = 1; i < b.length; i += 2) b[i] = (b[i] & 0x80) | (0x3a + (b[i] & 0x03));
  return b;
}

function run(args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [CLI, ...args, '-q'], { encoding: 'utf8' });
}

/** Entries of `dir` other than `keep`. */
const extra = (dir: string, keep: string[]): string[] => readdirSync(dir).filter((f) => !keep.includes(f)).sort();

/** Waits for `child` to end; resolves to its exit code (null when killed). */
const ended = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => child.on('exit', (code) => resolve(code)));

interface Case {
  name: string;
  /** CLI arguments, given the output path. */
  args: (output: string) => string[];
  /** Checks a complete output. */
  check: (output: string) => void;
  /** The temporary file whose reaching `finalBytes` means the run is about to move it into place (file outputs). */
  finalBytes?: number;
}

describe('SIGKILL during compress and decompress', () => {
  let work: string;
  const cases: Case[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wcodec-kill-'));
    const rng = new Rng(testSeed(0x6b11));
    const values = INPUT_BYTES / 2 / 4;
    const file = buildSafetensors([0, 1, 2, 3].map((k) => ({ name: `w${k}`, dtype: 'BF16', shape: [values], data: weights(values, rng) }))).bytes;
    const half = (k: number): Uint8Array => buildSafetensors([0, 1].map((j) => ({ name: `w${j}`, dtype: 'BF16', shape: [values], data: weights(values, rng) })), { metadata: { shard: `${k}` } }).bytes;
    writeFileSync(join(work, 'in.safetensors'), file);
    mkdirSync(join(work, 'in-folder'));
    const shards = [half(0), half(1)];
    shards.forEach((s, k) => writeFileSync(join(work, 'in-folder', `model-0000${k}.safetensors`), s));
    // Containers to decompress, made by a complete run.
    assert.equal(run(['compress', join(work, 'in.safetensors'), '-o', join(work, 'file.wcodec')]).status, 0);
    assert.equal(run(['compress', join(work, 'in-folder'), '-o', join(work, 'folder.wcodec')]).status, 0);
    const fileSha = sha(file);
    const checkContainer = (output: string): void => {
      assert.equal(run(['verify', output]).status, 0, `${output} does not verify`);
    };
    cases.push(
      { name: 'compress a file', args: (o) => ['compress', join(work, 'in.safetensors'), '-o', o], check: checkContainer, finalBytes: statSync(join(work, 'file.wcodec')).size },
      { name: 'compress a folder', args: (o) => ['compress', join(work, 'in-folder'), '-o', o], check: checkContainer, finalBytes: statSync(join(work, 'folder.wcodec')).size },
      { name: 'decompress a file', args: (o) => ['decompress', join(work, 'file.wcodec'), '-o', o], check: (o) => assert.equal(sha(readFileSync(o)), fileSha), finalBytes: file.length },
      {
        name: 'decompress a folder',
        args: (o) => ['decompress', join(work, 'folder.wcodec'), '-o', o],
        check: (o) => shards.forEach((s, k) => assert.equal(sha(readFileSync(join(o, `model-0000${k}.safetensors`))), sha(s))),
      },
    );
  });

  after(() => rm(work, { recursive: true, force: true }));

  test('no output and only recognisable temporaries after a kill; the next run cleans them and succeeds', async (t) => {
    const inputs = ['in.safetensors', 'in-folder', 'file.wcodec', 'folder.wcodec'];
    for (const c of cases) {
      const output = join(work, 'out');
      const tempName = new RegExp(`^\\.out\\.[A-Za-z0-9-]+\\.(\\d+)\\.[0-9a-f]{8}\\.wcodec-tmp$`);
      const t0 = performance.now();
      assert.equal(spawnSync(process.execPath, [CLI, ...c.args(output), '-q']).status, 0, `${c.name}: complete run`);
      const full = performance.now() - t0;
      await rm(output, { recursive: true, force: true });
      const moments: (number | 'final size')[] = [...KILL_AT.map((f) => f * full), ...(c.finalBytes !== undefined ? ['final size' as const] : [])];
      const outcomes: string[] = [];
      const killed = new Set<number>();
      for (const at of moments) {
        const child = spawn(process.execPath, [CLI, ...c.args(output), '-q'], { stdio: 'ignore' });
        const exit = ended(child);
        if (at === 'final size') {
          // Poll for the temporary file at its final size: the run is then between its last write and the move.
          const deadline = performance.now() + 20_000;
          for (;;) {
            const temp = readdirSync(work).find((f) => tempName.test(f));
            if (temp && statSync(join(work, temp), { throwIfNoEntry: false })?.size === c.finalBytes) break;
            if (existsSync(output) || performance.now() > deadline) break;
            await new Promise((r) => setImmediate(r));
          }
        } else await new Promise((r) => setTimeout(r, at));
        child.kill('SIGKILL');
        const code = await exit;
        const left = extra(work, [...inputs, 'out']);
        killed.add(child.pid!);
        for (const f of left) {
          const m = tempName.exec(f);
          assert.ok(m, `${c.name}, kill at ${at}: unexpected entry '${f}'`);
          assert.ok(killed.has(Number(m[1])), `${c.name}: temporary '${f}' is no killed run's`);
        }
        if (existsSync(output)) {
          // The run got as far as moving its output into place (and maybe finished): the output must be whole.
          c.check(output);
          outcomes.push(code === 0 ? 'finished' : `killed after the move${left.length > 0 ? ', temporary left' : ''}`);
        } else {
          assert.notEqual(code, 0, `${c.name}: exited 0 without an output`);
          outcomes.push(left.length > 0 ? 'killed, temporary left' : 'killed, nothing left');
        }
        await rm(output, { recursive: true, force: true });
      }
      // The next run for the same output removes the dead runs' temporaries and completes.
      const next = spawnSync(process.execPath, [CLI, ...c.args(output), '-q']);
      assert.equal(next.status, 0, `${c.name}: run after the kills: ${next.stderr}`);
      c.check(output);
      assert.deepEqual(extra(work, [...inputs, 'out']), [], `${c.name}: temporaries left after the next run`);
      await rm(output, { recursive: true, force: true });
      t.diagnostic(`${c.name} (${full.toFixed(0)} ms complete): ${outcomes.join('; ')}`);
    }
  });
});
