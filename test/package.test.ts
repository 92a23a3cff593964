// The package as a user receives it: `npm pack`, the tarball installed offline into a fresh project without
// devDependencies, the README's library snippets type-checked by tsc --strict (no skipLibCheck) under nodenext and
// bundler resolution, the installed `wcodec` command on a round trip, the README's web page snippet bundled by
// esbuild for browsers, and such a bundle decoding with Web Workers in headless Chromium (skipped without Chromium).
// No network: the install uses an empty cache of its own and --offline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';
import { BROWSER_TIMEOUT_MS, findChromium, inChromium, postedJson } from './helpers/chromium.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A page that decodes /model.wcodec with a pool of workers and posts the SHA-256 of the result to /result. */
const DECODE_PAGE = `import { decompressBuffer } from 'wcodec';
const report = (r: unknown) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  const container = new Uint8Array(await (await fetch('/model.wcodec')).arrayBuffer());
  const bytes = await decompressBuffer(container, { threads: 3, minPoolBytes: 0 });
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  await report({ ok: true, sha256: [...digest].map((x) => x.toString(16).padStart(2, '0')).join('') });
} catch (e) {
  await report({ ok: false, error: String(e) });
}
export {};
`;

/** The ```ts blocks of the README section that starts with `heading`. */
function snippets(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no section ${heading}`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs tsc on `files` of `project` under `options`; fails with tsc's output. */
async function typeCheck(project: string, name: string, files: string[], options: Record<string, unknown>): Promise<void> {
  const config = join(project, `tsconfig.${name}.json`);
  const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', ...options };
  await writeFile(config, JSON.stringify({ compilerOptions, files }));
  try {
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: project });
  } catch (e) {
    const { stdout, stderr } = e as { stdout: string; stderr: string };
    assert.fail(`tsc (${name}) failed:\n${stdout}${stderr}`);
  }
}

test('package: the packed tarball installs offline, type-checks, runs its CLI and bundles for browsers', { timeout: 120_000 }, async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'wcodec-package-'));
  try {
    // --ignore-scripts: dist is built already (npm test builds first); no lifecycle script runs here.
    const { stdout: packed } = await run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT });
    const [info] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
    const shipped = info!.files.map((f) => f.path);

    await t.test('the tarball has a LICENSE, no source maps, and every file that package.json names', async () => {
      assert.ok(shipped.includes('LICENSE'));
      assert.deepEqual(shipped.filter((p) => p.endsWith('.map')), []);
      const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: unknown; bin: Record<string, string>; sideEffects: string[] };
      const targets = (v: unknown): string[] => (typeof v === 'string' ? [v] : Object.values(v as object).flatMap(targets));
      for (const p of [...targets(pkg.exports), ...Object.values(pkg.bin), ...pkg.sideEffects].map((p) => p.replace(/^\.\//, ''))) {
        assert.ok(shipped.includes(p), `${p} is named in package.json but not in the tarball`);
      }
    });

    const project = join(tmp, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }));
    // An empty cache of its own and --offline: the tarball alone must suffice (wcodec has no runtime dependencies).
    await run(NPM, ['install', join(tmp, info!.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', join(tmp, 'npm-cache')], { cwd: project });
    const installed = join(project, 'node_modules/wcodec');
    assert.deepEqual(await readdir(join(project, 'node_modules')).then((d) => d.filter((n) => !n.startsWith('.'))), ['wcodec']);

    const readme = await readFile(join(installed, 'README.md'), 'utf8');
    const [library] = snippets(readme, '## Library');
    const [webPage] = snippets(readme, '## In a web page');
    assert.ok(library && webPage);
    await writeFile(join(project, 'library.ts'), `${library}\nexport {};\n`);
    await writeFile(join(project, 'web-page.ts'), `${webPage}\nexport {};\n`);
    // The same with the Node line's 'wcodec/node', which resolves to the Node entry under any condition.
    const nodeLine = /^(import \{ compressFile.*?from )'wcodec';/m;
    assert.match(library, nodeLine);
    await writeFile(join(project, 'library-node.ts'), `${library.replace(nodeLine, "$1'wcodec/node';")}\nexport {};\n`);
    // The WebGPU types of the public API: `unknown` without WebGPU types in the program, exact with them.
    await writeFile(
      join(project, 'gpu.ts'),
      `import { decodeToGPU, openContainer, MemorySource, requestDecodeDevice } from 'wcodec';
const ckpt = await openContainer(new MemorySource(new Uint8Array(0)));
const { device } = await requestDecodeDevice();
const r = await decodeToGPU(ckpt, ['t'], device);
if (r.backend === 'gpu') console.log(r.buffers.length);
export {};
`,
    );
    await writeFile(
      join(project, 'gpu-typed.ts'),
      `import { decodeToGPU, openContainer, MemorySource } from 'wcodec';
const ckpt = await openContainer(new MemorySource(new Uint8Array(0)));
const r = await decodeToGPU(ckpt, ['t']);
if (r.backend === 'gpu') {
  const buffer: GPUBuffer = r.buffers[0]!;
  const device: GPUDevice = r.device;
  buffer.destroy();
  device.destroy();
}
export {};
`,
    );

    await t.test('README snippets type-check with tsc --strict, no skipLibCheck, nodenext and bundler resolution', async () => {
      // A Node project: @types/node, no DOM lib, no WebGPU types. A browser project: the DOM lib and @webgpu/types
      // (which needs the DOM lib), no @types/node.
      await mkdir(join(project, 'node_modules/@types'));
      await symlink(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'), 'dir');
      await symlink(join(ROOT, 'node_modules/@webgpu'), join(project, 'node_modules/@webgpu'), 'dir');
      const node = { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] };
      await Promise.all([
        typeCheck(project, 'node', ['library.ts', 'web-page.ts', 'gpu.ts'], node),
        // Code bundled for Node: the bundler resolves 'wcodec' under the "node" condition, and tsc is told so.
        typeCheck(project, 'bundler-node', ['library.ts', 'library-node.ts'], { ...node, module: 'esnext', moduleResolution: 'bundler', customConditions: ['node'] }),
        typeCheck(project, 'bundler', ['web-page.ts', 'gpu-typed.ts'], { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: ['@webgpu/types'] }),
      ]);
    });

    await t.test('the installed wcodec command prints its usage and round-trips a file', async () => {
      const wcodec = join(project, 'node_modules/.bin/wcodec');
      const { stdout } = await run(wcodec, ['--help'], { cwd: project });
      assert.match(stdout, /usage:/);
      const rng = new Rng(testSeed(47));
      const original = buildSafetensors([
        { name: 'w', dtype: 'BF16', shape: [4099], data: makeValues('BF16', 4099, 'gaussian', rng) },
        { name: 'b', dtype: 'F32', shape: [33], data: makeValues('F32', 33, 'gaussian', rng) },
      ]).bytes;
      await writeFile(join(project, 'model.safetensors'), original);
      await run(wcodec, ['compress', 'model.safetensors', '-o', 'model.wcodec', '-q', '--threads', '2'], { cwd: project });
      await run(wcodec, ['decompress', 'model.wcodec', '-o', 'restored.safetensors', '-q', '--threads', '2'], { cwd: project });
      assert.deepEqual(new Uint8Array(await readFile(join(project, 'restored.safetensors'))), original);
    });

    await t.test('esbuild bundles the web page snippet for browsers: no node: import, the worker referenced by URL and emitted', async () => {
      const out = join(project, 'public');
      await writeFile(join(project, 'decode-page.ts'), DECODE_PAGE);
      const entries = ['web-page.ts', 'decode-page.ts', 'worker-web=wcodec/worker-web.js'];
      try {
        await run(join(BIN, 'esbuild'), [...entries, '--bundle', '--format=esm', '--platform=browser', `--outdir=${out}`, '--log-level=error'], { cwd: project });
      } catch (e) {
        const { stderr } = e as { stderr: string };
        assert.fail(`esbuild failed:\n${stderr}`);
      }
      const page = await readFile(join(out, 'web-page.js'), 'utf8');
      const worker = await readFile(join(out, 'worker-web.js'), 'utf8');
      const nodeImport = /\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(\s*["']node:/;
      assert.doesNotMatch(page, nodeImport);
      assert.doesNotMatch(worker, nodeImport);
      assert.match(page, /new Worker\(new URL\("\.\/worker-web\.js", import\.meta\.url\), \{ type: "module" \}\)/);
      // The worker is one self-contained module: nothing left to import at run time.
      assert.doesNotMatch(worker, /^\s*import\b|\bimport\s*\(/m);
      assert.match(worker, /\bonmessage\s*=/);
    });

    await t.test('the bundle decodes in headless Chromium with Web Workers from the emitted worker script', async (t) => {
      const chromium = findChromium();
      if (!chromium) {
        t.skip('no chromium on PATH (apt-get install -y chromium)');
        return;
      }
      const out = join(project, 'public');
      const served: string[] = [];
      let report: (r: Promise<unknown>) => void = () => {};
      const reported = new Promise<unknown>((r) => (report = r));
      const server = createServer(async (req, res) => {
        const url = req.url ?? '/';
        served.push(url);
        if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/decode-page.js"></script>');
        if (url === '/result') return void report(postedJson(req, res));
        const file = { '/model.wcodec': join(project, 'model.wcodec'), '/decode-page.js': join(out, 'decode-page.js'), '/worker-web.js': join(out, 'worker-web.js') }[url];
        if (!file) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': url.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' }).end(await readFile(file));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      try {
        const r = (await inChromium(chromium, `http://127.0.0.1:${port}/`, reported)) as { ok: boolean; sha256?: string; error?: string };
        assert.ok(r.ok, r.error);
        assert.equal(r.sha256, createHash('sha256').update(await readFile(join(project, 'model.safetensors'))).digest('hex'));
        assert.ok(served.includes('/worker-web.js'), 'the page started workers from the emitted worker script');
      } finally {
        server.close();
      }
    });
  } finally {
    await rm(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
