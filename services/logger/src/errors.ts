import type { ApiErrorCode } from '@palisade/api';
import { PalisadeError } from '@palisade/service-kit';

/**
 * The one error type of the logger. Its codes are a subset of the closed codes clients know
 * (`ErrorDetail.code`); the gRPC layer maps them to statuses in `rpc/status.ts`.
 */
export type LoggerErrorCode = Extract<ApiErrorCode, 'not-found' | 'invalid-argument' | 'resource-exhausted' | 'unavailable' | 'cancelled' | 'deadline-exceeded' | 'internal'>;

export class LoggerError extends PalisadeError<LoggerErrorCode, { readonly field?: string }> {}
