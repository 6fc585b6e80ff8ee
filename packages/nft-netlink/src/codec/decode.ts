/**
 * Decoders for netlink answers (NLMSG_ERROR acks, `netlink.h` `struct nlmsgerr`) and for
 * nf_tables element messages (used for round trips and diagnostics). Pure functions over
 * bytes: they never throw on malformed input, they return `{ ok: false, error, offset }`, and
 * they refuse input beyond explicit size limits.
 */
import { readCString, view } from './bytes.js';
import {
  NFGENMSG_LEN,
  NFNL_SUBSYS_NFTABLES,
  NFTA_LIST_ELEM,
  NftaData,
  NftaSetElem,
  NftaSetElemList,
  NfProto,
  NftMsg,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  NlmFlags,
  NlmsgerrAttr,
  NlmsgType,
  NLMSG_HDRLEN,
  type NftFamily,
} from './constants.js';
import { align4 } from './bytes.js';
import type { RawSetElement, SetElemMessage } from './encode.js';

/**
 * What every decoder returns instead of throwing: the value, or the reason and the byte offset
 * where the input stopped making sense.
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string; readonly offset: number };

/** Limits of the decoders. */
export interface DecodeLimits {
  /** Largest input accepted, in bytes. Default `DEFAULT_DECODE_LIMITS.maxBytes` (8 MiB). */
  readonly maxBytes?: number;
  /** Most messages (or attributes) decoded from one input. Default 100,000. */
  readonly maxItems?: number;
}

/**
 * The limits used where `DecodeLimits` leaves one out; they bound what a malformed or hostile
 * input can make a decoder read and allocate.
 */
export const DEFAULT_DECODE_LIMITS = { maxBytes: 8 << 20, maxItems: 100_000 } as const;

const fail = (error: string, offset: number): { ok: false; error: string; offset: number } => ({ ok: false, error, offset });

/** One netlink message (`struct nlmsghdr`) with the payload after the header. */
export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Uint8Array;
}

/** The header of a netlink message, as echoed in an NLMSG_ERROR. */
export interface NetlinkHeader {
  readonly len: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

function readHeader(b: Uint8Array, at: number): NetlinkHeader {
  const v = view(b);
  return { len: v.getUint32(at, true), type: v.getUint16(at + 4, true), flags: v.getUint16(at + 6, true), seq: v.getUint32(at + 8, true), pid: v.getUint32(at + 12, true) };
}

/**
 * Splits a datagram (or a concatenation of whole messages) into netlink messages. The last
 * message may omit its alignment padding, as the kernel allows.
 */
export function decodeNetlinkMessages(bytes: Uint8Array, limits: DecodeLimits = {}): DecodeResult<NetlinkMessage[]> {
  const maxBytes = limits.maxBytes ?? DEFAULT_DECODE_LIMITS.maxBytes;
  const maxItems = limits.maxItems ?? DEFAULT_DECODE_LIMITS.maxItems;
  if (bytes.length > maxBytes) return fail(`input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`, 0);
  const out: NetlinkMessage[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < NLMSG_HDRLEN) return fail(`truncated message header (${bytes.length - at} of ${NLMSG_HDRLEN} bytes)`, at);
    const h = readHeader(bytes, at);
    if (h.len < NLMSG_HDRLEN) return fail(`nlmsg_len ${h.len} is shorter than the header`, at);
    if (h.len > bytes.length - at) return fail(`nlmsg_len ${h.len} runs past the end (${bytes.length - at} bytes left)`, at);
    if (out.length >= maxItems) return fail(`more than ${maxItems} messages`, at);
    out.push({ type: h.type, flags: h.flags, seq: h.seq, pid: h.pid, payload: bytes.subarray(at + NLMSG_HDRLEN, at + h.len) });
    at += Math.min(align4(h.len), bytes.length - at);
  }
  return { ok: true, value: out };
}

/** An NLMSG_ERROR: `error` 0 is an ack, otherwise the request failed with errno `-error`. */
export interface NetlinkAck {
  /** Positive errno, 0 for success. */
  readonly errno: number;
  /** The header of the request this answers. */
  readonly request: NetlinkHeader;
  /** `NLMSGERR_ATTR_MSG`: the kernel's extended-ack text (needs `NETLINK_EXT_ACK` on the socket). */
  readonly message?: string;
  /** `NLMSGERR_ATTR_OFFS`: byte offset in the request of the attribute at fault. */
  readonly offset?: number;
}

