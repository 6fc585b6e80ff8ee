/**
 * Applies interval-set element changes to the kernel as one nfnetlink batch per call: all
 * deletions, then all additions, atomically (the kernel applies all messages or none).
 */
import { planSetElementMessages, type IntervalSetChange } from '../codec/elements.js';
import { encodeSetElemBatch } from '../codec/encode.js';
import { NftNetlinkError } from '../errors.js';
import { DEFAULT_EXCHANGE_TIMEOUT_MS, exchangeBatch } from './exchange.js';
import type { DatagramLink } from './link.js';
import { openNetnsLink } from './netns-link.js';
import { openSocketLink } from './socket-link.js';

/** Options of `createSetElementApplier` / `applySetElementChanges`. */
export interface SetElementApplierOptions {
  /**
   * Network namespace to work in, by name. Undefined (the default): the namespace of this
   * process, through an in-process socket. Set: through a relay process started with
   * `ip netns exec` (needs root and `ip`).
   */
  readonly netns?: string;
  /** Waits at most this long for the kernel's answers to one batch, ms. Default 5,000. */
  readonly timeoutMs?: number;
  /** Waits at most this long for the netns relay to start, ms. Default 5,000. */
  readonly startTimeoutMs?: number;
  /** `SO_SNDBUF`/`SO_RCVBUF` requested for the in-process socket, bytes. Default 4 MiB. */
  readonly socketBufferBytes?: number;
  /** Aborts opening (and, for the one-shot function, the apply). */
  readonly signal?: AbortSignal;
}

/** Per-call options of `SetElementApplier.apply`. */
export interface ApplyOptions {
  readonly signal?: AbortSignal;
  /** Overrides the applier's `timeoutMs` for this call, ms. */
  readonly timeoutMs?: number;
}

/** What one apply sent. */
export interface ApplyResult {
  /** Element messages in the batch (a set's list is split beyond 64 KiB). */
  readonly messages: number;
  /** Kernel elements sent (an interval is a start and usually an end element). */
  readonly elements: number;
  /** Size of the batch datagram, bytes. */
  readonly bytes: number;
}

/** A long-lived applier owning one netlink socket (or relay). */
export interface SetElementApplier {
  /**
   * Applies `changes` as one atomic batch; calls are applied one after the other in call
   * order. Resolves when the kernel applied it. Rejects with `NftNetlinkError`:
   * `KERNEL_ERROR` (nothing applied), `TIMEOUT`/`ABORTED` (outcome unknown), others.
   * An empty change list resolves without talking to the kernel.
   */
  apply(changes: readonly IntervalSetChange[], options?: ApplyOptions): Promise<ApplyResult>;
  /** Closes the socket (stops the relay); pending applies fail with `CLOSED`. Idempotent. */
  close(): Promise<void>;
  /** Resolves once closed. */
  closed(): Promise<void>;
}

/** Opens the socket (or starts the netns relay) and returns an applier. */
export async function createSetElementApplier(options: SetElementApplierOptions = {}): Promise<SetElementApplier> {
  const link: DatagramLink =
    options.netns === undefined
      ? openSocketLink(
          options.socketBufferBytes === undefined ? {} : { sendBufferBytes: options.socketBufferBytes, recvBufferBytes: options.socketBufferBytes },
        )
      : await openNetnsLink({
          netns: options.netns,
          ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
  // Sequence numbers keep counting across batches so a late answer to a batch that timed out
  // is never taken for an answer to the current one.
  let seq = 1;
  let queue: Promise<unknown> = Promise.resolve();
  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => undefined;
  const closedPromise = new Promise<void>((resolve) => (markClosed = resolve));

  const applyNow = async (changes: readonly IntervalSetChange[], o: ApplyOptions): Promise<ApplyResult> => {
    if (closing) throw new NftNetlinkError('CLOSED', 'set element applier is closed');
    o.signal?.throwIfAborted();
    const messages = planSetElementMessages(changes);
    if (messages.length === 0) return { messages: 0, elements: 0, bytes: 0 };
    const encoded = encodeSetElemBatch(messages, { seq, ack: true });
    if (!encoded.ok) throw new NftNetlinkError('INVALID_REQUEST', encoded.error);
    seq = (seq + messages.length + 2) >>> 0 || 1;
    await exchangeBatch(link, encoded.value, { timeoutMs: o.timeoutMs ?? defaultTimeoutMs, ...(o.signal === undefined ? {} : { signal: o.signal }) });
    return { messages: messages.length, elements: messages.reduce((n, m) => n + m.elements.length, 0), bytes: encoded.value.bytes.length };
  };

  return {
    apply(changes, o = {}) {
      const run = queue.then(() => applyNow(changes, o));
      queue = run.catch(() => undefined);
      return run;
    },
    close() {
      closing ??= (async () => {
        await queue;
        await link.close();
        markClosed();
      })();
      return closing;
    },
    closed: () => closedPromise,
  };
}

/**
 * One-shot: opens a socket (or relay), applies `changes` as one atomic batch, closes. For
 * repeated updates keep an applier from `createSetElementApplier` instead (starting the netns
 * relay costs a Node start-up).
 */
export async function applySetElementChanges(changes: readonly IntervalSetChange[], options: SetElementApplierOptions = {}): Promise<ApplyResult> {
  const applier = await createSetElementApplier(options);
  try {
    return await applier.apply(changes, options.signal === undefined ? {} : { signal: options.signal });
  } finally {
    await applier.close();
  }
}
