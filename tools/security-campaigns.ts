// Measured robustness campaigns for docs/SECURITY.md: (1) N random single-bit flips over a compressed real
// checkpoint, each decoded; (2) every truncation of each valid test vector; (3) every invalid test vector, with the
// error code (and offset) its manifest records, checked as FORMAT.md §7.3 says: rejected when every segment digest
// is checked; a whole-file decode either rejects it too, or (a segment digest alone wrong, §7.3 item 4) gives the
// correct original while that segment, read on its own, is rejected. Prints a table and writes the results as JSON.
// Usage: npm run campaigns -- [--flips N] [--seed S] [--file model.safetensors] [--out path.json]
//   Default file: ../shared/corpus/stories260K/stories260K.safetensors when present, else examples/stories260K/.

import '../src/io/node-sha256.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, platform, release } from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../src/api/buffers.js';
import { decodeInMemory } from './make-vectors.js';
import type { DecodeOptions } from '../src/pipeline/container-reader.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { Rng } from '../test/helpers/prng.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORPUS_FILE = `${ROOT}../shared/corpus/stories260K/stories260K.safetensors`;
const EXAMPLE_FILE = `${ROOT}examples/stories260K/stories260K.safetensors`;
const VECTORS = `${ROOT}test/vectors/`;
const DEFAULT_OUT = `${ROOT}bench/results/security-campaigns.json`;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Decodes `bytes`: 'ok' with the output's digest, or the WcodecError; anything else is a campaign failure. */
async function decode(bytes: Uint8Array, options: DecodeOptions = {}): Promise<{ ok: true; sha: string } | { ok: false; error: WcodecError }> {
  // Folder containers member by member, back to back (decompressBuffer returns one file's bytes).
  return outcome(async () => sha(await decodeInMemory(bytes, options)));
}

/** Runs `f`: 'ok' with its result, or the WcodecError it threw; anything else is a campaign failure. */
async function outcome(f: () => Promise<string>): Promise<{ ok: true; sha: string } | { ok: false; error: WcodecError }> {
  try {
    return { ok: true, sha: await f() };
  } catch (e) {
    if (e instanceof WcodecError) return { ok: false, error: e };
    throw new Error(`untyped error: ${(e as Error).stack ?? e}`);
  }
}

/** Reads every segment of `bytes` on its own (each checked against its SHA-256): the first error, or 'ok'. */
async function readSegmentsAlone(bytes: Uint8Array): Promise<{ ok: true; sha: string } | { ok: false; error: WcodecError }> {
  return outcome(async () => {
    const reader = await ContainerReader.open(new MemorySource(bytes, '<vector>'));
    for (const m of reader.index.members) for (const seg of m.segments) await reader.readSegment(seg);
    return '';
  });
}

const tally = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

