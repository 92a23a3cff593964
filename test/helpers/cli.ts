// Runs the built CLI (dist/src/cli/main.js) in a child process, for the CLI tests. WCODEC_CLI names another entry
// script to run instead (the same tests against another build).

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI entry: WCODEC_CLI, or the built one (this file is at dist/test/helpers/ once built). */
export const CLI = process.env.WCODEC_CLI ?? fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** What a run of the CLI gave back. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wcodec ...args` to completion. @returns its exit status and output */
export function wcodec(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `wcodec ...args` with bytes on stdin and in folder `cwd`.
 * @returns its exit status, stdout as bytes and stderr as text
 */
export function wcodecWith(options: { input?: Uint8Array; cwd?: string }, ...args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: options.input ?? new Uint8Array(0), cwd: options.cwd, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}
