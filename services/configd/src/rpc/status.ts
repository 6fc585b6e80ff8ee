/**
 * The one place where configd errors become gRPC statuses. Every failed call also carries an
 * encoded `ErrorDetail` in the `palisade-error-bin` trailer (code, diagnostics, revisions).
 */
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_DETAIL_METADATA_KEY, ErrorDetail } from '@palisade/api';
import type { Logger } from '@palisade/service-kit';
import { ConfigdError, type ConfigdErrorCode } from '../errors.js';

const GRPC_STATUS: Readonly<Record<ConfigdErrorCode, Status>> = {
  'not-found': Status.NOT_FOUND,
  conflict: Status.ABORTED,
  'already-exists': Status.ALREADY_EXISTS,
  'invalid-argument': Status.INVALID_ARGUMENT,
  'invalid-document': Status.INVALID_ARGUMENT,
  'failed-precondition': Status.FAILED_PRECONDITION,
  'too-large': Status.RESOURCE_EXHAUSTED,
  'not-quorate': Status.UNAVAILABLE,
  unauthenticated: Status.UNAUTHENTICATED,
  'permission-denied': Status.PERMISSION_DENIED,
  compacted: Status.OUT_OF_RANGE,
  unavailable: Status.UNAVAILABLE,
  cancelled: Status.CANCELLED,
  'deadline-exceeded': Status.DEADLINE_EXCEEDED,
  internal: Status.INTERNAL,
};

/** Converts any thrown value into a gRPC error with the ErrorDetail trailer. */
export function toServiceError(err: unknown, logger: Logger): Partial<ServiceError> {
  const e =
    err instanceof ConfigdError
      ? err
      : new ConfigdError('internal', `internal error: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
  if (e.code === 'internal') logger.error({ err }, 'internal error');
  const metadata = new Metadata();
  const detail = ErrorDetail.encode({
    code: e.code,
    diagnostics: (e.context.diagnostics ?? []).map((d) => ({ ...d })),
    currentRevision: e.context.currentRevision ?? 0,
    currentDigest: e.context.currentDigest ?? '',
    oldestRevision: e.context.oldestRevision ?? 0,
    maxBytes: e.context.maxBytes ?? 0,
  }).finish();
  metadata.set(ERROR_DETAIL_METADATA_KEY, Buffer.from(detail));
  return { code: GRPC_STATUS[e.code], details: e.message, metadata };
}
