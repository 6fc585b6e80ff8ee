/**
 * The field checks of the entry contract, shared by the validating decoder (`codec.ts`) and the
 * packet encoder that checks as it writes (`packet-json.ts`): both must refuse the same values
 * with the same message naming the field.
 */
import { LogModelError } from './errors.js';
import { isValidNodeName } from './subject.js';

export const MAX_ID_CHARS = 256;
export const MAX_NAME_CHARS = 256;
export const MAX_IFNAME_CHARS = 64;
/** The other bounds of a packet entry's fields: one table for the decoder's checks and the encoder. */
export const FIELD_LIMITS = {
  nodeChars: 63,
  macChars: 3 * 256,
  protoChars: 32,
  addressChars: 64,
  rulePathChars: 1024,
  ruleTextChars: 4096,
  ruleLineMax: 0x7fffffff,
  vmidMax: 0xffffffff,
  levelMax: 7,
  portMax: 65535,
  icmpMax: 255,
  lenMax: 0xffffffff,
  markMax: 0xffffffff,
} as const;
/** `\s` of a regular expression above the C0 range (those are control characters already). */
export function isUnicodeSpace(c: number): boolean {
  return c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * One pass over `s`: 1 when it holds a C0 control character or DEL (a line break would split
 * a log line), 2 when it holds white space (and no control character), else 0.
 */
function scanText(s: string): 0 | 1 | 2 {
  let space = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 1;
    if (!space && (c === 0x20 || (c >= 0xa0 && isUnicodeSpace(c)))) space = true;
  }
  return space ? 2 : 0;
}

export type Json = Record<string, unknown>;

export function fail(field: string, problem: string): never {
  throw new LogModelError('invalid-log-entry', `log entry field '${field}': ${problem}`, { field });
}

export function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function text(o: Json, field: string, maxChars: number, opts: { spaces?: boolean; empty?: boolean } = {}): string {
  const v = o[field];
  if (typeof v !== 'string') fail(field, `expected a string, got ${describe(v)}`);
  if (v.length === 0 && !opts.empty) fail(field, 'must not be empty');
  if (v.length > maxChars) fail(field, `longer than ${maxChars} characters`);
  const scan = scanText(v);
  if (scan === 1) fail(field, 'contains a control character');
  if (scan === 2 && opts.spaces === false) fail(field, `must not contain white space, got ${describe(v)}`);
  return v;
}

export function int(o: Json, field: string, min: number, max: number): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(field, `expected an integer ${min}–${max}, got ${describe(v)}`);
  }
  return v;
}

export function oneOf<T extends string>(o: Json, field: string, values: readonly T[]): T {
  const v = o[field];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(field, `expected one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
}

export const has = (o: Json, field: string): boolean => o[field] !== undefined;

export function common(o: Json): { id: string; node: string; timeUs: number } {
  const id = text(o, 'id', MAX_ID_CHARS, { spaces: false });
  const node = text(o, 'node', FIELD_LIMITS.nodeChars);
  if (!isValidNodeName(node)) fail('node', `invalid node name ${describe(node)}`);
  const timeUs = int(o, 'timeUs', 0, Number.MAX_SAFE_INTEGER);
  return { id, node, timeUs };
}

/** Whether `s` is colon-separated hex byte pairs (`aa:bb:…`), as pvefw-logger prints MAC=. */
export function isColonHex(s: string): boolean {
  if (s.length % 3 !== 2) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 0x3a) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Whether `s` is a TCP flag name like `SYN` (2–4 capital letters). */
export function isFlagName(s: unknown): boolean {
  if (typeof s !== 'string' || s.length < 2 || s.length > 4) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) return false;
  }
  return true;
}

