/** Small promise helpers of the write path: bounded waits and abortable awaits. */
import { ConfigdError } from '../errors.js';

/** Resolves when `p` settles or after `ms`, whichever is first (the timer is cleared either way). */
export function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    const done = (): void => {
      clearTimeout(t);
      resolve();
    };
    p.then(done, done);
  });
}

/** Settles like `p`, or rejects `cancelled` when `signal` aborts first (`p` is then left to settle unobserved). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new ConfigdError('cancelled', 'cancelled'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(new ConfigdError('cancelled', 'cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new ConfigdError('internal', String(err)));
      },
    );
  });
}

/** The message of an error, or its string form. */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects): service-kit's. */
export { sleep } from '@palisade/service-kit';
