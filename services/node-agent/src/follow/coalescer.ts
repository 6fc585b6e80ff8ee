/**
 * Coalesces bursts of changes into runs of one task. A change that finds the coalescer idle
 * (no run in progress or scheduled, and nothing changed or ran for `quietMs`) starts a run on
 * the next turn of the event loop, so a lone change costs no waiting and the changes delivered
 * in the same read still join it. Otherwise a run starts `quietMs` after the last change, but
 * never later than `maxDelayMs` after the first change it covers, so a continuous stream of
 * changes still gets a run at least every `maxDelayMs`. Runs never overlap: changes during a
 * run schedule the next one.
 */
import { SYSTEM_CLOCK, type Clock } from '@palisade/service-kit';

/**
 * The coalescer's bounds when the options give none, ms: a burst ends after 5 ms of quiet, and
 * a continuous stream still gets a run every 100 ms.
 */
export const COALESCER_DEFAULTS = { quietMs: 5, maxDelayMs: 100 } as const;

/** Options of `createCoalescer`; the timing rules are in the file comment. */
export interface CoalescerOptions {
  /** The task; a rejection is the task's own business (it is caught and dropped). */
  readonly run: () => Promise<void>;
  readonly clock: Clock;
  /** Wait after the last change, ms. Default 5. */
  readonly quietMs?: number;
  /** Longest wait after the first pending change, ms. Default 100. */
  readonly maxDelayMs?: number;
  /**
   * Schedules the run of a change that found the coalescer idle ("the next turn"); returns its
   * canceller. Default: `setImmediate` with the system clock (a 0 ms timer waits ≥ 1 ms and
   * for the timer phase), else the clock's 0 ms timer (tests with a manual clock).
   */
  readonly nextTurn?: (fn: () => void) => () => void;
}

/** The next turn of the event loop, after the I/O already read (the rest of a burst joins). */
function immediate(fn: () => void): () => void {
  const handle = setImmediate(fn);
  return () => clearImmediate(handle);
}

/** A coalescer's handle; the reconciler pokes it on every change and retries through `pokeAfter`. */
export interface Coalescer {
  /** Records a change; a run follows within the bounds above. */
  poke(): void;
  /** Records a change to be handled after `ms` at the earliest (a retry). */
  pokeAfter(ms: number): void;
  /** Whether a change is waiting for a run. */
  readonly pending: boolean;
  /** Runs done so far. */
  readonly runs: number;
  /** Resolves when no run is in progress or scheduled. */
  idle(): Promise<void>;
  /** Cancels what is scheduled; a run in progress finishes. Later pokes are ignored. */
  close(): Promise<void>;
}

/** Creates an idle coalescer: nothing runs until the first poke. */
export function createCoalescer(o: CoalescerOptions): Coalescer {
  const quietMs = o.quietMs ?? COALESCER_DEFAULTS.quietMs;
  const maxDelayMs = o.maxDelayMs ?? COALESCER_DEFAULTS.maxDelayMs;
  const nextTurn = o.nextTurn ?? (o.clock === SYSTEM_CLOCK ? immediate : (fn: () => void) => o.clock.setTimer(fn, 0));
  let firstAt: number | undefined;
  let lastAt = 0;
  /** When the last run ended (-Infinity before the first). */
  let lastRunEndAt = -Infinity;
  /** The pending change found the coalescer idle: its run is not pushed back by later changes. */
  let eager = false;
  let cancelTimer: (() => void) | undefined;
  let cancelRetry: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let runs = 0;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = (): void => {
    if (running || firstAt !== undefined || cancelRetry) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };
  const schedule = (): void => {
    if (closed || running || firstAt === undefined) return;
    if (eager && cancelTimer) return;
    cancelTimer?.();
    if (eager) {
      cancelTimer = nextTurn(fire);
      return;
    }
    const now = o.clock.now();
    const at = Math.min(lastAt + quietMs, firstAt + maxDelayMs);
    cancelTimer = o.clock.setTimer(fire, Math.max(0, at - now));
  };
  function fire(): void {
    cancelTimer = undefined;
    if (closed || running) return;
    firstAt = undefined;
    eager = false;
    runs++;
    running = o.run().then(
      () => undefined,
      () => undefined,
    );
    void running.then(() => {
      running = undefined;
      lastRunEndAt = o.clock.now();
      schedule();
      settleIdle();
    });
  }
  const poke = (): void => {
    if (closed) return;
    const now = o.clock.now();
    if (firstAt === undefined && !running && now - Math.max(lastAt, lastRunEndAt) >= quietMs) eager = true;
    lastAt = now;
    firstAt ??= lastAt;
    schedule();
  };
  return {
    poke,
    pokeAfter(ms) {
      if (closed) return;
      cancelRetry?.();
      cancelRetry = o.clock.setTimer(() => {
        cancelRetry = undefined;
        poke();
      }, ms);
    },
    get pending() {
      return firstAt !== undefined;
    },
    get runs() {
      return runs;
    },
    idle() {
      return new Promise<void>((r) => {
        idleWaiters.push(r);
        settleIdle();
      });
    },
    async close() {
      closed = true;
      cancelTimer?.();
      cancelRetry?.();
      cancelRetry = undefined;
      firstAt = undefined;
      eager = false;
      await running;
      settleIdle();
    },
  };
}
