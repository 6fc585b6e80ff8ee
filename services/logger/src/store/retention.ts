/**
 * Retention: a background sweep every `intervalMs` that deletes entries older than
 * `retentionMs` (by entry time) and then, while the store's trees use more than `maxBytes`, the
 * oldest entries in chunks. Exactness: age is exact to one sweep interval; size is measured in
 * LMDB pages in use (entry and index trees, not the file, which never shrinks but reuses freed
 * pages), so the store may exceed `maxBytes` by what arrives within one interval.
 */
import type { Clock, Logger } from '@palisade/service-kit';
import type { LogStore } from './log-store.js';

/**
 * Options of `RetentionSweeper`; `intervalMs` is the sweep period, which bounds how long an entry
 * outlives `retentionMs`.
 */
export interface RetentionOptions {
  readonly store: LogStore;
  /** Keep entries this long (by their time), ms; 0 = no age limit. */
  readonly retentionMs: number;
  /** Keep the trees under this many bytes; 0 = no size limit. */
  readonly maxBytes: number;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with each sweep's deletions (metrics). */
  readonly onDeleted?: (byAge: number, bySize: number) => void;
}

/** Entries deleted per transaction. */
const CHUNK = 10_000;

/**
 * The background sweep (see the file comment). `start()` does nothing when both limits are 0; a
 * failed sweep is logged and the next interval tries again; `close()` waits for a running sweep.
 */
export class RetentionSweeper {
  readonly #o: RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(o: RetentionOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#closed || (this.#o.retentionMs === 0 && this.#o.maxBytes === 0)) return;
    const tick = (): void => {
      this.#timer = setTimeout(() => {
        void this.sweep().finally(() => {
          if (!this.#closed) tick();
        });
      }, this.#o.intervalMs);
      this.#timer.unref();
    };
    tick();
  }

  /** One sweep now (waits for a running one). Resolves with the deletions. */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(): Promise<void> {
    const { store, logger } = this.#o;
    let byAge = 0;
    let bySize = 0;
    try {
      if (this.#o.retentionMs > 0) {
        const cutoffUs = (this.#o.clock.now() - this.#o.retentionMs) * 1000 - 1;
        for (;;) {
          if (this.#closed) return;
          const n = await store.deleteOldest(CHUNK, cutoffUs);
          byAge += n;
          if (n < CHUNK) break;
        }
      }
      if (this.#o.maxBytes > 0) {
        while (!this.#closed && store.stats().usedBytes > this.#o.maxBytes && store.count > 0) {
          // Delete in proportion to the excess, at least one chunk's worth of 1 %.
          const s = store.stats();
          const excess = (s.usedBytes - this.#o.maxBytes) / s.usedBytes;
          const n = await store.deleteOldest(Math.max(1, Math.min(CHUNK, Math.ceil(s.entries * Math.max(excess, 0.01)))), Number.MAX_SAFE_INTEGER);
          bySize += n;
          if (n === 0) break;
        }
      }
    } catch (err) {
      logger.error({ err }, 'retention sweep failed');
    }
    if (byAge + bySize > 0) {
      logger.info({ byAge, bySize, entries: store.count }, 'retention deleted old entries');
      this.#o.onDeleted?.(byAge, bySize);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
