/**
 * What the mirror accepts from the replicated stream, and what the store refuses to write so
 * that nothing it acknowledges is later skipped: a key that is a valid document path in its
 * normal spelling, text content (no NUL byte: every /etc/pve document is text), and a digest
 * header that is the SHA-256 of the content. Anything else reached NATS without configd (a
 * client with the bucket's credentials) and is skipped, counted and logged, never served.
 */
import { sha256Hex, type LogRecord } from '../log-record.js';
import { classifyDocumentPath, normalizeDocumentPath } from './document-path.js';

/** Why a followed record was skipped (the `reason` label of the metric). */
export const SKIP_REASONS = ['invalid-path', 'binary-content', 'digest-mismatch'] as const;
/** One of `SKIP_REASONS`; the mirror counts the records it skips by it (`skippedRecords`). */
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Whether content is text as configd stores it (no NUL byte). */
export function isTextContent(content: Uint8Array): boolean {
  return content.indexOf(0) === -1;
}

/** Why a followed record must not be applied, or undefined when it is acceptable. */
export function recordSkipReason(r: LogRecord): SkipReason | undefined {
  if (normalizeDocumentPath(r.path) !== r.path || classifyDocumentPath(r.path) === undefined) return 'invalid-path';
  if (r.op === 'delete') return undefined;
  const content = r.content ?? new Uint8Array(0);
  if (!isTextContent(content)) return 'binary-content';
  if (r.digest !== sha256Hex(content)) return 'digest-mismatch';
  return undefined;
}
