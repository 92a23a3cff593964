// Finding a headless browser for the browser tests (test/browser): Debian's chromium, as .ci/run installs it.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';

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

/** Chromium's flags that give a page WebGPU: its own adapter (SwiftShader on machines without a GPU), where it has one. */
export const WEBGPU_FLAGS = ['--disable-gpu-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist'];

/**
 * Opens `url` in headless Chromium with a profile of its own, waits for `result` (what the page reports, by a request
 * the test's server turns into it) for at most BROWSER_TIMEOUT_MS, then stops the browser and removes the profile.
 * @param flags Chromium's flags beside the headless ones (default: no GPU; WEBGPU_FLAGS for WebGPU)
 * @throws Error when no result comes in time; whatever `result` rejects with
 */
export async function inChromium<T>(chromium: string, url: string, result: Promise<T>, flags: string[] = ['--disable-gpu']): Promise<T> {
  const profile = await mkdtemp(join(tmpdir(), 'wcodec-chromium-'));
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', ...flags, '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`, url], { stdio: 'ignore' });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      result,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no result from the browser in time')), BROWSER_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
    if (browser.exitCode === null && browser.signalCode === null) {
      const exited = new Promise((r) => browser.once('exit', r));
      browser.kill();
      await exited;
    }
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** A page's POSTed JSON body; the request is answered with 204 once the body is read. */
export function postedJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('error', reject);
    req.on('end', () => {
      res.writeHead(204).end();
      try {
        resolve(JSON.parse(body));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Serves `url` when it names a built JavaScript file under `root`/dist/ (what a test page imports): true when it was
 * such a URL (answered 200, 403 outside dist/ or 404), false otherwise.
 */
export async function serveBuiltScript(root: string, url: string, res: ServerResponse): Promise<boolean> {
  if (!url.endsWith('.js')) return false;
  return serveFolder('/dist/', join(root, 'dist'), url, res);
}

/**
 * Serves `url` from `dir` when it starts with `prefix` (a page's scripts and WebAssembly, by their extension's type): true
 * when it did (200, 403 for a path outside `dir`, 404 for a missing file), false otherwise.
 */
export async function serveFolder(prefix: string, dir: string, url: string, res: ServerResponse): Promise<boolean> {
  if (!url.startsWith(prefix)) return false;
  const path = normalize(join(dir, url.slice(prefix.length)));
  if (!path.startsWith(dir + sep)) {
    res.writeHead(403).end();
    return true;
  }
  try {
    res.writeHead(200, { 'content-type': path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(await readFile(path));
  } catch {
    res.writeHead(404).end();
  }
  return true;
}
