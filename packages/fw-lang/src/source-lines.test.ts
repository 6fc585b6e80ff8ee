import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, joinSourceLines, splitSourceLines, toText } from './source-lines.js';

interface PlatformDecoder {
  decode(bytes: Uint8Array): string;
}
const PlatformTextDecoder = (globalThis as unknown as { TextDecoder: new (label?: string, opts?: { ignoreBOM?: boolean }) => PlatformDecoder }).TextDecoder;

describe('splitSourceLines', () => {
  it('splits on \\n and marks a final line without newline', () => {
    expect(splitSourceLines('')).toEqual([]);
    expect(splitSourceLines('a')).toEqual([{ text: 'a', newline: false }]);
    expect(splitSourceLines('a\n')).toEqual([{ text: 'a', newline: true }]);
    expect(splitSourceLines('\n\n')).toEqual([
      { text: '', newline: true },
      { text: '', newline: true },
    ]);
    expect(splitSourceLines('a\r\nb')).toEqual([
      { text: 'a\r', newline: true },
      { text: 'b', newline: false },
    ]);
  });

  it('round-trips any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(joinSourceLines(splitSourceLines(s))).toBe(s);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '\n', '\r', ' ', '#')).map((a) => a.join('')), (s) => {
        expect(joinSourceLines(splitSourceLines(s))).toBe(s);
      }),
    );
  });
});

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 and reports a BOM', () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, 0x61, 0xc3, 0xa4, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
    expect(decodeUtf8(bytes)).toEqual({ text: '\uFEFFaä€😀', invalid: false, bom: true });
  });

  it('replaces invalid sequences and flags them', () => {
    const r = decodeUtf8(Uint8Array.from([0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]));
    expect(r.invalid).toBe(true);
    expect(r.text).toBe('a\uFFFD\uFFFD(\uFFFD\uFFFD\uFFFD');
  });

  it('agrees with the platform decoder on random bytes', () => {
    const platform = new PlatformTextDecoder('utf-8', { ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeUtf8(bytes).text).toBe(platform.decode(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('toText passes strings through', () => {
    expect(toText('x')).toEqual({ text: 'x', invalid: false, bom: false });
  });
});
