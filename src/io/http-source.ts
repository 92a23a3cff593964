// HTTP range source: a ByteSource over a URL read with Range requests through an injectable fetch (FORMAT.md §2.3: a
// reader needs the header, the footer and the index, then only the chunks it decodes). Planned ranges (prefetch) are
// fetched in few large requests, a bounded number at a time; transient failures are retried from the first byte not yet
// received; every response is pinned to the file first seen (ETag, Last-Modified, size), so a file that changes while
// it is read is an error, never a mix of two files' bytes.

import { FormatError, IoError, WcodecError } from '../errors.js';
import { abortError, anySignal, raceAbort, sleep as sleepFor, throwIfAborted } from './abort.js';
import type { ByteRange, ByteSource, ReadOptions } from './byte-source.js';

/** Largest request for planned ranges: near ranges are fetched together up to this size. */
export const MAX_RANGE_BYTES = 8 * 1024 * 1024;
/** Requests in flight at most. */
export const MAX_IN_FLIGHT = 4;
/** Planned ranges this close are fetched in one request, the bytes between them included (cheaper than a request). */
export const GAP_BYTES = 64 * 1024;
/** Bytes the opening requests take from each end of the file: header, footer and a small index in two requests. */
export const END_BYTES = 64 * 1024;
/**
 * Largest file taken whole from a server that ignores Range (answers 200 with the whole body): a larger one would be
 * downloaded whole for every tensor, so it is refused (RANGE_UNSUPPORTED) instead.
 */
export const MAX_WHOLE_BYTES = 16 * 1024 * 1024;
/** Retries of a transient failure (network error, 5xx, 408, 429, a body cut short) per request. */
export const RETRIES = 4;
/** Delay before the first retry; each further one doubles it, up to MAX_RETRY_DELAY_MS. */
export const RETRY_DELAY_MS = 250;
/** Longest delay between retries: a server that is down for a while is not polled ever more slowly without bound. */
export const MAX_RETRY_DELAY_MS = 8000;

/** Options of HttpSource.open. */
export interface HttpSourceOptions {
  /** The fetch to use (default globalThis.fetch): tests, authentication, a proxy. */
  fetch?: typeof globalThis.fetch;
  /** Aborts the opening requests and, later, every request of this source. */
  signal?: AbortSignal;
  /** Headers added to every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Largest request for planned ranges (default MAX_RANGE_BYTES). */
  maxRangeBytes?: number;
  /** Requests in flight at most (default MAX_IN_FLIGHT). */
  maxInFlight?: number;
  /** Planned ranges closer than this are fetched together (default GAP_BYTES). */
  gapBytes?: number;
  /** Retries of a transient failure per request (default RETRIES). */
  retries?: number;
  /** Delay before the first retry in milliseconds, doubled for each further one (default RETRY_DELAY_MS). */
  retryDelayMs?: number;
  /** Waits between retries (default a timer); tests pass one that does not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Largest file taken whole from a server that ignores Range (default MAX_WHOLE_BYTES). */
  maxWholeBytes?: number;
  /**
   * Send If-Match (a strong ETag) or If-Unmodified-Since (Last-Modified) with every request after the first, so that a
   * server refuses (412) bytes of a changed file (default true). Cross-origin, these headers need the server's CORS
   * approval (Access-Control-Allow-Headers); without it, pass false: responses are then still compared with the pinned
   * ETag, Last-Modified and size.
   */
  conditional?: boolean;
  /** Labels errors (default: the URL without its query). */
  name?: string;
}

/** Requests made and bytes received by a source, for tests and benchmarks. */
export interface HttpStats {
  requests: number;
  /** Body bytes received (of every response, retried ones included). */
  bytesReceived: number;
  retries: number;
}

/** A failure worth retrying: a network error, a 5xx, 408 or 429 status, a body cut short. */
class Transient extends Error {}

/** What identifies the file first seen: later responses must carry the same. */
interface Pin {
  size: number;
  etag: string | undefined;
  lastModified: string | undefined;
}

