import { API_ERROR_CODES } from '@palisade/api';
import { PalisadeError } from '@palisade/service-kit';

/**
 * The one error type of the logger, with the closed codes clients know (`ErrorDetail.code`);
 * the gRPC layer maps them to statuses in `rpc/status.ts`.
 */
export type LoggerErrorCode = (typeof API_ERROR_CODES)[number];

export class LoggerError extends PalisadeError<LoggerErrorCode, { readonly field?: string }> {}
