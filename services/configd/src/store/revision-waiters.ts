/**
 * Callers waiting for a revision to be reached (applied by the mirror, announced by its visible
 * tail): each resolves true when it is, false on its timeout, its abort signal or `close()`.
 */

interface Waiter {
  readonly revision: number;
  readonly resolve: (ok: boolean) => void;
}

/**
 * The waiters of the mirror's `waitForRevision` and of its visible tail; the owner calls
 * `reached()` as revisions arrive, so that a read-your-writes wait costs no polling, and `close()`
 * when it closes.
 */
export class RevisionWaiters {
  readonly #waiters = new Set<Waiter>();

  /** Waits for `reached(revision)`; the caller has checked that it is not reached yet. */
  wait(revision: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
        resolve(ok);
      };
      const waiter: Waiter = { revision, resolve: done };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Everything up to `revision` is there: those waiting for it resolve true. */
  reached(revision: number): void {
    for (const w of this.#waiters) if (w.revision <= revision) w.resolve(true);
  }

  /** Resolves every waiter false. */
  close(): void {
    for (const w of [...this.#waiters]) w.resolve(false);
  }
}
