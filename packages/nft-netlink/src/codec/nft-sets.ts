/**
 * Sets as nft 1.0.6 declares and fills them: named address sets and meters, the shared constant
 * sets of port and ICMP type lists (`ValueSet`), their elements (split so no element list
 * exceeds one attribute), and the small byte helpers lowering shares. Pure.
 */
import type { AddrInterval, NamedSet, Table, ValueSet } from '@palisade/nft-ir';
import { aBytes, aNest, aStr, aU32, aU64, attrBytes, type Attr } from './attrs.js';
import { concat, encodeText } from './bytes.js';
import { NFTA_LIST_ELEM, NftaData, NftaSetElem, NftaSetElemList, NftSetElemFlag, NLA_MAX_LEN, NlmFlags, NLA_HDRLEN, type NftFamily } from './constants.js';
import { INTERVAL_OPEN_USERDATA, addressKey } from './elements.js';
import { NftaSet, NftaSetDesc, NftByteorder, NftDatatype, NftnlUdataSet, NftObjMsg, NftSetFlag } from './nft-constants.js';
import type { NftMessage } from './nft-messages.js';

/** Allocates `NFTA_SET_ID`s: unique within one batch (the kernel matches them per transaction). */
export interface SetIdAllocator {
  next(): number;
}
/**
 * Creates an allocator counting from `start`. Use one per batch: the kernel resolves a set ID
 * only within the transaction that declares it.
 */
export function createSetIdAllocator(start = 1): SetIdAllocator {
  let n = start;
  return { next: () => n++ };
}


/** libnftnl TLV user data: type u8, length u8, value. */
export function tlv(type: number, value: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(type, value.length), value]);
}
/**
 * A u32 in little-endian (host) order, as libnftnl user data stores numbers (key byte order,
 * typeof fields), unlike the big-endian values of nf_tables attributes.
 */
export const le32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};

/** One byte, for 1-byte keys and operands (L4 protocol, ICMP type, nfproto); higher bits are dropped. */
export function u8(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff);
}
/** A u16 in network byte order, for ports, EtherTypes and a ct helper's L3 protocol; higher bits are dropped. */
export function be16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

/** `family/table/set` key of `LowerContext.newSets`. */
export const setKey = (family: string, table: string, set: string): string => `${family}/${table}/${set}`;

/** The element attributes of one set element. */
export function elementAttrs(e: { readonly key: Uint8Array; readonly flags?: number; readonly userdata?: Uint8Array }): Attr[] {
  const out: Attr[] = [];
  if (e.flags !== undefined) out.push(aU32(NftaSetElem.FLAGS, e.flags));
  out.push(aNest(NftaSetElem.KEY, [aBytes(NftaData.VALUE, e.key)]));
  if (e.userdata !== undefined) out.push(aBytes(NftaSetElem.USERDATA, e.userdata));
  return out;
}

/** Bytes one element list may take in one message (the list is one attribute with a u16 length). */
const MAX_LIST_BYTES = NLA_MAX_LEN - NLA_HDRLEN - 1024;

/**
 * NEWSETELEM (or DELSETELEM) messages carrying `elements` (each the attributes of one
 * `NFTA_LIST_ELEM`), split so no list exceeds one attribute. An interval's start and end
 * element stay together when `pairs` is set.
 */
export function elementMessages(family: NftFamily, table: string, set: string, setId: number | undefined, elements: readonly (readonly Attr[])[], op: 'add' | 'delete' = 'add'): NftMessage[] {
  const out: NftMessage[] = [];
  let batch: Attr[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const attrs: Attr[] = [aStr(NftaSetElemList.TABLE, table), aStr(NftaSetElemList.SET, set)];
    if (setId !== undefined) attrs.push(aU32(NftaSetElemList.SET_ID, setId));
    attrs.push(aNest(NftaSetElemList.ELEMENTS, batch));
    out.push({
      msg: op === 'add' ? NftObjMsg.NEWSETELEM : NftObjMsg.DELSETELEM,
      family,
      flags: op === 'add' ? NlmFlags.CREATE : 0,
      attrs,
      what: `${op === 'add' ? 'add elements to' : 'delete elements from'} set ${family} ${table} ${set}`,
    });
    batch = [];
    bytes = 0;
  };
  for (const e of elements) {
    // libnftnl numbers the entries of a list 1, 2, 3, ... (the kernel ignores the type)
    const a = aNest((batch.length + 1) & 0x3fff || NFTA_LIST_ELEM, e);
    const n = attrBytes(a);
    if (bytes + n > MAX_LIST_BYTES) flush();
    batch.push(a);
    bytes += n;
  }
  flush();
  return out;
}

/** The kernel elements of a named interval set: nft's leading `INTERVAL_END` at 0, then start/end pairs. */
export function namedSetElements(s: NamedSet): Attr[][] {
  if (s.elements.length === 0) return [];
  const len = s.family === 4 ? 4 : 16;
  const max = (1n << BigInt(len * 8)) - 1n;
  const out: Attr[][] = [];
  if ((s.elements[0] as AddrInterval).from !== 0n) out.push(elementAttrs({ key: new Uint8Array(len), flags: NftSetElemFlag.INTERVAL_END }));
  for (const iv of s.elements) out.push(...intervalElementAttrs(iv, max));
  return out;
}

