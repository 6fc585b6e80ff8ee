/**
 * Netlink attributes as a tree (`netlink.h` `struct nlattr`: u16 length, u16 type with the
 * `NLA_F_NESTED` bit, value padded to 4 bytes). Every nf_tables object message is a list of
 * these; encoding sizes the whole tree first and writes it into one buffer, decoding is pure,
 * bounded by explicit limits and never throws.
 */
import { align4, cString, view } from './bytes.js';
import { NLA_F_NESTED, NLA_HDRLEN, NLA_MAX_LEN, NLA_TYPE_MASK } from './constants.js';

/** A leaf attribute (bytes) or a nested one (attributes). `type` is without flag bits. */
export type Attr =
  | { readonly type: number; readonly value: Uint8Array }
  | { readonly type: number; readonly nested: readonly Attr[] }
  /** A big-endian u32 leaf, kept as a number (no byte array per attribute: rulesets have millions). */
  | { readonly type: number; readonly u32: number };

/** Encoded size of one attribute, padding included, in bytes. */
export function attrBytes(a: Attr): number {
  if ('u32' in a) return NLA_HDRLEN + 4;
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
export function writeAttrs(out: Uint8Array, at: number, attrs: readonly Attr[], v: DataView = view(out)): number {
  let o = at;
  for (const a of attrs) {
    const start = o;
    if ('u32' in a) {
      v.setUint16(o, NLA_HDRLEN + 4, true);
      v.setUint16(o + 2, a.type, true);
      v.setUint32(o + 4, a.u32 >>> 0, false);
      o += NLA_HDRLEN + 4;
    } else if ('value' in a) {
      v.setUint16(o, NLA_HDRLEN + a.value.length, true);
      v.setUint16(o + 2, a.type, true);
      out.set(a.value, o + NLA_HDRLEN);
      o = start + align4(NLA_HDRLEN + a.value.length);
    } else {
      v.setUint16(o + 2, a.type | NLA_F_NESTED, true);
      o = writeAttrs(out, o + NLA_HDRLEN, a.nested, v);
      v.setUint16(start, o - start, true);
    }
  }
  return o;
}

/**
 * Encoded size of a list of attributes, or -1 when an attribute of the tree is longer than
 * its u16 length can say (one pass over the tree).
 */
export function attrsBytesChecked(attrs: readonly Attr[]): number {
  let n = 0;
  for (const a of attrs) {
    let len: number;
    if ('u32' in a) len = NLA_HDRLEN + 4;
    else if ('value' in a) len = NLA_HDRLEN + a.value.length;
    else {
      const inner = attrsBytesChecked(a.nested);
      if (inner < 0) return -1;
      len = NLA_HDRLEN + inner;
    }
    if (len > NLA_MAX_LEN) return -1;
    n += align4(len);
  }
  return n;
}

/** True when no attribute of the tree is longer than a u16 length can say. */
export const attrsFit = (attrs: readonly Attr[]): boolean => attrsBytesChecked(attrs) >= 0;

// Leaf constructors. nf_tables integers are big-endian (libnftnl `htonl`/`htobe64`).
export const aBytes = (type: number, value: Uint8Array): Attr => ({ type, value });
// Names repeat in every message of a table (table, chain, expression names): encode each once.
const strCache = new Map<string, Uint8Array>();
/** A NUL-terminated string attribute. */
export function aStr(type: number, s: string): Attr {
  let value = strCache.get(s);
  if (value === undefined) {
    value = cString(s);
    if (strCache.size > 50_000) strCache.clear();
    strCache.set(s, value);
  }
  return { type, value };
}
/** A u32 attribute (network byte order, as nf_tables wants). */
export const aU32 = (type: number, n: number): Attr => ({ type, u32: n >>> 0 });
/** A u16 attribute (network byte order). */
export function aU16(type: number, n: number): Attr {
  const value = new Uint8Array(2);
  view(value).setUint16(0, n & 0xffff, false);
  return { type, value };
}
/** A u8 attribute. */
export const aU8 = (type: number, n: number): Attr => ({ type, value: Uint8Array.of(n & 0xff) });
/** A u64 attribute (network byte order). */
export function aU64(type: number, n: bigint): Attr {
  const value = new Uint8Array(8);
  view(value).setBigUint64(0, BigInt.asUintN(64, n), false);
  return { type, value };
}
/** A nested attribute holding `nested`. */
export const aNest = (type: number, nested: readonly Attr[]): Attr => ({ type, nested });

/** Limits of `decodeAttrTree`. */
export interface AttrTreeLimits {
  /** Deepest nesting followed, levels. Default 16 (nf_tables uses at most 7). */
  readonly maxDepth?: number;
  /** Most attributes in the whole tree. Default 1,000,000. */
  readonly maxAttrs?: number;
}

/** The outcome of {@link decodeAttrTree}: the attributes, or why and where the bytes are malformed. */
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
    const out: Attr[] = [];
    let at = 0;
    while (at < b.length) {
      if (b.length - at < NLA_HDRLEN) return { ok: false, error: `truncated attribute header (${b.length - at} of ${NLA_HDRLEN} bytes)`, offset: base + at };
      // little-endian u16s read by hand: a DataView per nested list costs more than the list (drift reads 45,000 rules)
      const len = (b[at] as number) | ((b[at + 1] as number) << 8);
      const raw = (b[at + 2] as number) | ((b[at + 3] as number) << 8);
      if (len < NLA_HDRLEN) return { ok: false, error: `nla_len ${len} is shorter than the header`, offset: base + at };
      if (len > b.length - at) return { ok: false, error: `nla_len ${len} runs past the end (${b.length - at} bytes left)`, offset: base + at };
      if (--budget < 0) return { ok: false, error: 'too many attributes', offset: base + at };
      const type = raw & NLA_TYPE_MASK;
      const p = nestedPaths.size === 0 ? '' : path === '' ? String(type) : `${path}/${type}`;
      const value = b.subarray(at + NLA_HDRLEN, at + len);
      if ((raw & NLA_F_NESTED) !== 0 || (nestedPaths.size > 0 && nestedPaths.has(p))) {
        const inner = walk(value, base + at + NLA_HDRLEN, p, depth + 1);
        if (!inner.ok) return inner;
        out.push({ type, nested: inner.value });
      } else out.push({ type, value: value.slice() });
      at += Math.min(align4(len), b.length - at);
    }
    return { ok: true, value: out };
  };
  return walk(bytes, 0, '', 0);
}

/** The first attribute of `type` in a list. */
export const findAttr = (attrs: readonly Attr[], type: number): Attr | undefined => attrs.find((a) => a.type === type);