/**
 * Bytes [start, end) of the file, filled from the start as they arrive; `filled` survives a failed or aborted fetch, so
 * the next one asks only for the rest. Only a complete extent serves reads.
 */
class Extent {
  readonly bytes: Uint8Array;
  filled = 0;
  fetching: Promise<void> | undefined;
  constructor(readonly start: number, readonly end: number, readonly pinned: boolean, bytes?: Uint8Array, readonly signal?: AbortSignal) {
    this.bytes = bytes ?? new Uint8Array(end - start);
    if (bytes) this.filled = bytes.length;
  }
  get done(): boolean {
    return this.filled === this.end - this.start;
  }
}

/** A planned range not yet requested. */
interface Piece {
  start: number;
  end: number;
  signal: AbortSignal | undefined;
}

const isTransientStatus = (s: number): boolean => s >= 500 || s === 408 || s === 429;
/** A strong ETag (If-Match compares strongly: a weak one never matches). */
const isStrong = (etag: string | undefined): etag is string => etag !== undefined && !etag.startsWith('W/');

/**
 * A ByteSource over an HTTP(S) URL. Reads are served from extents: ranges fetched whole, each by one request (several
 * when retried). prefetch() plans ranges: near ones merged (gapBytes), split into requests of at most maxRangeBytes,
 * fetched in order with at most maxInFlight in flight and at most (maxInFlight + 1) * maxRangeBytes held unread. A read
 * of a range no extent or plan holds fetches exactly that range (in requests of at most maxRangeBytes). An extent is dropped once a read has taken its last
 * byte (or release() passed it), so memory stays at a few ranges whatever the file's size; the two opening extents
 * (header, footer and index) stay.
 */
export class HttpSource implements ByteSource {
  /** Reads are views of extents that nothing changes. */
  readonly ownedReads = true;
  readonly stats: HttpStats = { requests: 0, bytesReceived: 0, retries: 0 };
  private extents: Extent[] = [];
  private queue: Piece[] = [];
  private inFlight = 0;
  /** Reads waiting for a request slot (they go before planned pieces), and how to wake them when one frees. */
  private demand = 0;
  private waiting: (() => void)[] = [];
  /**
   * Where the latest read of the data ended (reads of the opening extents, header, footer and index, aside): complete
   * extents before it that no read took are dropped when over budget, as a reader moving forward has passed them.
   */
  private readEnd = 0;
  /** The first SOURCE_CHANGED seen: every later read fails with it. */
  private failed: WcodecError | undefined;
  /** The whole file, when the server ignores Range (at most maxWholeBytes); undefined after discard() until fetched again. */
  private whole: Uint8Array | undefined;
  private readonly wholeMode: boolean;
  private readonly closer = new AbortController();
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly maxRangeBytes: number;
  private readonly maxInFlight: number;
  private readonly gapBytes: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly conditional: boolean;
  private readonly headers: Record<string, string>;
  private readonly signal: AbortSignal | undefined;

