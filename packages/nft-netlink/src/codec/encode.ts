/**
 * Encoders for nfnetlink batches that add and delete nf_tables set elements. Pure: they
 * return bytes. Layouts follow the kernel UAPI headers cited in `constants.ts`; the exact
 * bytes were checked against what nft 1.0.6 sends (see `codec.test.ts` fixtures).
 *
 * A batch is `NFNL_MSG_BATCH_BEGIN`, the element messages, `NFNL_MSG_BATCH_END`, in one
 * datagram; the kernel applies it as one transaction (all messages or none).
 */
import { align4, be32, concat, cString, view } from './bytes.js';
import {
  NFGENMSG_LEN,
  NFNETLINK_V0,
  NFNL_SUBSYS_NFTABLES,
  NFT_NAME_MAXLEN,
  NFTA_LIST_ELEM,
  NftaData,
  NftaSetElem,
  NftaSetElemList,
  NfnlMsg,
  NfProto,
  NftMsg,
  NLA_F_NESTED,
  NLA_HDRLEN,
  NLA_MAX_LEN,
  NlmFlags,
  NLMSG_HDRLEN,
  type NftFamily,
} from './constants.js';

/** One set element as the kernel sees it: a key, optional element flags and user data. */
export interface RawSetElement {
  /** The key bytes in network byte order (4 for `ipv4_addr`, 16 for `ipv6_addr`). */
  readonly key: Uint8Array;
  /** `NFTA_SET_ELEM_FLAGS` (bits of `NftSetElemFlag`); omitted from the wire when undefined. */
  readonly flags?: number;
  /** `NFTA_SET_ELEM_USERDATA`, opaque to the kernel. */
  readonly userdata?: Uint8Array;
}

/** One `NFT_MSG_NEWSETELEM` (`add`) or `NFT_MSG_DELSETELEM` (`delete`) message. */
export interface SetElemMessage {
  readonly op: 'add' | 'delete';
  readonly family: NftFamily;
  readonly table: string;
  readonly set: string;
  /** `NFTA_SET_ELEM_LIST_SET_ID`: only needed for a set created in the same batch. */
  readonly setId?: number;
  readonly elements: readonly RawSetElement[];
}

/** Options of `encodeSetElemBatch`. */
export interface EncodeBatchOptions {
  /** `nlmsg_seq` of BATCH_BEGIN; the following messages count up from it. Default 0. */
  readonly seq?: number;
  /** Request an NLMSG_ERROR ack (error 0 on success) for every element message. Default true. */
  readonly ack?: boolean;
}

/** Where each message of an encoded batch sits, to map kernel answers back to requests. */
export interface BatchMessageInfo {
  readonly seq: number;
  /** 0 is BATCH_BEGIN, 1..n the element messages, n+1 BATCH_END. */
  readonly index: number;
  /** `object`: a table/chain/rule/set/element/object message of `encodeNftBatch`. */
  readonly kind: 'begin' | 'end' | 'add' | 'delete' | 'object';
  readonly family?: NftFamily;
  /** `object` messages: what the message does, for error reports. */
  readonly what?: string;
  /** `object` messages: the source document and line of a rule. */
  readonly origin?: { readonly path: string; readonly line: number };
  readonly table?: string;
  readonly set?: string;
  readonly elementCount?: number;
}

/** One encoded batch: its bytes and what to expect back. */
export interface EncodedBatch {
  readonly bytes: Uint8Array;
  /** BATCH_BEGIN, every message, BATCH_END, by position (`seq - beginSeq`). */
  readonly messages: readonly BatchMessageInfo[];
  /** Messages between BATCH_BEGIN and BATCH_END (known without building `messages`). */
  readonly messageCount?: number;
  /** Sequence numbers that will be answered by an ack (element messages sent with NLM_F_ACK). */
  readonly ackSeqs: readonly number[];
  readonly beginSeq: number;
  readonly endSeq: number;
}

/** Thrown-free validation result of the encoder. */
export type EncodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** An attribute: header (`nla_len` u16, `nla_type` u16) and value, padded to 4 bytes. */
export function encodeAttr(type: number, value: Uint8Array): Uint8Array {
  const len = NLA_HDRLEN + value.length;
  const out = new Uint8Array(align4(len));
  const v = view(out);
  v.setUint16(0, len, true);
  v.setUint16(2, type, true);
  out.set(value, NLA_HDRLEN);
  return out;
}

/** A nested attribute (`NLA_F_NESTED` set) around already encoded attributes. */
export function encodeNested(type: number, children: readonly Uint8Array[]): Uint8Array {
  return encodeAttr(type | NLA_F_NESTED, concat(children));
}

/** A netlink message: `struct nlmsghdr` + `struct nfgenmsg` + attributes. */
function nfnlMessage(type: number, flags: number, seq: number, family: number, resId: number, attrs: readonly Uint8Array[]): Uint8Array {
  const body = concat(attrs);
  const len = NLMSG_HDRLEN + NFGENMSG_LEN + body.length;
  const out = new Uint8Array(len);
  const v = view(out);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, 0, true); // nlmsg_pid: 0, the kernel fills in the sender's port
  out[16] = family;
  out[17] = NFNETLINK_V0;
  v.setUint16(18, resId, false); // res_id is big-endian (nfnetlink.h: __be16 res_id)
  out.set(body, NLMSG_HDRLEN + NFGENMSG_LEN);
  return out;
}

