// Runs the built CLI (dist/src/cli/main.js) in a child process, for the CLI tests.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI entry (this file is at dist/test/helpers/ once built). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs `wcodec ...args` to completion. @returns its exit status and output */
export function wcodec(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