  private constructor(readonly url: string, readonly name: string, private readonly pin: Pin, options: HttpSourceOptions, opening: { head?: Uint8Array; tail?: Uint8Array; whole?: Uint8Array }) {
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis); // open() checked that there is one
    this.maxRangeBytes = options.maxRangeBytes ?? MAX_RANGE_BYTES;
    this.maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
    this.gapBytes = options.gapBytes ?? GAP_BYTES;
    this.retries = options.retries ?? RETRIES;
    this.retryDelayMs = options.retryDelayMs ?? RETRY_DELAY_MS;
    this.sleep = options.sleep ?? sleepFor;
    this.conditional = options.conditional ?? true;
    this.headers = options.headers ?? {};
    this.signal = options.signal;
    this.whole = opening.whole;
    this.wholeMode = opening.whole !== undefined;
    const { head, tail } = opening;
    if (head && head.length > 0) this.extents.push(new Extent(0, head.length, true, head));
    if (tail && tail.length > 0) {
      // The two ends overlap in a file under 2 * END_BYTES: the tail keeps only what the head lacks.
      const from = Math.max(pin.size - tail.length, head?.length ?? 0);
      if (from < pin.size) this.extents.push(new Extent(from, pin.size, true, tail.subarray(tail.length - (pin.size - from))));
    }
  }

  get size(): number {
    return this.pin.size;
  }

  /**
   * Opens `url`: two requests in parallel, the first `END_BYTES` (Range: bytes=0-…) and the last (a suffix range), which
   * give the size (Content-Range), the ETag and Last-Modified pinned for every later request, and the bytes a listing
   * of a container with a small index needs. A server that answers 200 (no range support) is taken whole when the
   * file is at most `maxWholeBytes`.
   * @throws HTTP_ERROR (a status other than 200/206/416, or transient failures past the retries), RANGE_UNSUPPORTED,
   *   SOURCE_CHANGED (the two answers are of different files), ABORTED; TypeError without a fetch; RangeError for a
   *   count or size option that is not a positive integer (retries, gapBytes: not negative)
   */
  static async open(url: string | URL, options: HttpSourceOptions = {}): Promise<HttpSource> {
    const href = url.toString();
    const name = options.name ?? href.replace(/[?#].*$/, '');
    const fetchFn = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (typeof fetchFn !== 'function') throw new TypeError('no fetch in this environment: pass options.fetch');
    checkOptions(options);
    const end = END_BYTES;
    const maxWhole = options.maxWholeBytes ?? MAX_WHOLE_BYTES;
    const stats: HttpStats = { requests: 0, bytesReceived: 0, retries: 0 };
    const retry = retrier(options, stats, name);
    // Either answer may be the whole file (a server without Range): the other request then stops.
    const both = new AbortController();
    const signal = anySignal(options.signal, both.signal);
    const get = (range: string) =>
      retry(options.signal, async () => {
        let res: Response;
        try {
          res = await fetchFn(href, { headers: { ...options.headers, Range: range, 'Accept-Encoding': 'identity' }, signal });
        } catch (e) {
          throw fetchFailure(e, signal, name);
        }
        stats.requests++;
        return readOpening(res, range, maxWhole, signal, name, stats);
      });
    const headP = get(`bytes=0-${end - 1}`);
    const tailP = get(`bytes=-${end}`);
    // The first whole body makes the other request pointless.
    const stopOnWhole = (p: Promise<Opening>): void => void p.then((o) => o.whole && both.abort(), () => {});
    stopOnWhole(headP);
    stopOnWhole(tailP);
    const [head, tail] = await Promise.allSettled([headP, tailP]);
    const got = [head, tail].map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    const whole = got.find((o) => o?.whole);
    if (whole) {
      const source = new HttpSource(href, name, whole.pin, options, { whole: whole.bytes });
      Object.assign(source.stats, stats);
      return source;
    }
    if (head.status === 'rejected') throw head.reason;
    if (tail.status === 'rejected') throw tail.reason;
    const h = got[0]!;
    const t = got[1]!;
    if (h.pin.size !== t.pin.size || !samePin(h.pin, t.pin)) {
      throw new IoError('SOURCE_CHANGED', `the file changed between the first two requests (size ${h.pin.size} / ${t.pin.size}, ETag ${h.pin.etag} / ${t.pin.etag})`, { file: name });
    }
    const source = new HttpSource(href, name, h.pin, options, { head: h.bytes, tail: t.bytes });
    Object.assign(source.stats, stats);
    return source;
  }

  /** @throws TRUNCATED for a range past the end; ABORTED; and the errors of fetching (HttpSource.open) */
  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError('TRUNCATED', `read of ${length} bytes at ${offset} passes the end (${this.size} bytes)`, { file: this.name, offset: Math.min(Math.max(offset, 0), this.size) });
    }
    const signal = options.signal;
    throwIfAborted(signal, this.name);
    if (this.failed) throw this.failed;
    if (length === 0) return new Uint8Array(0);
    if (this.wholeMode) {
      this.whole ??= await raceAbort(this.fetchWhole(signal), signal, this.name);
      return this.whole.subarray(offset, offset + length);
    }
    const end = offset + length;
    const parts = this.cover(offset, end, signal);
    await raceAbort(Promise.all(parts.map((e) => this.ready(e, signal))), signal, this.name);
    if (this.failed) throw this.failed;
    if (parts.some((e) => !e.pinned)) this.readEnd = end;
    let out: Uint8Array;
    if (parts.length === 1) {
      const e = parts[0];
      out = e.bytes.subarray(offset - e.start, end - e.start);
    } else {
      out = new Uint8Array(length);
      for (const e of parts) {
        const from = Math.max(offset, e.start);
        const to = Math.min(end, e.end);
        out.set(e.bytes.subarray(from - e.start, to - e.start), from - offset);
      }
    }
    // An extent whose last byte has been read has served its purpose.
    for (const e of parts) if (!e.pinned && e.end <= end) this.drop(e);
    this.pump();
    return out;
  }

  /**
   * Plans `ranges` (ByteSource.prefetch): sorted, merged where less than gapBytes apart, less what is held or planned
   * already, split into requests of at most maxRangeBytes and queued; fetching starts at once. `options.signal` aborts
   * the requests of this plan (their bytes so far are kept: a later plan or read continues from there).
   */
  prefetch(ranges: readonly ByteRange[], options: ReadOptions = {}): void {
    if (this.wholeMode || this.failed || options.signal?.aborted) return;
    const sorted = ranges.filter((r) => r.length > 0 && r.offset >= 0 && r.offset + r.length <= this.size).map((r) => ({ start: r.offset, end: r.offset + r.length }));
    sorted.sort((a, b) => a.start - b.start);
    const merged: { start: number; end: number }[] = [];
    for (const r of sorted) {
      const last = merged[merged.length - 1];
      if (last && r.start - last.end <= this.gapBytes) last.end = Math.max(last.end, r.end);
      else merged.push({ ...r });
    }
    const taken = [...this.extents.map((e) => ({ start: e.start, end: e.end })), ...this.queue].sort((a, b) => a.start - b.start);
    for (const r of merged) {
      for (const free of subtract(r, taken)) {
        for (let at = free.start; at < free.end; at += this.maxRangeBytes) {
          this.queue.push({ start: at, end: Math.min(free.end, at + this.maxRangeBytes), signal: options.signal });
        }
      }
    }
    this.queue.sort((a, b) => a.start - b.start);
    this.pump();
  }

  /** Drops the bytes of [offset, offset + length) (ByteSource.discard): the next read of them fetches them again. */
  discard(offset: number, length: number): void {
    if (this.wholeMode) {
      this.whole = undefined;
      return;
    }
    const end = offset + length;
    for (const e of [...this.extents]) {
      if (e.end <= offset || e.start >= end || !e.done) continue;
      this.drop(e);
      // What lies outside the failed range stays, as extents of its own over the same memory.
      if (e.start < offset) this.insert(new Extent(e.start, offset, e.pinned, e.bytes.subarray(0, offset - e.start)));
      if (e.end > end) this.insert(new Extent(end, e.end, e.pinned, e.bytes.subarray(end - e.start)));
    }
  }

  /** The reader needs no byte before `offset` again: extents wholly before it go (ByteSource.release). */
  release(offset: number): void {
    for (const e of [...this.extents]) if (!e.pinned && e.done && e.end <= offset) this.drop(e);
    this.pump();
  }

  /** Stops every request and drops every byte held. */
  async close(): Promise<void> {
    this.closer.abort();
    this.queue = [];
    for (const e of this.extents) await e.fetching?.catch(() => {});
    this.extents = [];
    this.whole = undefined;
  }

  /** The extents that hold [start, end), in order: those held, planned ones started now, and new ones for the gaps. */
  private cover(start: number, end: number, signal: AbortSignal | undefined): Extent[] {
    // Planned pieces this read needs are requested now, whole, whatever the budget: the read waits for them.
    const needed = this.queue.filter((p) => p.start < end && p.end > start);
    if (needed.length > 0) {
      this.queue = this.queue.filter((p) => !needed.includes(p));
      // ready() starts them, under the plan's signal while it stands, else the read's.
      for (const p of needed) this.insert(new Extent(p.start, p.end, false, undefined, p.signal));
    }
    const out: Extent[] = [];
    // A gap is fetched in requests of at most maxRangeBytes (a large read unannounced: they go in parallel).
    const gap = (from: number, to: number): void => {
      for (let a = from; a < to; a += this.maxRangeBytes) out.push(this.insert(new Extent(a, Math.min(to, a + this.maxRangeBytes), false, undefined, signal)));
    };
    let at = start;
    for (const e of [...this.extents]) {
      if (e.end <= at) continue;
      if (e.start >= end) break;
      if (e.start > at) gap(at, e.start);
      out.push(e);
      at = e.end;
    }
    if (at < end) gap(at, end);
    return out;
  }

  /**
   * Waits until `e` is complete, starting (or resuming) its fetch where none runs, as soon as fewer than maxInFlight
   * requests are in flight (a read waiting for a slot goes before planned pieces).
   */
  private async ready(e: Extent, signal: AbortSignal | undefined): Promise<void> {
    while (!e.done) {
      throwIfAborted(signal, this.name);
      if (this.failed) throw this.failed;
      if (e.fetching) {
        try {
          await e.fetching;
        } catch (err) {
          // A fetch stopped by another's signal (an aborted load's plan) is continued for this read.
          if (!(err instanceof WcodecError && err.code === 'ABORTED') || signal?.aborted || this.closer.signal.aborted || this.signal?.aborted) throw err;
        }
        continue;
      }
      if (this.inFlight < this.maxInFlight) {
        // An extent planned under a signal that has fired since (an aborted load) continues under this read's.
        this.fetchExtent(e, e.signal && !e.signal.aborted ? e.signal : signal);
        continue;
      }
      this.demand++;
      try {
        await new Promise<void>((r) => this.waiting.push(r));
      } finally {
        this.demand--;
      }
    }
  }

  /** Starts planned pieces, in order, while fewer than maxInFlight are in flight and the bytes held stay in budget. */
  private pump(): void {
    const budget = (this.maxInFlight + 1) * this.maxRangeBytes;
    while (this.queue.length > 0 && this.inFlight + this.demand < this.maxInFlight) {
      const p = this.queue[0];
      if (p.signal?.aborted) {
        this.queue.shift();
        continue;
      }
      if (this.heldBytes() + (p.end - p.start) > budget) {
        // Over budget: complete extents the reads have passed without taking them go first (a reader that skipped them).
        const passed = this.extents.filter((e) => !e.pinned && e.done && e.end <= this.readEnd);
        if (passed.length === 0) break;
        for (const e of passed) this.drop(e);
        continue;
      }
      this.queue.shift();
      this.fetchExtent(this.insert(new Extent(p.start, p.end, false, undefined, p.signal)), p.signal);
    }
  }

  /** Bytes of extents other than the opening ones: fetched and not yet read, or being fetched. */
  private heldBytes(): number {
    let n = 0;
    for (const e of this.extents) if (!e.pinned) n += e.end - e.start;
    return n;
  }

  private insert(e: Extent): Extent {
    let k = this.extents.length;
    while (k > 0 && this.extents[k - 1].start > e.start) k--;
    this.extents.splice(k, 0, e);
    return e;
  }

  private drop(e: Extent): void {
    const k = this.extents.indexOf(e);
    if (k >= 0) this.extents.splice(k, 1);
  }

  /** Starts fetching the rest of `e` (from `filled` on); its promise settles when `e` is complete or the fetch gave up. */
  private fetchExtent(e: Extent, signal: AbortSignal | undefined): void {
    this.inFlight++;
    const run = this.fill(e, anySignal(signal, this.signal, this.closer.signal)).finally(() => {
      this.inFlight--;
      e.fetching = undefined;
      for (const wake of this.waiting.splice(0)) wake();
      this.pump();
    });
    run.catch(() => {});
    e.fetching = run;
  }

  /** Fetches bytes [start + filled, end) of `e`, retrying transient failures from the first byte not yet received. */
  private fill(e: Extent, signal: AbortSignal | undefined): Promise<void> {
    const retry = retrier({ retries: this.retries, retryDelayMs: this.retryDelayMs, sleep: this.sleep }, this.stats, this.name);
    return retry(signal, async () => {
      const from = e.start + e.filled;
      const res = await this.request(from, e.end, signal);
      const body = res.body;
      if (!body) throw new Transient('a 206 response without a body');
      const reader = body.getReader();
      try {
        for (;;) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (err) {
            throw fetchFailure(err, signal, this.name);
          }
          if (r.done) break;
          this.stats.bytesReceived += r.value.length;
          if (e.filled + r.value.length > e.end - e.start) {
            throw new IoError('HTTP_ERROR', `the answer to a request for bytes ${from}-${e.end - 1} is longer than asked`, { file: this.name, offset: from });
          }
          e.bytes.set(r.value, e.filled);
          e.filled += r.value.length;
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      if (!e.done) throw new Transient(`the body ended after ${e.start + e.filled - from} of ${e.end - from} bytes`);
    }).catch((err) => {
      if (err instanceof WcodecError && err.code === 'SOURCE_CHANGED') this.failed ??= err;
      throw err;
    });
  }

  /**
   * One range request for [from, end), its answer checked: 206 with exactly that Content-Range, of the pinned size, ETag
   * and Last-Modified.
   * @throws Transient, SOURCE_CHANGED, RANGE_UNSUPPORTED, HTTP_ERROR, ABORTED
   */
  private async request(from: number, end: number, signal: AbortSignal | undefined): Promise<Response> {
    // Identity: a compressed answer's length would not be the range's (browsers, which set the header themselves, drop it).
    const headers: Record<string, string> = { ...this.headers, Range: `bytes=${from}-${end - 1}`, 'Accept-Encoding': 'identity' };
    if (this.conditional) {
      if (isStrong(this.pin.etag)) headers['If-Match'] = this.pin.etag;
      else if (this.pin.lastModified) headers['If-Unmodified-Since'] = this.pin.lastModified;
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.url, { headers, signal });
    } catch (e) {
      throw fetchFailure(e, signal, this.name);
    }
    this.stats.requests++;
    const place = { file: this.name, offset: from };
    const fail = (e: Error): never => {
      res.body?.cancel().catch(() => {});
      throw e;
    };
    if (res.status === 412) fail(new IoError('SOURCE_CHANGED', `the file changed while it was being read (412 for If-Match ${this.pin.etag ?? this.pin.lastModified})`, place));
    if (isTransientStatus(res.status)) fail(new Transient(`HTTP ${res.status}`));
    const pin = pinOf(res);
    if (!samePin(this.pin, pin)) fail(new IoError('SOURCE_CHANGED', `the file changed while it was being read (ETag ${this.pin.etag} -> ${pin.etag}, Last-Modified ${this.pin.lastModified} -> ${pin.lastModified})`, place));
    if (res.status === 200) fail(new IoError('RANGE_UNSUPPORTED', `the server answered a range request with the whole file (200)`, place));
    if (res.status !== 206) fail(new IoError('HTTP_ERROR', `HTTP ${res.status} for bytes ${from}-${end - 1}`, place));
    const cr = parseContentRange(res.headers.get('content-range'));
    if (cr && cr.size !== undefined && cr.size !== this.pin.size) fail(new IoError('SOURCE_CHANGED', `the file's size changed from ${this.pin.size} to ${cr.size} while it was being read`, place));
    if (!cr || cr.start !== from || cr.end !== end) {
      fail(new IoError('RANGE_UNSUPPORTED', `asked for bytes ${from}-${end - 1}, the answer's Content-Range is '${res.headers.get('content-range')}'`, place));
    }
    return res;
  }

  /** The whole file again (a server without Range support, after discard()). */
  private async fetchWhole(signal: AbortSignal | undefined): Promise<Uint8Array> {
    const s = anySignal(signal, this.signal, this.closer.signal);
    const retry = retrier({ retries: this.retries, retryDelayMs: this.retryDelayMs, sleep: this.sleep }, this.stats, this.name);
    return retry(s, async () => {
      let res: Response;
      try {
        res = await this.fetchFn(this.url, { headers: this.headers, signal: s });
      } catch (e) {
        throw fetchFailure(e, s, this.name);
      }
      this.stats.requests++;
      if (isTransientStatus(res.status)) throw new Transient(`HTTP ${res.status}`);
      const o = await readOpening(res, 'whole', this.pin.size, s, this.name, this.stats);
      if (o.pin.size !== this.pin.size || !samePin(o.pin, this.pin)) throw new IoError('SOURCE_CHANGED', 'the file changed while it was being read', { file: this.name });
      return o.bytes;
    });
  }
}

