// A fetch that serves compressed files as if they were the originals: a request for `model.onnx` (or any name a
// `match` accepts) fetches `model.onnx.wcodec` instead, decodes it (every check of a whole decode) and answers with the
// original bytes, so that a runtime that loads models by fetch (onnxruntime-web, transformers.js, a page's own code)
// loads them unchanged. docs/LOADING.md "Serving models compressed".

import { decompressBuffer, type DecompressBufferOptions } from './buffers.js';

/** Options of wcodecFetch. */
export interface WcodecFetchOptions {
  /** The fetch to wrap (default: globalThis.fetch at call time). */
  fetch?: typeof globalThis.fetch;
  /** Which request URLs are served from a container (default: paths ending in .onnx, .onnx_data, .onnx.data, .gguf or .safetensors). */
  match?: (url: URL) => boolean;
  /** The container's URL for a matched one (default: the same URL with `.wcodec` appended to its path). */
  containerUrl?: (url: URL) => URL;
  /**
   * When the container is missing (404), fetch the original instead (default true: a server that holds only some
   * models compressed keeps working); false answers with the 404.
   */
  fallback?: boolean;
  /** Options of the decode (threads, maxOutputBytes, …). */
  decode?: DecompressBufferOptions;
}

const DEFAULT_SUFFIXES = ['.onnx', '.onnx_data', '.onnx.data', '.gguf', '.safetensors'];

/**
 * A fetch-compatible function: GET requests whose URL `match`es are answered from the single-file container at
 * `containerUrl(url)`, decoded in full and checked (a damaged container rejects with its WcodecError, never a wrong
 * byte); every other request goes to the wrapped fetch unchanged. The answer is a 200 with the original bytes and
 * their length; decoding holds the container and the output in memory at once.
 */
export function wcodecFetch(options: WcodecFetchOptions = {}): typeof globalThis.fetch {
  const match = options.match ?? ((u: URL) => DEFAULT_SUFFIXES.some((s) => u.pathname.endsWith(s)));
  const containerUrl = options.containerUrl ?? ((u: URL) => new URL(`${u.pathname}.wcodec${u.search}`, u));
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const base = options.fetch ?? globalThis.fetch;
    const request = typeof input === 'string' || input instanceof URL ? undefined : input;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(href, typeof location === 'undefined' ? undefined : location.href);
    if (method !== 'GET' || !match(url)) return base(input, init);
    const compressed = await base(containerUrl(url), { signal: init?.signal ?? request?.signal });
    if (compressed.status === 404 && options.fallback !== false) return base(input, init);
    if (!compressed.ok) return compressed;
    const container = new Uint8Array(await compressed.arrayBuffer());
    const decoded = await decompressBuffer(container, { name: containerUrl(url).pathname, ...options.decode });
    // A Response takes no view of shared memory (a decode with workers may return one): such output is copied.
    const bytes = decoded.buffer instanceof ArrayBuffer ? (decoded as Uint8Array<ArrayBuffer>) : decoded.slice();
    return new Response(bytes, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } });
  };
}
