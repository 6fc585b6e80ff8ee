/**
 * The closed set of error codes a Palisade client can see: the `code` of the `ErrorDetail`
 * trailer that servers send (kebab-case on the wire), plus the transport outcomes a call can
 * end in without one.
 */
export const API_ERROR_CODES = [
  'not-found',
  'conflict',
  'already-exists',
  'invalid-argument',
  'invalid-document',
  'failed-precondition',
  'too-large',
  'resource-exhausted',
  'not-quorate',
  'outcome-unknown',
  'unauthenticated',
  'permission-denied',
  'compacted',
  'unavailable',
  'cancelled',
  'deadline-exceeded',
  'internal',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Whether a string from the wire is one of the known codes. */
export function isApiErrorCode(code: string): code is ApiErrorCode {
  return (API_ERROR_CODES as readonly string[]).includes(code);
}
