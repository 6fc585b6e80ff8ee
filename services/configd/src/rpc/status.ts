/**
 * The one place where configd errors become gRPC statuses: configd's code → status table and
 * the encoded `ErrorDetail` in the `palisade-error-bin` trailer of every failed call (code,
 * diagnostics, revisions). grpc-kit's mapper classifies anything else (abort → cancelled,
 * timeout → deadline-exceeded, else internal, logged).
 */
import { status as Status } from '@grpc/grpc-js';
import { ERROR_DETAIL_METADATA_KEY, ErrorDetail } from '@palisade/api';
import { KIT_STATUS, createStatusMapper, type KitErrorCode, type ToServiceError } from '@palisade/grpc-kit';
import type { ConfigdErrorCode, ConfigdErrorContext } from '../errors.js';

/** gRPC status of every configd code. */
export const CONFIGD_STATUS: Readonly<Record<ConfigdErrorCode | KitErrorCode, Status>> = {
  ...KIT_STATUS,
  'not-found': Status.NOT_FOUND,
  conflict: Status.ABORTED,
  'already-exists': Status.ALREADY_EXISTS,
  'invalid-document': Status.INVALID_ARGUMENT,
  'failed-precondition': Status.FAILED_PRECONDITION,
  'too-large': Status.RESOURCE_EXHAUSTED,
  'not-quorate': Status.UNAVAILABLE,
  // The write may have been stored: not a transport failure a client may blindly retry.
  'outcome-unknown': Status.UNKNOWN,
  compacted: Status.OUT_OF_RANGE,
};

/** Converts any thrown value into a gRPC error with the ErrorDetail trailer. */
export const toServiceError: ToServiceError = createStatusMapper<ConfigdErrorCode>({
  statusOf: CONFIGD_STATUS,
  trailer: (e) => {
    const c = e.context as ConfigdErrorContext;
    const detail = ErrorDetail.encode({
      code: e.code,
      diagnostics: (c.diagnostics ?? []).map((d) => ({ ...d })),
      currentRevision: c.currentRevision ?? 0,
      currentDigest: c.currentDigest ?? '',
      oldestRevision: c.oldestRevision ?? 0,
      maxBytes: c.maxBytes ?? 0,
    }).finish();
    return { [ERROR_DETAIL_METADATA_KEY]: Buffer.from(detail) };
  },
});
