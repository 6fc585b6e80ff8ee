/**
 * Netlink attributes as a tree (`netlink.h` `struct nlattr`: u16 length, u16 type with the
 * `NLA_F_NESTED` bit, value padded to 4 bytes). Every nf_tables object message is a list of
 * these; encoding sizes the whole tree first and writes it into one buffer, decoding is pure,
 * bounded by explicit limits and never throws.
 */
import { align4, cString, view } from './bytes.js';
import { NLA_F_NESTED, NLA_HDRLEN, NLA_MAX_LEN, NLA_TYPE_MASK } from './constants.js';

/** A leaf attribute (bytes) or a nested one (attributes). `type` is without flag bits. */
export type Attr = { readonly type: number; readonly value: Uint8Array } | { readonly type: number; readonly nested: readonly Attr[] };

/** Encoded size of one attribute, padding included, in bytes. */
export function attrBytes(a: Attr): number {
  if ('value' in a) return align4(NLA_HDRLEN + a.value.length);
  let n = NLA_HDRLEN;
  for (const c of a.nested) n += attrBytes(c);
  return n;
}

/** Encoded size of a list of attributes, in bytes. */
export function attrsBytes(attrs: readonly Attr[]): number {
  let n = 0;
  for (const a of attrs) n += attrBytes(a);
  return n;
}

/**
 * Writes `attrs` into `out` at `at`; returns the offset after them. An attribute longer than
 * the u16 length field allows is a programmer error the callers rule out (`attrsFit`).
 */
export function writeAttrs(out: Uint8Array, at: number, attrs: readonly Attr[]): number {
  const v = view(out);
  let o = at;
  for (const a of attrs) {
    const start = o;
    if ('value' in a) {
      v.setUint16(o, NLA_HDRLEN + a.value.length, true);
      v.setUint16(o + 2, a.type, true);
      out.set(a.value, o + NLA_HDRLEN);
      o = start + align4(NLA_HDRLEN + a.value.length);
    } else {
      v.setUint16(o + 2, a.type | NLA_F_NESTED, true);
      o = writeAttrs(out, o + NLA_HDRLEN, a.nested);
      v.setUint16(start, o - start, true);
    }
  }
  return o;
}

/** True when no attribute of the tree is longer than a u16 length can say. */
export function attrsFit(attrs: readonly Attr[]): boolean {
  for (const a of attrs) {
    if (attrBytes(a) > NLA_MAX_LEN + 3) return false;
    if ('nested' in a && !attrsFit(a.nested)) return false;
  }
  return true;
}

// Leaf constructors. nf_tables integers are big-endian (libnftnl `htonl`/`htobe64`).
export const aBytes = (type: number, value: Uint8Array): Attr => ({ type, value });
export const aStr = (type: number, s: string): Attr => ({ type, value: cString(s) });
export function aU32(type: number, n: number): Attr {
  const value = new Uint8Array(4);
  view(value).setUint32(0, n >>> 0, false);
  return { type, value };
}
export function aU16(type: number, n: number): Attr {
  const value = new Uint8Array(2);
  view(value).setUint16(0, n & 0xffff, false);
  return { type, value };
}
export const aU8 = (type: number, n: number): Attr => ({ type, value: Uint8Array.of(n & 0xff) });
export function aU64(type: number, n: bigint): Attr {
  const value = new Uint8Array(8);
  view(value).setBigUint64(0, BigInt.asUintN(64, n), false);
  return { type, value };
}
export const aNest = (type: number, nested: readonly Attr[]): Attr => ({ type, nested });

/** Limits of `decodeAttrTree`. */
export interface AttrTreeLimits {
  /** Deepest nesting followed, levels. Default 16 (nf_tables uses at most 7). */
  readonly maxDepth?: number;
  /** Most attributes in the whole tree. Default 1,000,000. */
  readonly maxAttrs?: number;
}

export type AttrTreeResult = { readonly ok: true; readonly value: Attr[] } | { readonly ok: false; readonly error: string; readonly offset: number };

/**
 * Decodes attributes into a tree. An attribute with `NLA_F_NESTED` is decoded as a nested
 * list; so is any attribute whose type path is in `nestedPaths` (the kernel does not set the
 * flag on every nest it dumps), given as `"4/1/2"` (type of each level from the top).
 */
export function decodeAttrTree(bytes: Uint8Array, nestedPaths: ReadonlySet<string> = new Set(), limits: AttrTreeLimits = {}): AttrTreeResult {
  const maxDepth = limits.maxDepth ?? 16;
  let budget = limits.maxAttrs ?? 1_000_000;
  const walk = (b: Uint8Array, base: number, path: string, depth: number): AttrTreeResult => {
    if (depth > maxDepth) return { ok: false, error: `attributes nested deeper than ${maxDepth}`, offset: base };
    const v = view(b);
    const out: Attr[] = [];
    let at = 0;
    while (at < b.length) {
      if (b.length - at < NLA_HDRLEN) return { ok: false, error: `truncated attribute header (${b.length - at} of ${NLA_HDRLEN} bytes)`, offset: base + at };
      const len = v.getUint16(at, true);
      const raw = v.getUint16(at + 2, true);
      if (len < NLA_HDRLEN) return { ok: false, error: `nla_len ${len} is shorter than the header`, offset: base + at };
      if (len > b.length - at) return { ok: false, error: `nla_len ${len} runs past the end (${b.length - at} bytes left)`, offset: base + at };
      if (--budget < 0) return { ok: false, error: 'too many attributes', offset: base + at };
      const type = raw & NLA_TYPE_MASK;
      const p = path === '' ? String(type) : `${path}/${type}`;
      const value = b.subarray(at + NLA_HDRLEN, at + len);
      if ((raw & NLA_F_NESTED) !== 0 || nestedPaths.has(p)) {
        const inner = walk(value, base + at + NLA_HDRLEN, p, depth + 1);
        if (!inner.ok) return inner;
        out.push({ type, nested: inner.value });
      } else out.push({ type, value: Uint8Array.from(value) });
      at += Math.min(align4(len), b.length - at);
    }
    return { ok: true, value: out };
  };
  return walk(bytes, 0, '', 0);
}

/** The first attribute of `type` in a list. */
export const findAttr = (attrs: readonly Attr[], type: number): Attr | undefined => attrs.find((a) => a.type === type);
