/**
 * One AbortSignal per call, aborted by whichever comes first: the client cancels, the call's
 * deadline passes, or the server shuts down. The reason tells them apart: a `TimeoutError`
 * DOMException for the deadline, an `AbortError` for cancel and shutdown.
 */
import type { Deadline } from '@grpc/grpc-js';
import { SYSTEM_CLOCK, type Clock } from '@palisade/service-kit';

/** The signal of one call and the function that releases its listeners and timer. */
export interface CallSignal {
  readonly signal: AbortSignal;
  /** Milliseconds left until the call's deadline (Infinity without one), at the time of asking. */
  remainingMs(this: void): number;
  /** Call when the call is answered: later cancel events no longer abort. Idempotent. */
  dispose(this: void): void;
}

/** What of a grpc-js server call the signal needs. */
export interface CallLike {
  getDeadline(): Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/** Milliseconds since the epoch of a grpc-js deadline (Infinity when there is none). */
export function deadlineMs(deadline: Deadline): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms > 0 ? ms : Infinity;
}

/** A cancel this close to the deadline counts as the deadline (clocks and timers are not exact). */
const DEADLINE_SLACK_MS = 20;

/** Links the call's cancel, its deadline and `shutdown` into one signal. */
export function callSignal(call: CallLike, shutdown: AbortSignal, clock: Clock = SYSTEM_CLOCK): CallSignal {
  const ac = new AbortController();
  const deadline = deadlineMs(call.getDeadline());
  let cancelTimer: (() => void) | undefined;
  let disposed = false;
  const deadlineReason = (): DOMException => new DOMException('the call deadline passed', 'TimeoutError');
  // grpc-js cancels the server call itself when the deadline passes, often before our timer.
  const onCancel = (): void => {
    if (disposed) return;
    ac.abort(clock.now() >= deadline - DEADLINE_SLACK_MS ? deadlineReason() : new DOMException('the client cancelled the call', 'AbortError'));
  };
  const onShutdown = (): void => ac.abort(new DOMException('the server is shutting down', 'AbortError'));
  const dispose = (): void => {
    if (disposed) return;
    disposed = true;
    cancelTimer?.();
    call.removeListener('cancelled', onCancel);
    shutdown.removeEventListener('abort', onShutdown);
  };
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  call.on('cancelled', onCancel);
  if (deadline !== Infinity) {
    cancelTimer = clock.setTimer(() => ac.abort(deadlineReason()), deadline - clock.now());
  }
  return { signal: ac.signal, remainingMs: () => (deadline === Infinity ? Infinity : Math.max(0, deadline - clock.now())), dispose };
}
