/**
 * Messages encoded at lowering time. A whole ruleset is ~47,000 messages, most of them rules
 * whose attributes differ only in chain name and comment: building an attribute tree per rule
 * and walking it twice in the encoder cost more (mostly garbage collection) than the kernel
 * needs for the rule. So rules and set element lists are written straight into shared byte
 * arenas here, once, and `encodeNftBatch` only copies them (`NftMessage.body`). The bytes are
 * the ones the attribute tree would encode to (same order, padding, NLA_F_NESTED flags); the
 * tree is still available, decoded on demand, for tests and read-back. Pure.
 */
import type { AddrInterval, NamedSet } from '@palisade/nft-ir';
import { attrsBytesChecked, decodeAttrTree, writeAttrs, type Attr } from './attrs.js';
import { align4 } from './bytes.js';
import { NFTA_LIST_ELEM, NftaData, NftaSetElem, NftaSetElemList, NftSetElemFlag, NLA_F_NESTED, NLA_HDRLEN, NLA_MAX_LEN, NlmFlags, type NftFamily } from './constants.js';
import { INTERVAL_OPEN_USERDATA } from './elements.js';
import { NftaRule, NftnlUdataRule, NftObjMsg } from './nft-constants.js';
import type { NftMessage } from './nft-messages.js';

/** `NLM_F_APPEND` (`netlink.h`): the rule goes to the end of its chain. */
const NLM_F_APPEND = 0x800;

/**
 * Hands out byte ranges of large chunks, so thousands of small encoded messages cost one
 * allocation per chunk rather than one buffer each. Reserve the most a message can take,
 * write it at `offset` of `bytes`, then `take` what was written.
 */
export class ByteArena {
  /** The chunk being filled. */
  bytes: Uint8Array;
  /** Where the next message starts in `bytes`. */
  offset = 0;

  /** `chunkBytes`: size of each chunk, bytes (a larger reservation gets a chunk of its own). */
  constructor(private readonly chunkBytes = 1 << 20) {
    this.bytes = new Uint8Array(chunkBytes);
  }

  /** Makes room for `maxBytes` at `offset` (a fresh chunk when the current one is too full). */
  reserve(maxBytes: number): void {
    if (this.offset + maxBytes <= this.bytes.length) return;
    this.bytes = new Uint8Array(Math.max(this.chunkBytes, maxBytes));
    this.offset = 0;
  }

  /** Keeps what was written from `offset` to `end`; the next message starts after it. Returns the start. */
  take(end: number): number {
    const start = this.offset;
    this.offset = align4(end);
    return start;
  }
}

/**
 * An nf_tables message whose attributes are already encoded: `body` is a range of an arena
 * chunk (kept as chunk and offsets, so a message costs one object), `attrs` decodes it and
 * `what` is built only when asked (error reports).
 */
export class EncodedMessage implements NftMessage {
  constructor(
    readonly msg: NftObjMsg,
    readonly family: NftFamily,
    readonly flags: number,
    /** The arena chunk holding the encoded attributes, from `start` to `end`. */
    readonly chunk: Uint8Array,
    readonly start: number,
    readonly end: number,
    /** The table and the chain (a rule) or set (elements) the message is about, for `what`. */
    private readonly table: string,
    private readonly object: string,
    readonly origin?: { readonly path: string; readonly line: number },
  ) {}

  /** The encoded attributes. */
  get body(): Uint8Array {
    return this.chunk.subarray(this.start, this.end);
  }

  /** The attribute tree of `body` (leaves as bytes): for tests and inspection, not the hot path. */
  get attrs(): readonly Attr[] {
    const t = decodeAttrTree(this.body);
    return t.ok ? t.value : [];
  }

  get what(): string {
    if (this.msg === NftObjMsg.NEWSETELEM) return `add elements to set ${this.family} ${this.table} ${this.object}`;
    const at = this.origin ? ` (${this.origin.path}:${this.origin.line})` : '';
    return `add rule to ${this.family} ${this.table} ${this.object}${at}`;
  }
}

/** Writes an attribute header (`nla_len`, `nla_type`, little-endian u16s) at `at`. */
function header(b: Uint8Array, at: number, len: number, type: number): void {
  b[at] = len & 0xff;
  b[at + 1] = len >>> 8;
  b[at + 2] = type & 0xff;
  b[at + 3] = type >>> 8;
}

/** A big-endian u32 at `at`. */
function be32At(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = (n >>> 16) & 0xff;
  b[at + 2] = (n >>> 8) & 0xff;
  b[at + 3] = n & 0xff;
}

