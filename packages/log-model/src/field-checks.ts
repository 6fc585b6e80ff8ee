/**
 * The field checks of the entry contract, shared by the validating decoder (`codec.ts`,
 * `packet-check.ts`) and the packet encoder that checks as it writes (`packet-json.ts`): both
 * must refuse the same values with the same message naming the field. The checks take the
 * value, read once by name by the caller.
 */
import { isIpAddress } from './address.js';
import { LOG_ENTRY_MAX_BYTES } from './entry.js';
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
/** A C0 control character or DEL: a line break would split a log line. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** White space as a regular expression's `\s` has it (Unicode spaces included). */
export const WHITE_SPACE = /\s/;

export type Json = Record<string, unknown>;

export function fail(field: string, problem: string): never {
  throw new LogModelError('invalid-log-entry', `log entry field '${field}': ${problem}`, { field });
}

export function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** How {@link checkText} treats white space and the empty string. */
export interface TextRule {
  readonly maxChars: number;
  /** White space allowed (default true). */
  readonly spaces?: boolean;
  /** The empty string allowed (default false). */
  readonly empty?: boolean;
}

/** The rule of an entry id (also a rule id): no white space. */
export const ID_RULE: TextRule = { maxChars: MAX_ID_CHARS, spaces: false };
/** The rule of the packet text: as long as an entry may be, empty allowed. */
export const PACKET_RULE: TextRule = { maxChars: LOG_ENTRY_MAX_BYTES, empty: true };

/** `v` when it is a string the rule allows, else the refusal naming `field`. */
export function checkText(v: unknown, field: string, rule: TextRule): string {
  if (typeof v !== 'string') fail(field, `expected a string, got ${describe(v)}`);
  if (v.length === 0 && rule.empty !== true) fail(field, 'must not be empty');
  if (v.length > rule.maxChars) fail(field, `longer than ${rule.maxChars} characters`);
  // Regular expressions scan a long text several times faster than a charCodeAt loop.
  if (CONTROL_CHARACTER.test(v)) fail(field, 'contains a control character');
  if (rule.spaces === false && WHITE_SPACE.test(v)) fail(field, `must not contain white space, got ${describe(v)}`);
  return v;
}

/** `v` when it is a safe integer in `[min, max]`, else the refusal naming `field`. */
export function checkInt(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(field, `expected an integer ${min}–${max}, got ${describe(v)}`);
  }
  return v;
}

export function int(o: Json, field: string, min: number, max: number): number {
  return checkInt(o[field], field, min, max);
}

export function oneOf<T extends string>(o: Json, field: string, values: readonly T[]): T {
  return checkOneOf(o[field], field, values);
}

export function common(o: Json): { id: string; node: string; timeUs: number } {
  const id = checkText(o.id, 'id', ID_RULE);
  const node = checkText(o.node, 'node', { maxChars: FIELD_LIMITS.nodeChars });
  if (!isValidNodeName(node)) fail('node', `invalid node name ${describe(node)}`);
  const timeUs = int(o, 'timeUs', 0, Number.MAX_SAFE_INTEGER);
  return { id, node, timeUs };
}

const COLON_HEX = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/;

/** Whether `s` is colon-separated hex byte pairs (`aa:bb:…`), as pvefw-logger prints MAC=. */
export function isColonHex(s: string): boolean {
  return COLON_HEX.test(s);
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

/** A MAC field's value (colon hex, as pvefw-logger prints MAC=), else the refusal. */
export function checkMac(v: unknown): string {
  const mac = checkText(v, 'mac', { maxChars: FIELD_LIMITS.macChars });
  if (!isColonHex(mac)) fail('mac', `expected colon-separated hex bytes, got ${describe(mac)}`);
  return mac;
}

/** An address field's value (`src`, `dst`), else the refusal naming the field. */
export function checkAddress(v: unknown, field: 'src' | 'dst'): string {
  const a = checkText(v, field, { maxChars: FIELD_LIMITS.addressChars });
  if (!isIpAddress(a)) fail(field, `expected an IPv4 or IPv6 address, got ${describe(a)}`);
  return a;
}

/** The `family` field's value, else the refusal. */
export function checkFamily(v: unknown): 4 | 6 | 'arp' {
  if (v === 4 || v === 6 || v === 'arp') return v;
  return fail('family', `expected 4, 6 or "arp", got ${describe(v)}`);
}

/** The `tcpFlags` field's value (up to 16 names like `SYN`), else the refusal. */
export function checkFlags(v: unknown): readonly string[] {
  if (!Array.isArray(v) || v.length > 16) fail('tcpFlags', `expected an array of up to 16 flag names, got ${describe(v)}`);
  for (const f of v) if (!isFlagName(f)) fail('tcpFlags', `expected flag names like "SYN", got ${describe(f)}`);
  return v as string[];
}

/** `v` when it is a boolean (`isPolicy`), else the refusal naming `field`. */
export function checkBoolean(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, `expected a boolean, got ${describe(v)}`);
  return v;
}

/** `v` when it is one of `values`, else the refusal naming `field`. */
export function checkOneOf<T extends string>(v: unknown, field: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(field, `expected one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
}
