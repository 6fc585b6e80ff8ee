import type { ApiErrorCode } from '@palisade/api';
import { PalisadeError } from '@palisade/service-kit';

/**
 * The one error type of the logger. Its codes are a subset of the closed codes clients know
 * (`ErrorDetail.code`); the gRPC layer maps them to statuses in `rpc/status.ts`.
 */
export type LoggerErrorCode = Extract<ApiErrorCode, 'not-found' | 'invalid-argument' | 'resource-exhausted' | 'unavailable' | 'cancelled' | 'deadline-exceeded' | 'internal'>;

/**
 * Thrown by every part of the logger; `context.field` names the option or request field at fault,
 * so a usage error or an `invalid-argument` status can point at it.
 */
export class LoggerError extends PalisadeError<LoggerErrorCode, { readonly field?: string }> {}
