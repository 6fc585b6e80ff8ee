/**
 * The one place where configd errors become gRPC statuses: configd's code → status table and
 * the encoded `ErrorDetail` in the `palisade-error-bin` trailer of every failed call (the code
 * as `palisade.common.v1.ErrorCode` and as text, diagnostics, revisions). grpc-kit's mapper classifies anything else (abort → cancelled,
 * timeout → deadline-exceeded, else internal, logged) and truncates the message.
 *
 * A refusal must always arrive: the trailer carries at most `MAX_REFUSAL_DIAGNOSTICS`
 * diagnostics (errors first) within `MAX_DETAIL_BYTES`, each text field truncated, plus the
 * total count, so that no trailer block comes near HTTP/2's header-list limit.
 */
import { status as Status } from '@grpc/grpc-js';
import { Diagnostic, ERROR_DETAIL_METADATA_KEY, ErrorDetail, errorDetailOf } from '@palisade/api';
import { KIT_STATUS, createStatusMapper, truncateText, type KitErrorCode, type ToServiceError } from '@palisade/grpc-kit';
import type { ConfigdErrorCode, ConfigdErrorContext, DiagnosticInfo } from '../errors.js';

/** gRPC status of every configd code. */
export const CONFIGD_STATUS: Readonly<Record<ConfigdErrorCode | KitErrorCode, Status>> = {
  ...KIT_STATUS,
  'not-found': Status.NOT_FOUND,
  conflict: Status.ABORTED,
  'already-exists': Status.ALREADY_EXISTS,
  'invalid-document': Status.INVALID_ARGUMENT,
  'failed-precondition': Status.FAILED_PRECONDITION,
  'too-large': Status.RESOURCE_EXHAUSTED,
  'resource-exhausted': Status.RESOURCE_EXHAUSTED,
  'not-quorate': Status.UNAVAILABLE,
  // The write may have been stored: not a transport failure a client may blindly retry.
  'outcome-unknown': Status.UNKNOWN,
  compacted: Status.OUT_OF_RANGE,
};

/** Most diagnostics a refusal carries (`diagnostics_total` counts them all). */
export const MAX_REFUSAL_DIAGNOSTICS = 100;
/** Most bytes of the encoded ErrorDetail (before base64). */
export const MAX_DETAIL_BYTES = 16 * 1024;
/** Longest path and message of a diagnostic in a refusal, characters. */
const MAX_DIAGNOSTIC_PATH_CHARS = 256;
const MAX_DIAGNOSTIC_MESSAGE_CHARS = 300;
const MAX_DIGEST_CHARS = 128;

const SEVERITY_ORDER: Readonly<Record<DiagnosticInfo['severity'], number>> = { error: 0, warning: 1, info: 2 };

/** The diagnostics that fit: errors first, at most `MAX_REFUSAL_DIAGNOSTICS`, within the byte budget. */
export function refusalDiagnostics(all: readonly DiagnosticInfo[], budgetBytes = MAX_DETAIL_BYTES - 256): Diagnostic[] {
  const ordered = all
    .map((d, i) => ({ d, i }))
    .sort((x, y) => SEVERITY_ORDER[x.d.severity] - SEVERITY_ORDER[y.d.severity] || x.i - y.i)
    .slice(0, MAX_REFUSAL_DIAGNOSTICS);
  const out: Diagnostic[] = [];
  let bytes = 0;
  for (const { d } of ordered) {
    const pb: Diagnostic = {
      path: truncateText(d.path, MAX_DIAGNOSTIC_PATH_CHARS),
      line: d.line,
      column: d.column,
      severity: d.severity,
      code: truncateText(d.code, 32),
      message: truncateText(d.message, MAX_DIAGNOSTIC_MESSAGE_CHARS),
    };
    // Field tag, length prefix (≤ 3 bytes) and the message.
    const size = Diagnostic.encode(pb).finish().length + 4;
    if (bytes + size > budgetBytes) break;
    bytes += size;
    out.push(pb);
  }
  return out;
}

/** Converts any thrown value into a gRPC error with the ErrorDetail trailer. */
export const toServiceError: ToServiceError = createStatusMapper<ConfigdErrorCode>({
  statusOf: CONFIGD_STATUS,
  trailer: (e) => {
    const c = e.context as ConfigdErrorContext;
    const all = c.diagnostics ?? [];
    const detail = ErrorDetail.encode(
      errorDetailOf(e.code, {
        diagnostics: refusalDiagnostics(all),
        diagnosticsTotal: all.length,
        currentRevision: c.currentRevision ?? 0,
        currentDigest: truncateText(c.currentDigest ?? '', MAX_DIGEST_CHARS),
        oldestRevision: c.oldestRevision ?? 0,
        maxBytes: c.maxBytes ?? 0,
      }),
    ).finish();
    return { [ERROR_DETAIL_METADATA_KEY]: Buffer.from(detail) };
  },
});