/** The one or two element attribute lists of one interval. */
export function intervalElementAttrs(iv: AddrInterval, max: bigint = iv.family === 4 ? 0xffffffffn : (1n << 128n) - 1n): Attr[][] {
  if (iv.to >= max) return [elementAttrs({ key: addressKey(iv.family, iv.from), userdata: INTERVAL_OPEN_USERDATA })];
  return [elementAttrs({ key: addressKey(iv.family, iv.from) }), elementAttrs({ key: addressKey(iv.family, iv.to + 1n), flags: NftSetElemFlag.INTERVAL_END })];
}

/** NEWSET of a named set (interval address set or synflood meter), as nft declares it. */
export function newNamedSet(family: NftFamily, table: string, s: NamedSet, id: number): NftMessage {
  const attrs: Attr[] = [aStr(NftaSet.TABLE, table), aStr(NftaSet.NAME, s.name)];
  const keyType = s.family === 4 ? NftDatatype.ipv4_addr : NftDatatype.ipv6_addr;
  const keyLen = s.family === 4 ? 4 : 16;
  const udParts = [tlv(NftnlUdataSet.KEYBYTEORDER, le32(NftByteorder.BIG))];
  if (s.comment !== undefined) udParts.push(tlv(NftnlUdataSet.COMMENT, concat([encodeText(s.comment), Uint8Array.of(0)])));
  if (s.kind === 'interval') {
    attrs.push(aU32(NftaSet.FLAGS, NftSetFlag.INTERVAL), aU32(NftaSet.KEY_TYPE, keyType), aU32(NftaSet.KEY_LEN, keyLen), aU32(NftaSet.ID, id));
  } else {
    attrs.push(aU32(NftaSet.FLAGS, NftSetFlag.TIMEOUT | NftSetFlag.EVAL), aU32(NftaSet.KEY_TYPE, keyType), aU32(NftaSet.KEY_LEN, keyLen), aU32(NftaSet.ID, id));
    if (s.size !== undefined) attrs.push(aNest(NftaSet.DESC, [aU32(NftaSetDesc.SIZE, s.size)]));
    if (s.timeoutS !== undefined) attrs.push(aU64(NftaSet.TIMEOUT, BigInt(s.timeoutS) * 1000n));
  }
  attrs.push(aBytes(NftaSet.USERDATA, concat(udParts)));
  return { msg: NftObjMsg.NEWSET, family, flags: NlmFlags.CREATE, attrs, what: `add set ${family} ${table} ${s.name}` };
}

const VALUE_SET_KEY: Readonly<Record<ValueSet['type'], { type: number; len: number }>> = {
  inet_service: { type: NftDatatype.inet_service, len: 2 },
  icmp_type: { type: NftDatatype.icmp_type, len: 1 },
  icmpv6_type: { type: NftDatatype.icmpv6_type, len: 1 },
};
const valueBytes = (v: number, len: number): Uint8Array => (len === 2 ? be16(v) : u8(v));
const isIntervalSet = (s: ValueSet): boolean => s.ranges.some(([a, b]) => a !== b);

/** NEWSET of a shared constant set (`type inet_service`, `flags interval` when it holds a range), as nft declares it. */
export function newValueSet(family: NftFamily, table: string, s: ValueSet, id: number): NftMessage {
  const key = VALUE_SET_KEY[s.type];
  const attrs: Attr[] = [
    aStr(NftaSet.TABLE, table),
    aStr(NftaSet.NAME, s.name),
    aU32(NftaSet.FLAGS, isIntervalSet(s) ? NftSetFlag.INTERVAL : 0),
    aU32(NftaSet.KEY_TYPE, key.type),
    aU32(NftaSet.KEY_LEN, key.len),
    aU32(NftaSet.ID, id),
    aBytes(NftaSet.USERDATA, tlv(NftnlUdataSet.KEYBYTEORDER, le32(NftByteorder.BIG))),
  ];
  return { msg: NftObjMsg.NEWSET, family, flags: NlmFlags.CREATE, attrs, what: `add set ${family} ${table} ${s.name}` };
}

/** The kernel elements of a shared constant set (an interval set as nft sends one: leading `INTERVAL_END` at 0, start/end pairs). */
export function valueSetElements(s: ValueSet): Attr[][] {
  const len = VALUE_SET_KEY[s.type].len;
  if (!isIntervalSet(s)) return s.ranges.map(([a]) => elementAttrs({ key: valueBytes(a, len) }));
  const max = len === 2 ? 0xffff : 0xff;
  const out: Attr[][] = [];
  if ((s.ranges[0]?.[0] ?? 0) !== 0) out.push(elementAttrs({ key: new Uint8Array(len), flags: NftSetElemFlag.INTERVAL_END }));
  for (const [a, b] of s.ranges) {
    if (b >= max) out.push(elementAttrs({ key: valueBytes(a, len), userdata: INTERVAL_OPEN_USERDATA }));
    else out.push(elementAttrs({ key: valueBytes(a, len) }), elementAttrs({ key: valueBytes(b + 1, len), flags: NftSetElemFlag.INTERVAL_END }));
  }
  return out;
}

/** NEWSET and NEWSETELEM messages of the shared constant sets of `t`, their IDs recorded in `newSets`. */
export function lowerValueSets(family: NftFamily, t: Table, ids: SetIdAllocator, newSets: Map<string, number>): NftMessage[] {
  const out: NftMessage[] = [];
  for (const s of t.valueSets ?? []) {
    const id = ids.next();
    newSets.set(setKey(family, t.name, s.name), id);
    out.push(newValueSet(family, t.name, s, id), ...elementMessages(family, t.name, s.name, id, valueSetElements(s)));
  }
  return out;
}

