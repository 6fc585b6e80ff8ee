/**
 * Lossless printing: a parsed document prints back to exactly the text (or bytes) it came from.
 */
import { printSourceBytes } from './decode.js';
import { joinSourceLines } from './source-lines.js';
import type { SourceEncoding, SourceLine } from './model.js';

/** The document's text, exactly as parsed (or as edited). */
export function printDocument(doc: { readonly lines: readonly SourceLine[] }): string {
  return joinSourceLines(doc.lines);
}

/** The document's bytes, exactly as parsed, also for documents that were not valid UTF-8. */
export function printDocumentBytes(doc: { readonly lines: readonly SourceLine[]; readonly encoding?: SourceEncoding }): Uint8Array {
  return printSourceBytes(doc.lines, doc.encoding ?? 'utf-8');
}
