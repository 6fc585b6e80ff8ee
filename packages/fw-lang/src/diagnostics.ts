import { DIAGNOSTIC_CODES, type DiagnosticCode } from './diagnostic-codes.js';
import type { Diagnostic, Severity } from './model.js';

/** Builds a diagnostic with the severity and effect the catalogue gives its code. */
export function makeDiagnostic(
  code: DiagnosticCode,
  path: string,
  line: number,
  message: string,
  extra: { column?: number; severity?: Severity } = {},
): Diagnostic {
  const info = DIAGNOSTIC_CODES[code];
  return {
    code,
    severity: extra.severity ?? info.severity,
    effect: info.effect,
    path,
    line,
    ...(extra.column !== undefined ? { column: extra.column } : {}),
    message,
  };
}

/** `path:line: severity CODE message`, the line format of `palisade check`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.path}:${d.line}: ${d.severity} ${d.code} ${d.message}`;
}

/** True when any diagnostic is an error (the document would be refused). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Orders diagnostics by path, line, column, then code, for stable output. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
      a.line - b.line ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}