/** @throws RangeError unless the sizes and counts of `options` are positive integers (retries, gapBytes, retryDelayMs: not negative) */
function checkOptions(options: HttpSourceOptions): void {
  const positive = { maxRangeBytes: options.maxRangeBytes, maxInFlight: options.maxInFlight, maxWholeBytes: options.maxWholeBytes };
  for (const [k, v] of Object.entries(positive)) if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new RangeError(`${k} ${v} must be a positive integer`);
  const nonNegative = { retries: options.retries, gapBytes: options.gapBytes, retryDelayMs: options.retryDelayMs };
  for (const [k, v] of Object.entries(nonNegative)) if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`${k} ${v} must be a non-negative integer`);
}

/** What an opening request gave: its bytes, what pins the file, and whether they are the whole file (a 200). */
interface Opening {
  bytes: Uint8Array;
  pin: Pin;
  whole: boolean;
}

/**
 * Checks and reads the answer to an opening request: a 206 (its Content-Range gives the size), a 416 for an empty file,
 * or a 200 with the whole file of at most `maxWhole` bytes.
 * @throws Transient, HTTP_ERROR, RANGE_UNSUPPORTED
 */
async function readOpening(res: Response, range: string, maxWhole: number, signal: AbortSignal | undefined, name: string, stats: HttpStats): Promise<Opening> {
  const pin = pinOf(res);
  const cancel = (): void => void res.body?.cancel().catch(() => {});
  if (isTransientStatus(res.status)) {
    cancel();
    throw new Transient(`HTTP ${res.status}`);
  }
  if (res.status === 416) {
    // Nothing to give: an empty file (Content-Range: bytes */0).
    cancel();
    const cr = parseContentRange(res.headers.get('content-range'));
    if (cr?.size === 0) return { bytes: new Uint8Array(0), pin: { ...pin, size: 0 }, whole: false };
    throw new IoError('RANGE_UNSUPPORTED', `HTTP 416 for ${range}, Content-Range '${res.headers.get('content-range')}'`, { file: name });
  }
  if (res.status === 200) {
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > maxWhole) {
      cancel();
      throw new IoError('RANGE_UNSUPPORTED', `the server ignores range requests, and the file's ${declared} bytes are more than the ${maxWhole} taken whole`, { file: name });
    }
    const bytes = await readBody(res, maxWhole, signal, name, stats);
    return { bytes, pin: { ...pin, size: bytes.length }, whole: true };
  }
  if (res.status !== 206) {
    cancel();
    throw new IoError('HTTP_ERROR', `HTTP ${res.status} for ${range}`, { file: name });
  }
  const cr = parseContentRange(res.headers.get('content-range'));
  if (!cr || cr.size === undefined || cr.start === undefined) {
    cancel();
    throw new IoError('RANGE_UNSUPPORTED', `a 206 answer to ${range} without a usable Content-Range ('${res.headers.get('content-range')}')`, { file: name });
  }
  const size = cr.size;
  const want = range.startsWith('bytes=-') ? Number(range.slice(7)) : Number(range.split('-')[1]) + 1;
  const start = range.startsWith('bytes=-') ? Math.max(0, size - want) : 0;
  const end = Math.min(size, range.startsWith('bytes=-') ? size : want);
  if (cr.start !== start || cr.end !== end) {
    cancel();
    throw new IoError('RANGE_UNSUPPORTED', `asked for ${range} of ${size} bytes, the answer's Content-Range is '${res.headers.get('content-range')}'`, { file: name });
  }
  const bytes = await readBody(res, end - start, signal, name, stats);
  if (bytes.length !== end - start) throw new Transient(`the body ended after ${bytes.length} of ${end - start} bytes`);
  return { bytes, pin: { ...pin, size }, whole: false };
}

