/**
 * One error base for every Palisade package: a closed union of string codes chosen by each
 * package, typed context that travels with the error, and the original `cause`.
 *
 * Codes are kebab-case everywhere (`not-quorate`, `deadline-exceeded`), on the wire too.
 */

/** Codes every package may use for failures that are not its own domain's. */
export const COMMON_ERROR_CODES = ['cancelled', 'deadline-exceeded', 'unavailable', 'internal'] as const;
/**
 * One of `COMMON_ERROR_CODES`; every package's code union includes them, so that `errorFrom` can
 * map a foreign error into any package's error class.
 */
export type CommonErrorCode = (typeof COMMON_ERROR_CODES)[number];

/**
 * Base of each package's error class: `class ConfigdError extends PalisadeError<ConfigdErrorCode,
 * ConfigdErrorContext> {}`. The code union must include the common codes so that
 * {@link errorFrom} can map foreign errors into it.
 */
export class PalisadeError<Code extends string = string, Context extends object = Record<string, unknown>> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly context: Context = {} as Context,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The classification of a foreign error: an abort, a timeout, or anything else. */
export function classifyForeignError(err: unknown): CommonErrorCode {
  if (typeof err === 'object' && err !== null) {
    const name = (err as { name?: unknown }).name;
    const code = (err as { code?: unknown }).code;
    if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'TIMEOUT') return 'deadline-exceeded';
    if (name === 'AbortError' || code === 'ABORT_ERR') {
      // AbortSignal.timeout() aborts with a TimeoutError as its reason.
      const cause = (err as { cause?: unknown }).cause;
      return typeof cause === 'object' && cause !== null && (cause as { name?: unknown }).name === 'TimeoutError' ? 'deadline-exceeded' : 'cancelled';
    }
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'EHOSTUNREACH' || code === 'ENOTCONN') return 'unavailable';
  }
  return 'internal';
}

/**
 * Turns anything thrown into an error of class `Type`: an instance of `Type` is returned as it
 * is; an abort becomes `cancelled`, a timeout `deadline-exceeded`, a refused or reset connection
 * `unavailable`, anything else `internal`, each with the original as `cause`.
 */
export function errorFrom<E extends PalisadeError<string, object>>(
  Type: new (code: CommonErrorCode, message: string, context?: undefined, options?: { cause?: unknown }) => E,
  err: unknown,
  what?: string,
): E {
  if (err instanceof Type) return err;
  const code = classifyForeignError(err);
  const text = err instanceof Error ? err.message : String(err);
  return new Type(code, what ? `${what}: ${text}` : text, undefined, { cause: err });
}

/** Whether a signal's abort was a deadline (AbortSignal.timeout) rather than a cancel. */
export function abortedByDeadline(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}
