/**
 * A bounded FIFO between a producer and a consumer, with a named overflow policy and counters
 * for what is pending and what was dropped. Every buffer in a service is one of these.
 */
import { PalisadeError } from './errors.js';

/**
 * What happens to an item pushed into a full queue:
 * - `drop-oldest`: the oldest pending item is dropped to make room (logs, telemetry);
 * - `drop-newest`: the pushed item is dropped (the consumer keeps a consistent prefix);
 * - `reject`: `push()` returns false and counts it; the producer decides (use `pushWait()` to
 *   wait for room instead: back-pressure).
 */
export const OVERFLOW_POLICIES = ['drop-oldest', 'drop-newest', 'reject'] as const;
/**
 * One of `OVERFLOW_POLICIES`; every queue names its own, so what a full buffer does is decided
 * where the buffer is made.
 */
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

/**
 * Options of `BoundedQueue`; the constructor throws `invalid-argument` for a `maxItems` below 1 or
 * a `maxBytes` that is not positive. An item larger than `maxBytes` is still accepted into an empty
 * queue, so that it cannot stall the queue for good.
 */
export interface BoundedQueueOptions<T> {
  /** Most items pending at once (≥ 1). */
  readonly maxItems: number;
  /** Most bytes pending at once, as measured by `sizeOf`; default unlimited. */
  readonly maxBytes?: number;
  /** Size of one item in bytes; default 1 per item. */
  readonly sizeOf?: (item: T) => number;
  readonly overflow: OverflowPolicy;
}

/** Counters of a queue, for metrics. */
export interface QueueStats {
  readonly pending: number;
  readonly pendingBytes: number;
  /** Items accepted since creation. */
  readonly accepted: number;
  /** Items lost to the overflow policy (dropped or rejected). */
  readonly dropped: number;
}

/** A queue operation on a closed queue, or an aborted wait. */
export class QueueError extends PalisadeError<'closed' | 'cancelled' | 'invalid-argument'> {}

/** Items must not be `undefined` (it marks the end of a closed queue). */
export class BoundedQueue<T> implements AsyncIterable<T> {
  readonly #o: Required<Omit<BoundedQueueOptions<T>, 'maxBytes'>> & { maxBytes: number };
  #items: { item: T; bytes: number }[] = [];
  #head = 0;
  #bytes = 0;
  #accepted = 0;
  #dropped = 0;
  #closed = false;
  #readers: (() => void)[] = [];
  #writers: (() => void)[] = [];

  constructor(o: BoundedQueueOptions<T>) {
    if (!Number.isInteger(o.maxItems) || o.maxItems < 1) throw new QueueError('invalid-argument', `maxItems must be a positive integer, got ${o.maxItems}`);
    if (o.maxBytes !== undefined && !(o.maxBytes > 0)) throw new QueueError('invalid-argument', `maxBytes must be positive, got ${o.maxBytes}`);
    this.#o = { maxItems: o.maxItems, maxBytes: o.maxBytes ?? Infinity, sizeOf: o.sizeOf ?? (() => 1), overflow: o.overflow };
  }

  get stats(): QueueStats {
    return { pending: this.size, pendingBytes: this.#bytes, accepted: this.#accepted, dropped: this.#dropped };
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #fits(bytes: number): boolean {
    return this.size < this.#o.maxItems && (this.size === 0 || this.#bytes + bytes <= this.#o.maxBytes);
  }

  #append(item: T, bytes: number): void {
    this.#items.push({ item, bytes });
    this.#bytes += bytes;
    this.#accepted++;
    this.#readers.shift()?.();
  }

  /**
   * Adds an item; returns false when the overflow policy lost it (`drop-newest`, `reject`).
   * With `drop-oldest` it always returns true. Throws `closed` after `close()`.
   */
  push(item: T): boolean {
    if (this.#closed) throw new QueueError('closed', 'push on a closed queue');
    const bytes = this.#o.sizeOf(item);
    if (!this.#fits(bytes)) {
      if (this.#o.overflow !== 'drop-oldest') {
        this.#dropped++;
        return false;
      }
      while (this.size > 0 && !this.#fits(bytes)) {
        this.#take();
        this.#dropped++;
      }
    }
    this.#append(item, bytes);
    return true;
  }

  /** Adds an item, waiting for room whatever the policy (back-pressure). */
  async pushWait(item: T, signal?: AbortSignal): Promise<void> {
    const bytes = this.#o.sizeOf(item);
    while (!this.#fits(bytes)) {
      if (this.#closed) throw new QueueError('closed', 'push on a closed queue');
      await this.#wait(this.#writers, signal);
    }
    if (this.#closed) throw new QueueError('closed', 'push on a closed queue');
    this.#append(item, bytes);
  }

  #take(): T {
    const slot = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as never;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#bytes -= slot.bytes;
    this.#writers.shift()?.();
    return slot.item;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    return this.size > 0 ? this.#take() : undefined;
  }

  /** Removes up to `max` items at once (a batch for the consumer). */
  drain(max = Infinity): T[] {
    const out: T[] = [];
    while (out.length < max && this.size > 0) out.push(this.#take());
    return out;
  }

  /** Waits for an item; resolves undefined once the queue is closed and empty. */
  async take(signal?: AbortSignal): Promise<T | undefined> {
    while (this.size === 0) {
      if (this.#closed) return undefined;
      await this.#wait(this.#readers, signal);
    }
    return this.#take();
  }

  /**
   * Waits until an item is pending or the queue is closed, without taking it: for a consumer
   * that waits on other things too (one waiter at a time, like `take()`).
   */
  async ready(signal?: AbortSignal): Promise<void> {
    while (this.size === 0 && !this.#closed) await this.#wait(this.#readers, signal);
  }

  #wait(list: (() => void)[], signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new QueueError('cancelled', 'wait aborted', {}, { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = list.indexOf(wake);
        if (i >= 0) list.splice(i, 1);
        reject(new QueueError('cancelled', 'wait aborted', {}, { cause: signal?.reason }));
      };
      list.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Accepts no more items; readers get what is pending, then the end. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#readers.splice(0)) w();
    for (const w of this.#writers.splice(0)) w();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.take();
      if (item === undefined) return;
      yield item;
    }
  }
}