function parse(argv: string[]): { flips: number; seed: number; file: string; out: string } {
  const o = { flips: 10_000, seed: 0x5ec0, file: existsSync(CORPUS_FILE) ? CORPUS_FILE : EXAMPLE_FILE, out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === '--flips') o.flips = Number(v);
    else if (argv[i] === '--seed') o.seed = Number(v) >>> 0;
    else if (argv[i] === '--file') o.file = v;
    else if (argv[i] === '--out') o.out = v;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const t0 = performance.now();

  // (1) Single-bit flips over a compressed checkpoint.
  const original = new Uint8Array(await readFile(opts.file));
  const container = await compressBuffer(original, { name: 'model.safetensors' });
  const rng = new Rng(opts.seed);
  const flips = { file: relative(ROOT, opts.file), fileBytes: original.length, fileSha256: sha(original), containerBytes: container.length, seed: opts.seed, total: 0, detected: 0, undetected: 0, codes: {} as Record<string, number>, seconds: 0 };
  const tf = performance.now();
  for (let k = 0; k < opts.flips; k++) {
    const bit = rng.int(container.length * 8);
    const c = container.slice();
    c[bit >> 3] ^= 1 << (bit & 7);
    const r = await decode(c);
    flips.total++;
    if (r.ok) {
      flips.undetected++;
      process.stdout.write(`UNDETECTED flip of bit ${bit}${r.sha === flips.fileSha256 ? ' (output still equal to the original)' : ' (WRONG OUTPUT)'}\n`);
    } else {
      flips.detected++;
      tally(flips.codes, r.error.code);
    }
  }
  flips.seconds = (performance.now() - tf) / 1000;

  // (2) Every truncation of every valid vector; (3) every invalid vector.
  const valid = JSON.parse(await readFile(`${VECTORS}valid/manifest.json`, 'utf8')) as { vectors: { file: string }[] };
  const truncations = { containers: valid.vectors.length, total: 0, rejected: 0, codes: {} as Record<string, number>, seconds: 0 };
  const tt = performance.now();
  for (const v of valid.vectors) {
    const bytes = new Uint8Array(await readFile(`${VECTORS}valid/${v.file}`));
    for (let n = 0; n < bytes.length; n++) {
      const r = await decode(bytes.subarray(0, n));
      truncations.total++;
      if (r.ok) process.stdout.write(`ACCEPTED ${v.file} cut to ${n} bytes\n`);
      else {
        truncations.rejected++;
        tally(truncations.codes, r.error.code);
      }
    }
  }
  truncations.seconds = (performance.now() - tt) / 1000;
  const invalid = JSON.parse(await readFile(`${VECTORS}invalid/manifest.json`, 'utf8')) as { vectors: { file: string; base: string; code: string; offset: number | null }[] };
  const vectors = {
    total: invalid.vectors.length,
    /** Rejected when decoded with every segment digest checked (wcodec verify), with the manifest's code / offset. */
    rejected: 0,
    rightCode: 0,
    rightOffset: 0,
    /** Whole-file decode (member digests only): rejected with the manifest's code ... */
    wholeFileRejected: 0,
    /** ... or accepted (a segment digest alone wrong, FORMAT.md §7.3 item 4), with the base vector's original as output ... */
    wholeFileAcceptedCorrect: 0,
    /** ... and that segment, read on its own, rejected with the manifest's code. */
    segmentAloneRejected: 0,
    wrong: [] as string[],
  };
  for (const v of invalid.vectors) {
    const bytes = new Uint8Array(await readFile(`${VECTORS}invalid/${v.file}`));
    const r = await decode(bytes, { checkSegmentDigests: true });
    if (r.ok) vectors.wrong.push(`${v.file}: accepted with segment digests checked`);
    else {
      vectors.rejected++;
      if (r.error.code === v.code) vectors.rightCode++;
      else vectors.wrong.push(`${v.file}: ${r.error.code}, manifest says ${v.code}`);
      if (v.offset === null || r.error.offset === v.offset) vectors.rightOffset++;
    }
    const whole = await decode(bytes);
    if (!whole.ok) {
      if (whole.error.code === v.code) vectors.wholeFileRejected++;
      else vectors.wrong.push(`${v.file}: whole-file decode ${whole.error.code}, manifest says ${v.code}`);
      continue;
    }
    const base = await decode(new Uint8Array(await readFile(`${VECTORS}valid/${v.base}.wcodec`)));
    if (base.ok && whole.sha === base.sha) vectors.wholeFileAcceptedCorrect++;
    else vectors.wrong.push(`${v.file}: whole-file decode accepted with WRONG OUTPUT`);
    const alone = await readSegmentsAlone(bytes);
    if (!alone.ok && alone.error.code === v.code) vectors.segmentAloneRejected++;
    else vectors.wrong.push(`${v.file}: accepted whole, and its segments read on their own ${alone.ok ? 'accepted too' : `gave ${alone.error.code}`}`);
  }

  const results = {
    tool: 'tools/security-campaigns.ts',
    date: new Date().toISOString(),
    machine: { platform: `${platform()} ${release()}`, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    node: process.version,
    flips,
    truncations,
    invalidVectors: vectors,
    seconds: (performance.now() - t0) / 1000,
  };
  const pct = (a: number, b: number): string => `${((100 * a) / Math.max(b, 1)).toFixed(2)}%`;
  const codes = (m: Record<string, number>): string => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stdout.write(
    [
      `campaign                                   | result`,
      `-------------------------------------------|------------------------------------------------------------`,
      `single-bit flips (${flips.file}, ${flips.containerBytes} B container) | ${flips.detected} / ${flips.total} detected (${pct(flips.detected, flips.total)}) in ${flips.seconds.toFixed(1)} s — ${codes(flips.codes)}`,
      `truncations of ${truncations.containers} valid vectors at every offset | ${truncations.rejected} / ${truncations.total} rejected (${pct(truncations.rejected, truncations.total)}) in ${truncations.seconds.toFixed(1)} s — ${codes(truncations.codes)}`,
      `invalid vectors, segment digests checked  | ${vectors.rejected} / ${vectors.total} rejected; ${vectors.rightCode} with the manifest's code, ${vectors.rightOffset} with its offset`,
      `invalid vectors, whole-file decode        | ${vectors.wholeFileRejected} rejected with the manifest's code; ${vectors.wholeFileAcceptedCorrect} accepted with the correct output (§7.3 item 4), ${vectors.segmentAloneRejected} of them rejected when the segment is read on its own${vectors.wrong.length ? ` — ${vectors.wrong.join('; ')}` : ''}`,
      '',
    ].join('\n'),
  );
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`results written to ${relative(process.cwd(), opts.out)}\n`);
  const invalidHold =
    vectors.rightCode === vectors.total &&
    vectors.wrong.length === 0 &&
    vectors.wholeFileRejected + vectors.wholeFileAcceptedCorrect === vectors.total &&
    vectors.segmentAloneRejected === vectors.wholeFileAcceptedCorrect;
  const perfect = flips.detected === flips.total && truncations.rejected === truncations.total && invalidHold;
  process.exitCode = perfect ? 0 : 2;
}

await main();
