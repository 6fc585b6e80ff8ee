import { PalisadeError, type CommonErrorCode } from '@palisade/service-kit';

/** Why a log entry, node name, address or time zone was refused. */
export type LogModelErrorCode = CommonErrorCode | 'invalid-log-entry' | 'log-entry-too-large' | 'invalid-node-name' | 'invalid-address' | 'invalid-time-zone';

/** What travels with a {@link LogModelError}: the offending field of the entry, when there is one. */
export interface LogModelErrorContext {
  readonly field?: string;
}

/** The one error class of `@palisade/log-model`. */
export class LogModelError extends PalisadeError<LogModelErrorCode, LogModelErrorContext> {}
