// `npm run demo`: serves the demo page (examples/demo), the browser bundle (dist/browser, tools/bundle-browser.mjs)
// and a folder of models on 127.0.0.1, models with HTTP range requests as docs/LOADING.md asks of a server (206 with
// Content-Range, a strong ETag, Last-Modified, HEAD, If-Match). Makes the demo container first when it is missing.
// Usage: npm run demo [-- --port N] [--models DIR]
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { compressFile } from '../../src/node.js';

/** The repository root (this file runs from dist/examples/demo). */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The page's own files (index.html, demo.js), served from the source tree: they need no build. */
const PAGE_DIR = join(REPO_ROOT, 'examples/demo');
/** The browser bundle and its worker, written by `npm run build`. */
const BUNDLE_DIR = join(REPO_ROOT, 'dist/browser');
/** Where `npm run demo` keeps its models (git-ignored). */
export const DEFAULT_MODELS_DIR = join(PAGE_DIR, 'models');
/** The model the demo container is made from. */
export const DEMO_SOURCE = join(REPO_ROOT, 'examples/stories260K/stories260K.safetensors');
/** The demo container's name in the models folder, and so its URL path under /models/. */
export const DEMO_MODEL = 'stories260K.wcodec';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wcodec': 'application/octet-stream',
};

/** Files of the page folder that are served (its TypeScript, this server, is not). */
const PAGE_EXTENSIONS = new Set(['.html', '.js', '.css']);

/**
 * Headers of every answer. Cross-origin isolation (COOP and COEP) gives the page SharedArrayBuffer, into which the
 * decoder's Web Workers write directly; `no-cache` makes the browser check each file again, so a rebuilt bundle or a
 * replaced model is never served stale.
 */
const COMMON_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cache-control': 'no-cache',
};

/** Options of startDemo. */
export interface DemoServerOptions {
  /** Port on 127.0.0.1; 0 (the default) takes any free one. */
  port?: number;
  /** The models folder, served under /models/ (default DEFAULT_MODELS_DIR); the demo container is made in it. */
  models?: string;
  /** Sees every request first; returns true when it answered it (a test's report route), false to go on. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

/** A started demo server. */
export interface DemoServer {
  server: Server;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The URL path of the demo container (`/models/stories260K.wcodec`). */
  modelPath: string;
  close(): Promise<void>;
}

/**
 * Makes `models`/DEMO_MODEL from DEMO_SOURCE with the package's compressFile, unless a container at least as new as
 * the source is there already.
 * @returns the container's path, and whether it was made now
 * @throws the errors of compressFile (the output is written whole or not at all)
 */
export async function ensureDemoContainer(models: string): Promise<{ path: string; made: boolean }> {
  const path = join(models, DEMO_MODEL);
  const source = await stat(DEMO_SOURCE);
  const existing = await stat(path).catch(() => undefined);
  if (existing && existing.mtimeMs >= source.mtimeMs) return { path, made: false };
  await mkdir(models, { recursive: true });
  await compressFile(DEMO_SOURCE, path, { overwrite: true });
  return { path, made: true };
}

/**
 * Starts the demo server: `/` the page, `/lib/` the browser bundle, `/models/` the models folder (`/models/` itself:
 * the JSON list of its `.wcodec` files), each file with range requests. Makes the demo container first.
 * @throws the errors of ensureDemoContainer; the server's when the port is taken
 */
export async function startDemo(options: DemoServerOptions = {}): Promise<DemoServer> {
  const models = normalize(options.models ?? DEFAULT_MODELS_DIR);
  await ensureDemoContainer(models);
  const server = createServer((req, res) => {
    void answer(req, res, models, options.handle).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    modelPath: `/models/${DEMO_MODEL}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, models: string, handle: DemoServerOptions['handle']): Promise<void> {
  if (handle && (await handle(req, res))) return;
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  let url: string;
  try {
    url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return void res.writeHead(400).end();
  }
  if (url === '/models/') return listModels(req, res, models);
  const [dir, rest] = url.startsWith('/lib/') ? [BUNDLE_DIR, url.slice(5)] : url.startsWith('/models/') ? [models, url.slice(8)] : [PAGE_DIR, url === '/' ? 'index.html' : url.slice(1)];
  if (dir === PAGE_DIR && !PAGE_EXTENSIONS.has(extname(rest))) return void res.writeHead(404, COMMON_HEADERS).end();
  const path = normalize(join(dir, rest));
  // normalize() resolves '..': a path that ends up outside its folder is refused, never served.
  if (!path.startsWith(dir + sep)) return void res.writeHead(403, COMMON_HEADERS).end();
  await sendFile(req, res, path);
}

async function listModels(req: IncomingMessage, res: ServerResponse, models: string): Promise<void> {
  const names = (await readdir(models).catch(() => [] as string[])).filter((n) => n.endsWith('.wcodec')).sort();
  res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(names));
}

/**
 * Answers with a file, or the one range of it that `Range` asks for: 206 and Content-Range; 416 for a range that lies
 * past the end; 412 when If-Match names another ETag or If-Unmodified-Since is older than the file. A Range header
 * this server does not take (several ranges, another unit) gets the whole file, as RFC 9110 allows.
 */
async function sendFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return void res.writeHead(404, COMMON_HEADERS).end();
  const size = info.size;
  // Strong validators from size and modification time: a replaced file gets another ETag, so a reader pinned to the
  // old one (If-Match) is refused its bytes instead of mixing two versions.
  const etag = `"${size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
  const lastModified = info.mtime.toUTCString();
  const headers: Record<string, string | number> = {
    ...COMMON_HEADERS,
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag,
    'last-modified': lastModified,
  };
  const ifMatch = req.headers['if-match'];
  const ifUnmodified = req.headers['if-unmodified-since'];
  const matches = ifMatch === undefined || ifMatch.split(',').some((t) => t.trim() === '*' || t.trim() === etag);
  const unmodified = ifUnmodified === undefined || Math.floor(info.mtimeMs / 1000) * 1000 <= Date.parse(ifUnmodified);
  if (!matches || !unmodified) return void res.writeHead(412, headers).end();
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag || ifRange === lastModified ? req.headers.range : undefined;
  const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') return void res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
  const [start, end] = range ?? [0, size];
  headers['content-length'] = end - start;
  if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || end === start) return void res.end();
  // A client that goes away mid-body (an aborted load) ends the stream early: nothing to report.
  await pipeline(createReadStream(path, { start, end: end - 1 }), res).catch(() => {});
}

/**
 * One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` as [start, end); 'unsatisfiable' when it starts past the end (or
 * asks for the last 0 bytes); undefined for anything else (several ranges, another unit, bad syntax).
 */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : [Math.max(0, size - n), size];
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  return start >= size ? 'unsatisfiable' : [start, end];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const models = arg('--models') ?? DEFAULT_MODELS_DIR;
  const made = await ensureDemoContainer(models);
  if (made.made) console.log(`made ${made.path} from ${DEMO_SOURCE}`);
  const demo = await startDemo({ port: Number(arg('--port') ?? 8080), models });
  console.log(`demo page: ${demo.origin}/ (models from ${models}, the demo container at ${demo.origin}${demo.modelPath}); Ctrl-C stops`);
}
