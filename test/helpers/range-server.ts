// A local HTTP server with Range support for the HTTP source's tests and benchmark (node:http, 127.0.0.1 only): serves
// files from memory with a strong ETag and Last-Modified, honours If-Match and If-Unmodified-Since, logs every request,
// counts body bytes sent, and injects faults: a status (503), a connection reset mid-body, a corrupted byte, a stalled
// body, a file that changes, or no range support at all.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it: the range asked for ([start, end), undefined without one) and what it answered. */
export interface LoggedRequest {
  path: string;
  start: number | undefined;
  end: number | undefined;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A fault, applied once to the first request it matches (then removed). */
export type Fault =
  | { kind: 'status'; status: number; when?: (r: LoggedRequest) => boolean }
  /** Sends `afterBytes` of the body, then destroys the connection. */
  | { kind: 'reset'; afterBytes: number; when?: (r: LoggedRequest) => boolean }
  /** Flips the bits of the byte at file offset `at` in the answer (when the answer holds it). */
  | { kind: 'corrupt'; at: number; when?: (r: LoggedRequest) => boolean }
  /** Sends `afterBytes` of the body, then nothing more until the client goes away. */
  | { kind: 'stall'; afterBytes: number; when?: (r: LoggedRequest) => boolean };

interface Served {
  bytes: Uint8Array;
  etag: string;
  lastModified: string;
}

/** The server's state and controls. */
export class RangeServer {
  readonly log: LoggedRequest[] = [];
  /** Body bytes written (whole answers and ranges alike). */
  bytesSent = 0;
  faults: Fault[] = [];
  /** Answer every GET with 200 and the whole file (a server without range support). */
  noRanges = false;
  /** Leave out the ETag header (Last-Modified only). */
  noEtag = false;
  /** Answers requests for paths not put() here (a test page and its scripts); 404 without it. */
  fallback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  private files = new Map<string, Served>();
  private version = 0;
  private constructor(private readonly server: Server, readonly origin: string) {}

  static async start(): Promise<RangeServer> {
    let self: RangeServer | undefined;
    const server = createServer((req, res) => self!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    self = new RangeServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Serves `bytes` at `path` (replacing what was there: a new ETag and Last-Modified). @returns its URL */
  put(path: string, bytes: Uint8Array): string {
    this.version++;
    this.files.set(path, { bytes, etag: `"v${this.version}"`, lastModified: new Date(Date.UTC(2026, 0, 1, 0, 0, this.version)).toUTCString() });
    return this.origin + path;
  }

  /** Forgets the log and the byte count. */
  reset(): void {
    this.log.length = 0;
    this.bytesSent = 0;
  }

  /** Requests for `path` that asked for a range. */
  ranged(): LoggedRequest[] {
    return this.log.filter((r) => r.start !== undefined);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').replace(/\?.*$/, '');
    const file = this.files.get(path);
    if (!file && this.fallback) return this.fallback(req, res);
    const entry: LoggedRequest = { path, start: undefined, end: undefined, status: 0, headers: req.headers };
    this.log.push(entry);
    if (!file) return this.answer(entry, res, 404);
    const size = file.bytes.length;
    const range = this.noRanges ? undefined : parseRange(req.headers.range, size);
    if (range) {
      entry.start = range.start;
      entry.end = range.end;
    }
    const fault = this.takeFault(entry);
    if (fault?.kind === 'status') return this.answer(entry, res, fault.status);
    const validators: Record<string, string> = { 'last-modified': file.lastModified, 'accept-ranges': this.noRanges ? 'none' : 'bytes' };
    if (!this.noEtag) validators.etag = file.etag;
    const ifMatch = req.headers['if-match'];
    const ifUnmodified = req.headers['if-unmodified-since'];
    if ((ifMatch !== undefined && ifMatch !== file.etag) || (ifUnmodified !== undefined && ifUnmodified !== file.lastModified)) {
      return this.answer(entry, res, 412, validators);
    }
    if (req.headers.range !== undefined && !this.noRanges && !range) {
      return this.answer(entry, res, 416, { ...validators, 'content-range': `bytes */${size}` });
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size;
    let body = file.bytes.subarray(start, end);
    if (fault?.kind === 'corrupt' && fault.at >= start && fault.at < end) {
      body = body.slice();
      body[fault.at - start] ^= 0xff;
    }
    const headers: Record<string, string | number> = { ...validators, 'content-type': 'application/octet-stream', 'content-length': body.length };
    if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    entry.status = range ? 206 : 200;
    res.writeHead(entry.status, headers);
    if (req.method === 'HEAD') return void res.end();
    if (fault?.kind === 'reset' || fault?.kind === 'stall') {
      const part = body.subarray(0, Math.min(fault.afterBytes, body.length));
      this.bytesSent += part.length;
      res.write(part, () => {
        if (fault.kind === 'reset') setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    this.bytesSent += body.length;
    res.end(body);
  }

  private answer(entry: LoggedRequest, res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
    entry.status = status;
    res.writeHead(status, headers).end();
  }

  private takeFault(entry: LoggedRequest): Fault | undefined {
    const k = this.faults.findIndex((f) => (f.when ? f.when(entry) : true));
    if (k < 0) return undefined;
    return this.faults.splice(k, 1)[0];
  }
}

/** A single range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, as [start, end); undefined when absent or unsatisfiable. */
function parseRange(h: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  if (start >= size || end <= start) return undefined;
  return { start, end };
}
