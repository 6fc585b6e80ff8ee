/**
 * The one place where logger errors become gRPC statuses, with the `ErrorDetail` trailer that
 * `@palisade/api` clients decode (code only). log-model refusals (a bad time zone or address
 * in a request) are invalid arguments.
 */
import { status as Status } from '@grpc/grpc-js';
import { ERROR_DETAIL_METADATA_KEY, ErrorDetail, errorDetailOf } from '@palisade/api';
import { KIT_STATUS, createStatusMapper, type KitErrorCode, type ToServiceError } from '@palisade/grpc-kit';
import { LogModelError } from '@palisade/log-model';
import { LoggerError, type LoggerErrorCode } from '../errors.js';

/** The gRPC status of each error code: grpc-kit's table plus the codes only the logger raises. */
export const LOGGER_STATUS: Readonly<Record<LoggerErrorCode | KitErrorCode, Status>> = {
  ...KIT_STATUS,
  'not-found': Status.NOT_FOUND,
  'resource-exhausted': Status.RESOURCE_EXHAUSTED,
};

const mapper = createStatusMapper<LoggerErrorCode>({
  statusOf: LOGGER_STATUS,
  trailer: (e) => ({
    [ERROR_DETAIL_METADATA_KEY]: Buffer.from(ErrorDetail.encode(errorDetailOf(e.code)).finish()),
  }),
});

/**
 * Turns whatever a handler throws into the status sent to the client; a foreign error is
 * classified (abort, timeout, refused connection, else `internal`, logged with its stack).
 */
export const toServiceError: ToServiceError = (err, logger) =>
  mapper(err instanceof LogModelError ? new LoggerError('invalid-argument', err.message, {}, { cause: err }) : err, logger);
