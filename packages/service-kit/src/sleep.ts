/** An abortable wait for retry and backoff loops. */

/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects: the loop around it checks
 * its signal). The timer keeps the process alive, as a retry a command is waiting on must.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