/** A body of at most `max` bytes. @throws Transient (a body cut off), RANGE_UNSUPPORTED (longer than `max`), ABORTED */
async function readBody(res: Response, max: number, signal: AbortSignal | undefined, name: string, stats: HttpStats): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(0);
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw fetchFailure(e, signal, name);
      }
      if (r.done) break;
      stats.bytesReceived += r.value.length;
      n += r.value.length;
      if (n > max) throw new IoError('RANGE_UNSUPPORTED', `an answer longer than the ${max} bytes expected or taken whole`, { file: name });
      parts.push(r.value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A failed fetch or body read: ABORTED when `signal` fired, else a Transient network failure. */
function fetchFailure(e: unknown, signal: AbortSignal | undefined, name: string): Error {
  if (signal?.aborted) return abortError(signal, name);
  if (e instanceof WcodecError) return e;
  return new Transient(`network error: ${(e as Error)?.message ?? e}`, { cause: e });
}

/**
 * Runs `attempt` until it succeeds, retrying Transient failures `retries` times after exponential delays.
 * @throws HTTP_ERROR once the retries are spent (the last failure as its cause); ABORTED; any other error at once
 */
function retrier(options: { retries?: number; retryDelayMs?: number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> }, stats: HttpStats, name: string) {
  const retries = options.retries ?? RETRIES;
  const delay = options.retryDelayMs ?? RETRY_DELAY_MS;
  const sleep = options.sleep ?? sleepFor;
  return async <T>(signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> => {
    for (let k = 0; ; k++) {
      throwIfAborted(signal, name);
      try {
        return await attempt();
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (k >= retries) throw new IoError('HTTP_ERROR', `${e.message}, still after ${retries} retries`, { file: name, cause: e });
        stats.retries++;
        await sleep(Math.min(MAX_RETRY_DELAY_MS, delay * 2 ** k), signal);
      }
    }
  };
}

/** The size, ETag and Last-Modified a response gives (size from Content-Range; 0 when it gives none). */
function pinOf(res: Response): Pin {
  const cr = parseContentRange(res.headers.get('content-range'));
  return { size: cr?.size ?? 0, etag: res.headers.get('etag') ?? undefined, lastModified: res.headers.get('last-modified') ?? undefined };
}

/** Whether two responses are of the same file: equal ETags and Last-Modified where both give one. */
function samePin(a: Pin, b: Pin): boolean {
  if (a.etag !== undefined && b.etag !== undefined && a.etag !== b.etag) return false;
  if (a.lastModified !== undefined && b.lastModified !== undefined && a.lastModified !== b.lastModified) return false;
  return true;
}

/** A Content-Range value: `bytes S-E/N` (end made exclusive) or `bytes *\/N`; undefined for others. N undefined for `*`. */
function parseContentRange(h: string | null): { start?: number; end?: number; size?: number } | undefined {
  if (!h) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(h);
  if (!m) return undefined;
  const size = m[3] === '*' ? undefined : Number(m[3]);
  if (m[1] === undefined) return { size };
  return { start: Number(m[1]), end: Number(m[2]) + 1, size };
}

/** The parts of `r` that none of `taken` (sorted by start) covers. */
function subtract(r: { start: number; end: number }, taken: { start: number; end: number }[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let at = r.start;
  for (const t of taken) {
    if (t.end <= at) continue;
    if (t.start >= r.end) break;
    if (t.start > at) out.push({ start: at, end: t.start });
    at = Math.max(at, t.end);
  }
  if (at < r.end) out.push({ start: at, end: r.end });
  return out;
}
