/**
 * The one place per service where errors become gRPC statuses: the service passes its table
 * from error code to status and, optionally, how to encode a detail trailer.
 */
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { PalisadeError, classifyForeignError, type CommonErrorCode, type Logger } from '@palisade/service-kit';
import type { RequestErrorCode } from './handlers.js';
import type { AuthErrorCode } from './tokens.js';

/** Codes the kit itself raises; every service's table must map them. */
export type KitErrorCode = AuthErrorCode | CommonErrorCode | RequestErrorCode;

/** Statuses of the kit's own codes, for services to spread into their tables. */
export const KIT_STATUS: Readonly<Record<KitErrorCode, Status>> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'too-large': Status.RESOURCE_EXHAUSTED,
  unauthenticated: Status.UNAUTHENTICATED,
  'permission-denied': Status.PERMISSION_DENIED,
  cancelled: Status.CANCELLED,
  'deadline-exceeded': Status.DEADLINE_EXCEEDED,
  unavailable: Status.UNAVAILABLE,
  internal: Status.INTERNAL,
};

/**
 * Longest status message sent, in characters. The message travels percent-encoded in the
 * `grpc-message` trailer, and a trailer block past the peer's HTTP/2 header-list limit (64 KiB
 * in Node) is never delivered: the call hangs until its deadline and the connection breaks.
 */
export const MAX_STATUS_MESSAGE_CHARS = 1024;

/** `text` cut to `max` characters, saying how much was left out. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = Math.max(0, max - 40);
  return `${text.slice(0, cut)}… (${text.length - cut} more characters)`;
}

/**
 * A service's table for `createStatusMapper`. `statusOf` must cover the kit's codes as well as the
 * service's, so that a code without a status is a type error instead of an INTERNAL at run time.
 */
export interface StatusMapping<Code extends string> {
  /** gRPC status of each code. */
  readonly statusOf: Readonly<Record<Code | KitErrorCode, Status>>;
  /**
   * Trailer entries for an error (e.g. an encoded detail message); none by default. Keep them
   * small (a few KiB): see `MAX_STATUS_MESSAGE_CHARS`.
   */
  readonly trailer?: (err: PalisadeError<Code | KitErrorCode, object>) => Readonly<Record<string, Buffer | string>>;
}

/**
 * Turns whatever a handler threw into the status grpc-js sends (code, truncated message, trailer);
 * built once per service with `createStatusMapper`, whose mapper logs what becomes `internal`.
 */
export type ToServiceError = (err: unknown, logger: Logger) => Partial<ServiceError>;

/**
 * Builds the mapper: a PalisadeError whose code is in the table keeps it; anything else is
 * classified (abort → cancelled, timeout → deadline-exceeded, refused connection →
 * unavailable, else internal, which is logged with its stack).
 */
export function createStatusMapper<Code extends string>(m: StatusMapping<Code>): ToServiceError {
  return (err, logger) => {
    const known = err instanceof PalisadeError && Object.hasOwn(m.statusOf, err.code as string);
    const e = known
      ? (err as PalisadeError<Code | KitErrorCode, object>)
      : new PalisadeError<KitErrorCode, object>(classifyForeignError(err), describe(err), {}, { cause: err });
    if (e.code === 'internal') logger.error({ err }, 'internal error');
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(m.trailer?.(e) ?? {})) metadata.set(key, value);
    return { code: m.statusOf[e.code], details: truncateText(e.message, MAX_STATUS_MESSAGE_CHARS), metadata };
  };
}

function describe(err: unknown): string {
  const code = classifyForeignError(err);
  const text = err instanceof Error ? err.message : String(err);
  return code === 'internal' ? `internal error: ${text}` : text;
}
