/**
 * Splitting documents into physical lines, and decoding their bytes.
 *
 * Shared by every parser of the package so that all documents keep their source the same way:
 * printing is `lines.map(l => l.text + (l.newline ? '\n' : '')).join('')`, byte-exact for any
 * string input (a `\r` before the `\n` stays part of the line text, as the reference keeps it).
 */
import type { SourceLine } from './model.js';

/**
 * Splits `text` on `\n` into source lines.
 *
 * Every line ends with `\n` except possibly the last: `newline` is false only for a final line
 * that has no `\n` after it. The empty string yields no lines; `"a\n"` yields one line.
 */
export function splitSourceLines(text: string): SourceLine[] {
  const lines: SourceLine[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end === -1) break;
    lines.push({ text: text.slice(start, end), newline: true });
    start = end + 1;
  }
  if (start < text.length) lines.push({ text: text.slice(start), newline: false });
  return lines;
}

/** Joins source lines back into the exact text they were split from. */
export function joinSourceLines(lines: readonly SourceLine[]): string {
  let out = '';
  for (const line of lines) out += line.newline ? `${line.text}\n` : line.text;
  return out;
}

/** Result of {@link decodeUtf8}. */
export interface DecodedText {
  readonly text: string;
  /** True when some bytes were not valid UTF-8 (each bad sequence became U+FFFD). */
  readonly invalid: boolean;
  /** True when the bytes started with the UTF-8 byte order mark (kept in `text` as U+FEFF). */
  readonly bom: boolean;
}

/**
 * Decodes UTF-8 bytes without any platform API (the package is pure and typed without DOM or
 * Node globals). Invalid sequences become U+FFFD following the WHATWG "maximal subpart" rule,
 * like `TextDecoder` with `fatal: false`; a byte order mark is kept (not stripped), so that the
 * caller can report it and printing stays faithful to the decoded text.
 */
export function decodeUtf8(bytes: Uint8Array): DecodedText {
  const parts: string[] = [];
  let units: number[] = [];
  let invalid = false;
  const flush = (): void => {
    parts.push(String.fromCharCode(...units));
    units = [];
  };
  const push = (cp: number): void => {
    if (cp > 0xffff) {
      const v = cp - 0x10000;
      units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 8192) flush();
  };
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b0 = bytes[i] as number;
    if (b0 < 0x80) {
      push(b0);
      i += 1;
      continue;
    }
    let need: number;
    let cp: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lower = 0xa0;
      if (b0 === 0xed) upper = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lower = 0x90;
      if (b0 === 0xf4) upper = 0x8f;
    } else {
      push(0xfffd);
      invalid = true;
      i += 1;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k += 1, j += 1) {
      const b = bytes[j];
      if (b === undefined || b < lower || b > upper) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (b & 0x3f);
      lower = 0x80;
      upper = 0xbf;
    }
    if (!ok) {
      push(0xfffd);
      invalid = true;
      i = j;
      continue;
    }
    push(cp);
    i = j;
  }
  flush();
  const bom = n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return { text: parts.join(''), invalid, bom };
}

/** Decodes `input` when it is bytes (see {@link decodeUtf8}); strings are returned as they are. */
export function toText(input: string | Uint8Array): DecodedText {
  if (typeof input === 'string') return { text: input, invalid: false, bom: input.startsWith('\uFEFF') };
  return decodeUtf8(input);
}