/** Decodes the payload of an NLMSG_ERROR message (`struct nlmsgerr` and optional ext-ack TLVs). */
export function decodeAck(msg: NetlinkMessage): DecodeResult<NetlinkAck> {
  if (msg.type !== NlmsgType.ERROR) return fail(`message type ${msg.type} is not NLMSG_ERROR`, 0);
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) return fail(`NLMSG_ERROR payload of ${p.length} bytes (at least ${4 + NLMSG_HDRLEN})`, 0);
  const error = view(p).getInt32(0, true);
  if (error > 0) return fail(`NLMSG_ERROR with positive error ${error}`, 0);
  const request = readHeader(p, 4);
  const ack: { errno: number; request: NetlinkHeader; message?: string; offset?: number } = { errno: error === 0 ? 0 : -error, request };
  if ((msg.flags & NlmFlags.ACK_TLVS) !== 0) {
    // The echoed request is the whole message unless capped (or the ack is a success).
    const echoed = error === 0 || (msg.flags & NlmFlags.CAPPED) !== 0 ? NLMSG_HDRLEN : request.len;
    const start = 4 + align4(echoed);
    if (start > p.length) return fail(`extended ack starts past the end of the payload`, start);
    const attrs = decodeAttributes(p.subarray(start));
    if (!attrs.ok) return fail(`extended ack: ${attrs.error}`, start + attrs.offset);
    for (const a of attrs.value) {
      if (a.type === NlmsgerrAttr.MSG) ack.message = readCString(a.value);
      else if (a.type === NlmsgerrAttr.OFFS && a.value.length >= 4) ack.offset = view(a.value).getUint32(0, true);
    }
  }
  return { ok: true, value: ack };
}

/** One attribute (`struct nlattr`): the type without flag bits, the flags, the value bytes. */
export interface NetlinkAttribute {
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  readonly value: Uint8Array;
}

/** Splits bytes into attributes; the last one may omit its padding. */
export function decodeAttributes(bytes: Uint8Array, limits: DecodeLimits = {}): DecodeResult<NetlinkAttribute[]> {
  const maxBytes = limits.maxBytes ?? DEFAULT_DECODE_LIMITS.maxBytes;
  const maxItems = limits.maxItems ?? DEFAULT_DECODE_LIMITS.maxItems;
  if (bytes.length > maxBytes) return fail(`input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`, 0);
  const v = view(bytes);
  const out: NetlinkAttribute[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < NLA_HDRLEN) return fail(`truncated attribute header (${bytes.length - at} of ${NLA_HDRLEN} bytes)`, at);
    const len = v.getUint16(at, true);
    const rawType = v.getUint16(at + 2, true);
    if (len < NLA_HDRLEN) return fail(`nla_len ${len} is shorter than the header`, at);
    if (len > bytes.length - at) return fail(`nla_len ${len} runs past the end (${bytes.length - at} bytes left)`, at);
    if (out.length >= maxItems) return fail(`more than ${maxItems} attributes`, at);
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      value: bytes.subarray(at + NLA_HDRLEN, at + len),
    });
    at += Math.min(align4(len), bytes.length - at);
  }
  return { ok: true, value: out };
}

const FAMILY_BY_PROTO = new Map<number, NftFamily>(
  Object.entries(NfProto).filter(([k]) => k !== 'unspec').map(([k, v]) => [v, k as NftFamily]),
);

/** Decodes an `NFT_MSG_NEWSETELEM` / `NFT_MSG_DELSETELEM` request (the inverse of the encoder). */
export function decodeSetElemMessage(msg: NetlinkMessage): DecodeResult<SetElemMessage> {
  if (msg.type >> 8 !== NFNL_SUBSYS_NFTABLES) return fail(`message type 0x${msg.type.toString(16)} is not nf_tables`, 0);
  const t = msg.type & 0xff;
  if (t !== NftMsg.NEWSETELEM && t !== NftMsg.DELSETELEM) return fail(`nf_tables message ${t} is not NEWSETELEM/DELSETELEM`, 0);
  if (msg.payload.length < NFGENMSG_LEN) return fail(`payload of ${msg.payload.length} bytes has no nfgenmsg`, 0);
  const family = FAMILY_BY_PROTO.get(msg.payload[0] ?? 0);
  if (family === undefined) return fail(`unknown nfgen_family ${msg.payload[0]}`, 0);
  const attrs = decodeAttributes(msg.payload.subarray(NFGENMSG_LEN));
  if (!attrs.ok) return fail(attrs.error, NFGENMSG_LEN + attrs.offset);
  let table: string | undefined;
  let set: string | undefined;
  let setId: number | undefined;
  let elements: RawSetElement[] = [];
  for (const a of attrs.value) {
    if (a.type === NftaSetElemList.TABLE) table = readCString(a.value);
    else if (a.type === NftaSetElemList.SET) set = readCString(a.value);
    else if (a.type === NftaSetElemList.SET_ID) {
      if (a.value.length !== 4) return fail(`NFTA_SET_ELEM_LIST_SET_ID of ${a.value.length} bytes`, 0);
      setId = view(a.value).getUint32(0, false);
    } else if (a.type === NftaSetElemList.ELEMENTS) {
      const list = decodeElementList(a.value);
      if (!list.ok) return list;
      elements = list.value;
    }
  }
  if (table === undefined || set === undefined) return fail('element message without table or set name', 0);
  const base = { op: t === NftMsg.NEWSETELEM ? ('add' as const) : ('delete' as const), family, table, set, elements };
  return { ok: true, value: setId === undefined ? base : { ...base, setId } };
}

