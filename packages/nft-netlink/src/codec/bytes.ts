/**
 * Byte helpers for the codec. Netlink headers and attribute headers are in host byte order;
 * this codec writes and reads them little-endian, which is the byte order of every platform
 * Palisade runs on (x86_64, arm64). Payload integers of nf_tables (flags, ids) are big-endian
 * (`NLA_U32` attributes of nf_tables are `htonl`ed by libnftnl and `ntohl`ed by the kernel).
 */
import { NL_ALIGNTO } from './constants.js';

/** Rounds a length up to netlink's 4-byte alignment (`NLMSG_ALIGN`, `NLA_ALIGN`): where the next message or attribute starts. */
export const align4 = (n: number): number => (n + NL_ALIGNTO - 1) & ~(NL_ALIGNTO - 1);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 bytes of a string, without a NUL. */
export const encodeText = (text: string): Uint8Array => encoder.encode(text);

/** A NUL-terminated string, as nf_tables expects for `NLA_STRING` names. */
export function cString(text: string): Uint8Array {
  const b = encoder.encode(text);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** Reads a string attribute value, dropping the terminating NUL if present. */
export function readCString(value: Uint8Array): string {
  const end = value.indexOf(0);
  return decoder.decode(end >= 0 ? value.subarray(0, end) : value);
}

/**
 * A u32 in network byte order, as nf_tables payload integers travel; a negative number (a verdict
 * code) is written as its two's complement.
 */
export function be32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}

/** Joins byte arrays into one new array; the parts are copied, so later changes to them do not show. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A DataView over exactly the bytes of `b`: a subarray starts at its offset, not at the start of the buffer it shares. */
export const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Hex of bytes (for messages and fixtures). */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Bytes from hex; whitespace is ignored. Returns undefined for malformed input. */
export function fromHex(hex: string): Uint8Array | undefined {
  const h = hex.replace(/\s+/g, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}