const utf8 = new TextEncoder();

/** Copies `src` into `b` at `at`: a loop for the short name attributes, `set` (memmove) for the rest. */
function put(b: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 64) b.set(src, at);
  else for (let i = 0; i < n; i++) b[at + i] = src[i] as number;
  return at + n;
}

/** Encoded string attributes (header, UTF-8, NUL, padding) by type and value: table and chain names repeat in every rule. */
const stringAttrs = new Map<number, Map<string, Uint8Array>>();
/** The encoded `NLA_STRING` attribute of `type` with value `s` (cached). */
export function stringAttr(type: number, s: string): Uint8Array {
  let byValue = stringAttrs.get(type);
  if (byValue === undefined) stringAttrs.set(type, (byValue = new Map<string, Uint8Array>()));
  let a = byValue.get(s);
  if (a === undefined) {
    const text = utf8.encode(s);
    a = new Uint8Array(align4(NLA_HDRLEN + text.length + 1));
    header(a, 0, NLA_HDRLEN + text.length + 1, type);
    a.set(text, NLA_HDRLEN);
    if (byValue.size > 50_000) byValue.clear();
    byValue.set(s, a);
  }
  return a;
}

/**
 * The encoded `NFTA_RULE_EXPRESSIONS` attribute of a rule's expressions, or undefined when it
 * would be longer than one attribute can say (the rule then keeps its attribute tree, and the
 * encoder reports it).
 */
export function encodeExpressions(exprs: readonly Attr[]): Uint8Array | undefined {
  const inner = attrsBytesChecked(exprs);
  if (inner < 0 || NLA_HDRLEN + inner > NLA_MAX_LEN) return undefined;
  const out = new Uint8Array(NLA_HDRLEN + inner);
  header(out, 0, NLA_HDRLEN + inner, NftaRule.EXPRESSIONS | NLA_F_NESTED);
  writeAttrs(out, NLA_HDRLEN, exprs);
  return out;
}

const ruleArena = new ByteArena();

/**
 * NEWRULE (append) of already encoded expressions, as `newRule` builds it: table, chain,
 * expressions, then the comment as `NFTNL_UDATA_RULE_COMMENT` user data.
 */
export function encodedRule(
  family: NftFamily,
  table: string,
  chain: string,
  expressions: Uint8Array,
  comment: string | undefined,
  origin?: { readonly path: string; readonly line: number },
): EncodedMessage {
  const t = stringAttr(NftaRule.TABLE, table);
  const c = stringAttr(NftaRule.CHAIN, chain);
  // a UTF-8 character takes at most 3 bytes per UTF-16 unit; user data: header, type, length, text, NUL
  const max = t.length + c.length + expressions.length + (comment === undefined ? 0 : align4(NLA_HDRLEN + 3 + 3 * comment.length));
  const arena = ruleArena;
  arena.reserve(max);
  const b = arena.bytes;
  let o = put(b, arena.offset, t);
  o = put(b, o, c);
  o = put(b, o, expressions);
  if (comment !== undefined) {
    const start = o;
    const n = utf8.encodeInto(comment, b.subarray(start + NLA_HDRLEN + 2)).written;
    b[start + NLA_HDRLEN] = NftnlUdataRule.COMMENT;
    b[start + NLA_HDRLEN + 1] = (n + 1) & 0xff; // libnftnl's TLV length is one byte, as `tlv()` writes it
    b[start + NLA_HDRLEN + 2 + n] = 0;
    const len = NLA_HDRLEN + 2 + n + 1;
    header(b, start, len, NftaRule.USERDATA);
    o = start + len;
    while ((o & 3) !== 0) b[o++] = 0;
  }
  return new EncodedMessage(NftObjMsg.NEWRULE, family, NlmFlags.CREATE | NLM_F_APPEND, b, arena.take(o), o, table, chain, origin);
}

/** Bytes one element list may take in one message (as `elementMessages` splits: one attribute, less a margin). */
const MAX_LIST_BYTES = NLA_MAX_LEN - NLA_HDRLEN - 1024;
const elementArena = new ByteArena();

/** One kernel element of an interval set: a key (an address), optional flags and user data. */
interface KeyedElement {
  readonly address: bigint;
  readonly end: boolean;
  readonly open: boolean;
}

