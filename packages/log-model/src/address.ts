/**
 * IP addresses in a sortable binary form, so that a store can index addresses and answer a CIDR
 * as one key range: a family byte (4 or 6) followed by the address bytes in network order
 * (5 bytes for IPv4, 17 for IPv6). Byte order equals numeric order within a family.
 */
import { LogModelError } from './errors.js';

/** An inclusive range of binary addresses of one family, as a CIDR denotes it. */
export interface AddressRange {
  readonly family: 4 | 6;
  readonly first: Uint8Array;
  readonly last: Uint8Array;
}

/**
 * Whether `text` is a dotted quad (no leading zeros, each part 0–255), scanned without
 * allocating; the octets go into `out` when given.
 */
function scanIpv4(text: string, out?: number[]): boolean {
  if (text.length < 7 || text.length > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || parts === 4) return false;
      out?.push(value);
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return false; // a leading zero
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else return false;
  }
  return parts === 4;
}

/** The four octets of a dotted quad, or `undefined`. */
function parseIpv4Octets(text: string): number[] | undefined {
  const out: number[] = [];
  return scanIpv4(text, out) ? out : undefined;
}

function parseIpv6Words(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  let tailV4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4Octets(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tailV4 = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "a::1.2.3.4" leaves "a::", "a:b:...:1.2.3.4" leaves "a:b:...:".
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const words = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const w of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      out.push(parseInt(w, 16));
    }
    return out;
  };
  const left = words(halves[0]!);
  if (!left) return undefined;
  if (halves.length === 1) {
    const all = [...left, ...tailV4];
    return all.length === 8 ? all : undefined;
  }
  const right = words(halves[1]!);
  if (!right) return undefined;
  const fill = 8 - left.length - right.length - tailV4.length;
  if (fill < 1) return undefined;
  return [...left, ...new Array<number>(fill).fill(0), ...right, ...tailV4];
}

/** The binary form of an IPv4 or IPv6 address, or `undefined` when `text` is not one. */
export function addressBytes(text: string): Uint8Array | undefined {
  const v4 = parseIpv4Octets(text);
  if (v4) return Uint8Array.of(4, ...v4);
  if (!text.includes(':')) return undefined;
  const words = parseIpv6Words(text);
  if (!words) return undefined;
  const out = new Uint8Array(17);
  out[0] = 6;
  words.forEach((w, i) => {
    out[1 + 2 * i] = w >> 8;
    out[2 + 2 * i] = w & 0xff;
  });
  return out;
}

/** Whether `text` is an IPv4 or IPv6 address (no zone, no prefix length). */
export function isIpAddress(text: string): boolean {
  return scanIpv4(text) || (text.includes(':') && parseIpv6Words(text) !== undefined);
}

/**
 * The range of binary addresses a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address
 * covers. Host bits set below the prefix are ignored, as ipsets do. Throws `invalid-address`.
 */
export function parseAddressRange(text: string): AddressRange {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addressBytes(addr);
  if (!bytes) throw new LogModelError('invalid-address', `invalid address ${JSON.stringify(text)}: expected an IPv4 or IPv6 address or CIDR`);
  const family = bytes[0] === 4 ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > bits) {
      throw new LogModelError('invalid-address', `invalid prefix length in ${JSON.stringify(text)}: expected 0–${bits}`);
    }
    prefix = Number(p);
  }
  const first = Uint8Array.from(bytes);
  const last = Uint8Array.from(bytes);
  for (let bit = prefix; bit < bits; bit++) {
    const byte = 1 + (bit >> 3);
    const mask = 0x80 >> (bit & 7);
    first[byte] = first[byte]! & ~mask;
    last[byte] = last[byte]! | mask;
  }
  return { family, first, last };
}

/** Whether binary address `a` lies in `range`. */
export function addressInRange(a: Uint8Array, range: AddressRange): boolean {
  return compareBytes(a, range.first) >= 0 && compareBytes(a, range.last) <= 0;
}

/** Lexicographic byte comparison (-1, 0, 1). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
