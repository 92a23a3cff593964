// Finding a headless browser for the browser tests (test/browser): Debian's chromium, as .ci/run installs it.

import { spawnSync } from 'node:child_process';

/** Time allowed for the browser to start, load and report (a cold start of Chromium takes a few seconds). */
export const BROWSER_TIMEOUT_MS = 120_000;

/** The path of a Chromium-family browser on PATH, or undefined (the browser tests then skip with a reason). */
export function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}
