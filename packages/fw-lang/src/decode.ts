/**
 * Turns a document's bytes (or text) into source lines, and reports what is wrong with the
 * document as a whole: size, binary content, encoding, byte order mark, CRLF, long lines.
 */
import { makeDiagnostic } from './diagnostics.js';
import type { Diagnostic, SourceEncoding, SourceLine } from './model.js';
import { decodeUtf8, joinSourceLines, splitSourceLines } from './source-lines.js';

/** Default document size limit, as pmxcfs allows for one file (bytes). */
export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
/** Lines longer than this (UTF-16 units) get a warning; the reference has no limit. */
export const LONG_LINE_CHARS = 4096;




/** A document's bytes as lines, with the encoding read and the diagnostics of decoding. */
export interface DecodedSource {
  readonly lines: readonly SourceLine[];
  readonly encoding: SourceEncoding;
  readonly diagnostics: readonly Diagnostic[];
  /**
   * False when the content must not be interpreted (over the size limit, binary): the model
   * is then empty but the lines are kept, so printing still gives the bytes back.
   */
  readonly interpret: boolean;
}

/** Options of `decodeSource`: the path for diagnostics and the size limit. */
export interface DecodeOptions {
  readonly path: string;
  readonly maxBytes?: number;
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

/** Decodes a document and collects the document-level diagnostics (codes FW0001–FW0006). */
export function decodeSource(input: string | Uint8Array, options: DecodeOptions): DecodedSource {
  const { path } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const diagnostics: Diagnostic[] = [];
  let text: string;
  let encoding: SourceEncoding = 'utf-8';
  let size: number;
  if (typeof input === 'string') {
    text = input;
    // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when the limit is in reach.
    size = input.length * 3 <= maxBytes ? input.length : utf8Length(input);
  } else {
    size = input.length;
    const decoded = decodeUtf8(input);
    text = decoded.text;
    if (decoded.invalid) {
      text = latin1(input);
      encoding = 'latin1';
    }
  }
  let interpret = true;
  if (size > maxBytes) {
    diagnostics.push(
      makeDiagnostic('FW0001', path, 1, `document is ${size} bytes, over the limit of ${maxBytes} bytes; not interpreted`),
    );
    interpret = false;
  }
  const nul = text.indexOf('\u0000');
  const lines = splitSourceLines(text);
  if (nul !== -1) {
    const line = lineOfOffset(text, nul);
    diagnostics.push(makeDiagnostic('FW0002', path, line, 'binary content (NUL byte); document not interpreted'));
    interpret = false;
  }
  if (encoding === 'latin1') {
    const bad = findInvalidUtf8Line(lines);
    diagnostics.push(makeDiagnostic('FW0003', path, bad, 'invalid UTF-8; comments and names must be UTF-8 text'));
  }
  if (text.startsWith('\uFEFF')) {
    diagnostics.push(
      makeDiagnostic('FW0005', path, 1, 'byte order mark at the start: pve-firewall would not recognise the first line; remove it'),
    );
  }
  const crlf = lines.findIndex((l) => l.newline && l.text.endsWith('\r'));
  if (crlf !== -1) {
    diagnostics.push(
      makeDiagnostic(
        'FW0004',
        path,
        crlf + 1,
        'CRLF line endings: pve-firewall does not recognise section headers ending in CR; convert the file to LF',
      ),
    );
  }
  if (interpret) {
    lines.forEach((l, i) => {
      if (l.text.length > LONG_LINE_CHARS) {
        diagnostics.push(makeDiagnostic('FW0006', path, i + 1, `line is ${l.text.length} characters long`));
      }
    });
  }
  return { lines, encoding, diagnostics, interpret };
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}

function findInvalidUtf8Line(lines: readonly SourceLine[]): number {
  // Latin-1 text: a line is suspicious when it holds bytes >= 0x80 that do not form UTF-8.
  for (let i = 0; i < lines.length; i += 1) {
    const t = (lines[i] as SourceLine).text;
    const bytes = Uint8Array.from(t, (c) => c.charCodeAt(0) & 0xff);
    if (decodeUtf8(bytes).invalid) return i + 1;
  }
  return 1;
}

/** Encodes lines back to the exact bytes they were decoded from. */
export function printSourceBytes(lines: readonly SourceLine[], encoding: SourceEncoding): Uint8Array {
  const text = joinSourceLines(lines);
  if (encoding === 'latin1') return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
  return encodeUtf8(text);
}

/** UTF-8 encoder without platform APIs (the package is pure). */
export function encodeUtf8(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  let j = 0;
  for (let i = 0; i < text.length; i += 1) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i += 1;
      }
    }
    if (c < 0x80) out[j++] = c;
    else if (c < 0x800) {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      out[j++] = 0xe0 | (c >> 12);
      out[j++] = 0x80 | ((c >> 6) & 0x3f);
      out[j++] = 0x80 | (c & 0x3f);
    } else {
      out[j++] = 0xf0 | (c >> 18);
      out[j++] = 0x80 | ((c >> 12) & 0x3f);
      out[j++] = 0x80 | ((c >> 6) & 0x3f);
      out[j++] = 0x80 | (c & 0x3f);
    }
  }
  return out.subarray(0, j);
}
