// Opening a checkpoint from where it lies (browser-safe): a URL (HTTP range requests), a Blob or File, or any ByteSource.
// Node's entry adds file paths (src/node/file-api.ts).

import { HttpSource, type HttpSourceOptions } from '../io/http-source.js';
import { BlobSource } from '../io/blob-source.js';
import type { ByteSource } from '../io/byte-source.js';
import { openContainer, type Checkpoint, type LoadProgress } from './checkpoint.js';

/** Where a checkpoint can be opened from: an http(s) URL (string or URL), a Blob or File, or a ByteSource. */
export type CheckpointInput = string | URL | Blob | ByteSource;

/** Options of openCheckpoint: those of the HTTP source (used for URLs only), and progress. */
export interface OpenCheckpointOptions extends HttpSourceOptions {
  /** Progress of every read() and load() of the checkpoint that gives none of its own. */
  onProgress?: (progress: LoadProgress) => void;
}

/** Whether `x` is a ByteSource (a `read` method and a numeric `size`) rather than a Blob, URL or string. */
export function isByteSource(x: unknown): x is ByteSource {
  return typeof x === 'object' && x !== null && typeof (x as ByteSource).read === 'function' && typeof (x as ByteSource).size === 'number' && !(typeof Blob === 'function' && x instanceof Blob);
}

/**
 * The ByteSource for `input`: an HttpSource for a URL (a string is resolved against the page's address where there is
 * one), a BlobSource for a Blob or File, a ByteSource as it is.
 * @throws TypeError for a string that is not a URL or a URL that is not http(s); the errors of HttpSource.open
 */
export async function openSource(input: CheckpointInput, options: HttpSourceOptions = {}): Promise<ByteSource> {
  if (isByteSource(input)) return input;
  if (typeof Blob === 'function' && input instanceof Blob) return new BlobSource(input);
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL;
  try {
    url = input instanceof URL ? input : new URL(input as string, base);
  } catch {
    throw new TypeError(`'${String(input)}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`'${url.href}': only http: and https: URLs are read (a file path needs Node's openCheckpoint)`);
  return HttpSource.open(url, options);
}

/**
 * Opens a container for listing and random access from a URL, a Blob or File, or a ByteSource; its listing checked
 * (checkedCheckpoint). Listing a container with a small index from a URL costs two requests made together (its first
 * and last 64 KiB), and one more per further safetensors file of a folder container (their headers, in parallel).
 * @throws TypeError for an input that is none of these; the errors of HttpSource.open (HTTP_ERROR, RANGE_UNSUPPORTED,
 *   SOURCE_CHANGED, ABORTED) and of openContainer
 */
export async function openCheckpoint(input: CheckpointInput, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  const source = await openSource(input, options);
  try {
    return await openContainer(source, { onProgress: options.onProgress });
  } catch (e) {
    // A source made here is closed when its container is refused; a caller's ByteSource stays the caller's.
    if (source !== input) await source.close().catch(() => {});
    throw e;
  }
}