function decodeElementList(bytes: Uint8Array): DecodeResult<RawSetElement[]> {
  const items = decodeAttributes(bytes);
  if (!items.ok) return items;
  const out: RawSetElement[] = [];
  for (const item of items.value) {
    // libnftnl numbers list entries 1, 2, 3, ...; the kernel ignores the type.
    if (!item.nested && item.type !== NFTA_LIST_ELEM) return fail('list element is not nested', 0);
    const attrs = decodeAttributes(item.value);
    if (!attrs.ok) return attrs;
    let key: Uint8Array | undefined;
    let flags: number | undefined;
    let userdata: Uint8Array | undefined;
    for (const a of attrs.value) {
      if (a.type === NftaSetElem.KEY) {
        const data = decodeAttributes(a.value);
        if (!data.ok) return data;
        key = data.value.find((d) => d.type === NftaData.VALUE)?.value;
      } else if (a.type === NftaSetElem.FLAGS) {
        if (a.value.length !== 4) return fail(`NFTA_SET_ELEM_FLAGS of ${a.value.length} bytes`, 0);
        flags = view(a.value).getUint32(0, false);
      } else if (a.type === NftaSetElem.USERDATA) userdata = a.value;
    }
    if (key === undefined) return fail('set element without key', 0);
    const e: { key: Uint8Array; flags?: number; userdata?: Uint8Array } = { key: Uint8Array.from(key) };
    if (flags !== undefined) e.flags = flags;
    if (userdata !== undefined) e.userdata = Uint8Array.from(userdata);
    out.push(e);
  }
  return { ok: true, value: out };
}

/**
 * Reassembles netlink messages from a byte stream cut at arbitrary points (a pipe, a file of
 * captured messages). Complete messages come out of `push`; at most `maxPendingBytes` (default
 * 1 MiB) of an incomplete message are held, beyond that `push` fails and the decoder is done.
 */
export interface NetlinkStreamDecoder {
  push(chunk: Uint8Array): DecodeResult<NetlinkMessage[]>;
  /** Bytes held for a message not yet complete. */
  readonly pendingBytes: number;
}

/**
 * Creates a `NetlinkStreamDecoder`. Messages it returns are copies, not views of the chunks;
 * after a failure every `push` returns that failure again, so the caller starts a new decoder.
 */
export function createNetlinkStreamDecoder(options: { readonly maxPendingBytes?: number } = {}): NetlinkStreamDecoder {
  const maxPending = options.maxPendingBytes ?? 1 << 20;
  let pending = new Uint8Array(0);
  let failed: { ok: false; error: string; offset: number } | undefined;
  return {
    get pendingBytes() {
      return pending.length;
    },
    push(chunk) {
      if (failed) return failed;
      const buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending);
      buf.set(chunk, pending.length);
      let end = 0;
      // find the longest prefix made of whole messages (padding included)
      while (buf.length - end >= NLMSG_HDRLEN) {
        const len = view(buf).getUint32(end, true);
        if (len < NLMSG_HDRLEN) return (failed = fail(`nlmsg_len ${len} is shorter than the header`, end));
        if (len > maxPending) return (failed = fail(`message of ${len} bytes exceeds the limit of ${maxPending}`, end));
        if (align4(len) > buf.length - end) break;
        end += align4(len);
      }
      const whole = decodeNetlinkMessages(buf.subarray(0, end), { maxBytes: Number.MAX_SAFE_INTEGER });
      if (!whole.ok) return (failed = whole);
      pending = buf.slice(end);
      if (pending.length > maxPending) return (failed = fail(`${pending.length} pending bytes exceed the limit of ${maxPending}`, end));
      return { ok: true, value: whole.value.map((m) => ({ ...m, payload: Uint8Array.from(m.payload) })) };
    },
  };
}