/** One element as an `NFTA_LIST_ELEM` (its list position `n`, counted from 1 as libnftnl does). */
export function encodeElement(e: RawSetElement, n: number): Uint8Array {
  const attrs: Uint8Array[] = [];
  if (e.flags !== undefined) attrs.push(encodeAttr(NftaSetElem.FLAGS, be32(e.flags)));
  attrs.push(encodeNested(NftaSetElem.KEY, [encodeAttr(NftaData.VALUE, e.key)]));
  if (e.userdata !== undefined) attrs.push(encodeAttr(NftaSetElem.USERDATA, e.userdata));
  return encodeNested(n & 0x3fff || NFTA_LIST_ELEM, attrs);
}

/** Encoded size of one element inside `NFTA_SET_ELEM_LIST_ELEMENTS`, in bytes. */
export function encodedElementBytes(e: RawSetElement): number {
  let n = NLA_HDRLEN + NLA_HDRLEN + NLA_HDRLEN + align4(e.key.length);
  if (e.flags !== undefined) n += NLA_HDRLEN + 4;
  if (e.userdata !== undefined) n += NLA_HDRLEN + align4(e.userdata.length);
  return n;
}

function validateName(what: string, name: string): string | undefined {
  const len = new TextEncoder().encode(name).length;
  if (len === 0) return `${what} name is empty`;
  if (len >= NFT_NAME_MAXLEN) return `${what} name "${name.slice(0, 40)}…" is ${len} bytes (at most ${NFT_NAME_MAXLEN - 1})`;
  if (name.includes('\0')) return `${what} name contains a NUL byte`;
  return undefined;
}

/**
 * Encodes a batch of element messages. Fails (as a result, not an exception) on an empty or
 * too long table/set name, an unknown family, an empty or too long key, an element list that
 * does not fit one attribute (64 KiB; split it with `planSetElementMessages`).
 */
export function encodeSetElemBatch(messages: readonly SetElemMessage[], options: EncodeBatchOptions = {}): EncodeResult<EncodedBatch> {
  const seq0 = options.seq ?? 0;
  const ack = options.ack ?? true;
  const parts: Uint8Array[] = [];
  const infos: BatchMessageInfo[] = [];
  const ackSeqs: number[] = [];
  parts.push(nfnlMessage(NfnlMsg.BATCH_BEGIN, NlmFlags.REQUEST, seq0, NfProto.unspec, NFNL_SUBSYS_NFTABLES, []));
  infos.push({ seq: seq0 >>> 0, index: 0, kind: 'begin' });
  for (const [i, m] of messages.entries()) {
    const bad = validateName('table', m.table) ?? validateName('set', m.set);
    if (bad !== undefined) return { ok: false, error: `message ${i + 1}: ${bad}` };
    const proto = (NfProto as Record<string, number>)[m.family];
    if (proto === undefined || (m.family as string) === 'unspec') return { ok: false, error: `message ${i + 1}: unknown family "${m.family}"` };
    if (m.elements.length === 0) return { ok: false, error: `message ${i + 1}: no elements` };
    const elems: Uint8Array[] = [];
    for (const [j, e] of m.elements.entries()) {
      if (e.key.length === 0 || e.key.length > 64) return { ok: false, error: `message ${i + 1} element ${j + 1}: key of ${e.key.length} bytes (1..64)` };
      elems.push(encodeElement(e, j + 1));
    }
    const list = encodeNested(NftaSetElemList.ELEMENTS, elems);
    if (NLA_HDRLEN + elems.reduce((n, e) => n + e.length, 0) > NLA_MAX_LEN) {
      return { ok: false, error: `message ${i + 1}: ${m.elements.length} elements do not fit one attribute of ${NLA_MAX_LEN} bytes` };
    }
    const attrs = [encodeAttr(NftaSetElemList.TABLE, cString(m.table)), encodeAttr(NftaSetElemList.SET, cString(m.set))];
    if (m.setId !== undefined) attrs.push(encodeAttr(NftaSetElemList.SET_ID, be32(m.setId)));
    attrs.push(list);
    const seq = (seq0 + i + 1) >>> 0;
    const type = (NFNL_SUBSYS_NFTABLES << 8) | (m.op === 'add' ? NftMsg.NEWSETELEM : NftMsg.DELSETELEM);
    const flags = NlmFlags.REQUEST | (m.op === 'add' ? NlmFlags.CREATE : 0) | (ack ? NlmFlags.ACK : 0);
    parts.push(nfnlMessage(type, flags, seq, proto, 0, attrs));
    infos.push({ seq, index: i + 1, kind: m.op, family: m.family, table: m.table, set: m.set, elementCount: m.elements.length });
    if (ack) ackSeqs.push(seq);
  }
  const endSeq = (seq0 + messages.length + 1) >>> 0;
  parts.push(nfnlMessage(NfnlMsg.BATCH_END, NlmFlags.REQUEST, endSeq, NfProto.unspec, NFNL_SUBSYS_NFTABLES, []));
  infos.push({ seq: endSeq, index: messages.length + 1, kind: 'end' });
  return { ok: true, value: { bytes: concat(parts), messages: infos, ackSeqs, beginSeq: seq0 >>> 0, endSeq } };
}
