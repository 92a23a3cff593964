// AbortSignal checks shared by the sources and the readers above them: one typed ABORTED error for every abort.

import { IoError } from '../errors.js';

/** The ABORTED error for `signal` (its `reason` as the cause). */
export function abortError(signal: AbortSignal | undefined, file?: string): IoError {
  return new IoError('ABORTED', 'the operation was aborted', { file, cause: signal?.reason });
}

/** @throws ABORTED when `signal` has fired */
export function throwIfAborted(signal: AbortSignal | undefined, file?: string): void {
  if (signal?.aborted) throw abortError(signal, file);
}

/**
 * `promise`, or a rejection with ABORTED as soon as `signal` fires, whichever comes first. The promise itself goes on
 * (what it fetches may serve a later read); its rejection is then not reported as unhandled.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, file?: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal, file));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(abortError(signal, file));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** One signal that fires when any of `signals` does (undefined for none). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  if (given.length <= 1) return given[0];
  return AbortSignal.any(given);
}

/** Waits `ms` milliseconds, or rejects with ABORTED when `signal` fires first (the timer is then cleared). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
