import { API_ERROR_CODES, type ApiErrorCode } from '@palisade/api';
import { PalisadeError } from '@palisade/service-kit';

/**
 * The one error type of configd. Every failure a caller can see has a closed `code`; the gRPC
 * layer maps codes to status codes in exactly one place (`rpc/status.ts`).
 */

/**
 * Closed set of configd error codes: exactly the codes clients know (`ErrorDetail.code`), so
 * the server cannot send one that `@palisade/api` would read as `internal`.
 */
export type ConfigdErrorCode = Exclude<ApiErrorCode, AgentOnlyCode>;
/** The node agent's own codes (`ErrorCode` 18 and up): configd never sends them. */
type AgentOnlyCode = 'apply-failed' | 'state-failed';
const AGENT_ONLY: readonly string[] = ['apply-failed', 'state-failed'] satisfies AgentOnlyCode[];
/** `ConfigdErrorCode` as a run-time list, for checks that must cover every code configd sends. */
export const CONFIGD_ERROR_CODES: readonly ConfigdErrorCode[] = API_ERROR_CODES.filter((c): c is ConfigdErrorCode => !AGENT_ONLY.includes(c));

/** A diagnostic as configd passes it on (shape of `palisade.config.v1.Diagnostic`). */
export interface DiagnosticInfo {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: string;
  readonly message: string;
}

/** Typed context that travels with an error to the client. */
export interface ConfigdErrorContext {
  readonly diagnostics?: readonly DiagnosticInfo[];
  /** For `conflict`: the document's current revision (0 when absent) and digest. */
  readonly currentRevision?: number;
  readonly currentDigest?: string;
  /** For `compacted`: the oldest revision a watch can resume from. */
  readonly oldestRevision?: number;
  /** For `too-large`: the limit in bytes. */
  readonly maxBytes?: number;
  readonly path?: string;
  /** For `invalid-document` from a rule edit: the wrong rule fields (Proxmox names) and why. */
  readonly fields?: Readonly<Record<string, string>>;
}

/**
 * Every failure configd reports: a closed `code`, typed context for the client's ErrorDetail and
 * the original `cause`. The code union contains service-kit's common codes, so `errorFrom()`
 * maps aborts and timeouts into it.
 */
export class ConfigdError extends PalisadeError<ConfigdErrorCode, ConfigdErrorContext> {}

/** Whether `err` is a ConfigdError (any code). */
export function isConfigdError(err: unknown): err is ConfigdError {
  return err instanceof ConfigdError;
}