/** Writes `address` as a big-endian key of `len` bytes (4 or 16) at `at`. */
function writeAddress(b: Uint8Array, at: number, address: bigint, len: number): void {
  if (len === 4) {
    be32At(b, at, Number(address & 0xffffffffn));
    return;
  }
  be32At(b, at, Number((address >> 96n) & 0xffffffffn));
  be32At(b, at + 4, Number((address >> 64n) & 0xffffffffn));
  be32At(b, at + 8, Number((address >> 32n) & 0xffffffffn));
  be32At(b, at + 12, Number(address & 0xffffffffn));
}

/**
 * The NEWSETELEM messages that fill named interval set `s` (created in the same batch with
 * `setId`), byte for byte what `elementMessages(…, namedSetElements(s))` encodes to: nft's
 * leading `INTERVAL_END` at 0, then a start and an end element per interval (an interval to
 * the last address: the start with `INTERVAL_OPEN` user data), split into lists that fit one
 * attribute.
 */
export function encodedIntervalSetElements(family: NftFamily, table: string, s: NamedSet, setId: number | undefined): EncodedMessage[] {
  if (s.elements.length === 0) return [];
  const len = s.family === 4 ? 4 : 16;
  const max = (1n << BigInt(len * 8)) - 1n;
  const elems: KeyedElement[] = [];
  if ((s.elements[0] as AddrInterval).from !== 0n) elems.push({ address: 0n, end: true, open: false });
  for (const iv of s.elements) {
    if (iv.to >= max) elems.push({ address: iv.from, end: false, open: true });
    else elems.push({ address: iv.from, end: false, open: false }, { address: iv.to + 1n, end: true, open: false });
  }
  const t = stringAttr(NftaSetElemList.TABLE, table);
  const name = stringAttr(NftaSetElemList.SET, s.name);
  const out: EncodedMessage[] = [];
  const arena = elementArena;
  let b = arena.bytes;
  let listAt = 0; // where the NFTA_SET_ELEM_LIST_ELEMENTS header is
  let o = 0;
  let count = 0;
  let bytes = 0;
  const open = (): void => {
    arena.reserve(t.length + name.length + 8 + NLA_HDRLEN + NLA_MAX_LEN);
    b = arena.bytes;
    o = put(b, arena.offset, t);
    o = put(b, o, name);
    if (setId !== undefined) {
      header(b, o, NLA_HDRLEN + 4, NftaSetElemList.SET_ID);
      be32At(b, o + NLA_HDRLEN, setId);
      o += NLA_HDRLEN + 4;
    }
    listAt = o;
    o += NLA_HDRLEN;
    count = 0;
    bytes = 0;
  };
  const close = (): void => {
    header(b, listAt, o - listAt, NftaSetElemList.ELEMENTS | NLA_F_NESTED);
    out.push(new EncodedMessage(NftObjMsg.NEWSETELEM, family, NlmFlags.CREATE, b, arena.take(o), o, table, s.name));
  };
  const keyAttr = NLA_HDRLEN + NLA_HDRLEN + len;
  open();
  for (const e of elems) {
    const n = NLA_HDRLEN + (e.end ? NLA_HDRLEN + 4 : 0) + keyAttr + (e.open ? align4(NLA_HDRLEN + INTERVAL_OPEN_USERDATA.length) : 0);
    // the list position is counted before a split, as `elementMessages` numbers it
    const position = (count + 1) & 0x3fff || NFTA_LIST_ELEM;
    if (bytes + n > MAX_LIST_BYTES && count > 0) {
      close();
      open();
    }
    const start = o;
    header(b, start, n, position | NLA_F_NESTED);
    o += NLA_HDRLEN;
    if (e.end) {
      header(b, o, NLA_HDRLEN + 4, NftaSetElem.FLAGS);
      be32At(b, o + NLA_HDRLEN, NftSetElemFlag.INTERVAL_END);
      o += NLA_HDRLEN + 4;
    }
    header(b, o, keyAttr, NftaSetElem.KEY | NLA_F_NESTED);
    header(b, o + NLA_HDRLEN, NLA_HDRLEN + len, NftaData.VALUE);
    writeAddress(b, o + 2 * NLA_HDRLEN, e.address, len);
    o += keyAttr;
    if (e.open) {
      header(b, o, NLA_HDRLEN + INTERVAL_OPEN_USERDATA.length, NftaSetElem.USERDATA);
      b.set(INTERVAL_OPEN_USERDATA, o + NLA_HDRLEN);
      o += NLA_HDRLEN + INTERVAL_OPEN_USERDATA.length;
      while ((o & 3) !== 0) b[o++] = 0;
    }
    count++;
    bytes += n;
  }
  close();
  return out;
}
