/**
 * Lifecycle of long-lived components: `close()` is idempotent and graceful first, then forced
 * once a grace period is over (or at once on `force()`, e.g. a second signal); `closed()`
 * resolves when the component has stopped, however it was stopped.
 */
import { SYSTEM_CLOCK, type Clock } from './clock.js';
import type { Logger } from './logger.js';

/** What every long-lived component offers. */
export interface Closable {
  /** Stops gracefully, forced after the grace period. Idempotent: later calls get the same promise. */
  close(): Promise<void>;
  /** Resolves once stopped. */
  closed(): Promise<void>;
}

/**
 * How `createCloser` and `withCloser` stop a component: on `close()`, `graceful` runs at once and
 * `force` when `graceMs` has passed or `force()` is called. The grace timer runs on `clock`
 * (default the system clock); forcing is logged as a warning on `logger`.
 */
export interface CloserOptions {
  /** Stops the component in order (stop accepting, finish work, release resources). */
  readonly graceful: (signal: AbortSignal) => Promise<void>;
  /**
   * Called when the grace period is over or `force()` is called: cut what is still running
   * (cancel calls, close sockets) so that `graceful` can finish. `graceful`'s signal is aborted
   * at the same moment.
   */
  readonly force: () => void;
  /** Grace period in milliseconds. */
  readonly graceMs: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** A `Closable` plus `force()`, built from a graceful and a forced stop. */
export interface Closer extends Closable {
  /** Ends the grace period now (a second signal). Starts closing if not yet started. */
  force(): void;
  /** Whether `close()` was called. */
  readonly closing: boolean;
}

/** Builds the close/closed/force trio of a component. */
export function createCloser(o: CloserOptions): Closer {
  const clock = o.clock ?? SYSTEM_CLOCK;
  const forced = new AbortController();
  let running: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closedP = new Promise<void>((r) => (resolveClosed = r));
  const doForce = (why: string): void => {
    if (forced.signal.aborted) return;
    o.logger?.warn({ graceMs: o.graceMs }, why);
    forced.abort();
    o.force();
  };
  const close = (): Promise<void> => {
    running ??= (async () => {
      const cancelTimer = clock.setTimer(() => doForce('grace period over; forcing shutdown'), o.graceMs);
      try {
        await o.graceful(forced.signal);
      } finally {
        cancelTimer();
        resolveClosed();
      }
    })();
    return running;
  };
  return {
    close,
    closed: () => closedP,
    force() {
      const p = close();
      doForce('forced shutdown requested');
      void p.catch(() => undefined);
    },
    get closing() {
      return running !== undefined;
    },
  };
}

/**
 * `fields` with a closer built from `o` attached as `close()`, `closed()`, `force()` and
 * `closing`: what a service's `create()` returns (its addresses and parts, plus its lifecycle).
 */
export function withCloser<T extends object>(fields: T, o: CloserOptions): T & Closer {
  const closer = createCloser(o);
  return Object.defineProperties(fields, {
    close: { value: () => closer.close(), enumerable: true },
    closed: { value: () => closer.closed(), enumerable: true },
    force: { value: () => closer.force(), enumerable: true },
    closing: { get: () => closer.closing, enumerable: true },
  }) as T & Closer;
}

/** The part of `process` that signal handling needs (so it can be tested without one). */
export interface SignalSource {
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * For a service's `main.ts`: the first SIGTERM/SIGINT closes the service gracefully and exits 0
 * (1 when closing failed); a second one forces the shutdown and exits 1 at once.
 */
export function exitOnStopSignals(service: Closable & { force?: () => void }, o: { logger: Logger; signals: SignalSource; exit: (code: number) => void }): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received++;
    if (received > 1) {
      o.logger.warn({ signal }, 'second signal: forcing exit');
      service.force?.();
      o.exit(1);
      return;
    }
    o.logger.info({ signal }, 'stopping');
    service.close().then(
      () => o.exit(0),
      (err: unknown) => {
        o.logger.error({ err }, 'error during shutdown');
        o.exit(1);
      },
    );
  };
  o.signals.on('SIGTERM', onSignal);
  o.signals.on('SIGINT', onSignal);
}
