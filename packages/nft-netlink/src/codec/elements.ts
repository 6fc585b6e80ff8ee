/**
 * From Palisade's address intervals to nf_tables interval-set elements, the way nft 1.0.6
 * sends them for a `flags interval` set of `ipv4_addr` / `ipv6_addr` (checked with
 * `nft --debug=netlink` and strace): the interval [from, to] is a start element with key
 * `from` and no flags, and an end element with key `to + 1` and `NFT_SET_ELEM_INTERVAL_END`
 * (the rbtree backend stores half-open ranges). An interval that runs to the last address has
 * no end element; nft marks its start with `NFTNL_SET_ELEM_F_INTERVAL_OPEN` user data.
 * (`NFTA_SET_ELEM_KEY_END` is only used by nft for concatenated keys, pipapo sets.)
 */
import type { AddrInterval, SetElementChange } from '@palisade/nft-ir';
import {
  NftnlUdata,
  NftSetElemFlag,
  NLA_HDRLEN,
  NLA_MAX_LEN,
  type NftFamily,
} from './constants.js';
import { encodedElementBytes, type RawSetElement, type SetElemMessage } from './encode.js';

/** Key length of an address family, in bytes. */
export const keyBytes = (family: 4 | 6): number => (family === 4 ? 4 : 16);

/** An address as a big-endian key of its family's width. */
export function addressKey(family: 4 | 6, address: bigint): Uint8Array {
  const n = keyBytes(family);
  const out = new Uint8Array(n);
  let a = address;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(a & 0xffn);
    a >>= 8n;
  }
  return out;
}

/** The address of a big-endian key. */
export function keyAddress(key: Uint8Array): bigint {
  let a = 0n;
  for (const b of key) a = (a << 8n) | BigInt(b);
  return a;
}

/** `NFTNL_UDATA_SET_ELEM_FLAGS` = `NFTNL_SET_ELEM_F_INTERVAL_OPEN`: type u8, length u8, u32 in host order. */
export const INTERVAL_OPEN_USERDATA: Uint8Array = Uint8Array.of(NftnlUdata.SET_ELEM_FLAGS, 4, NftnlUdata.SET_ELEM_F_INTERVAL_OPEN, 0, 0, 0);

/** The one or two kernel elements of one interval (start, then end unless open-ended). */
export function intervalElements(iv: AddrInterval): RawSetElement[] {
  const max = (1n << BigInt(keyBytes(iv.family) * 8)) - 1n;
  if (iv.to >= max) return [{ key: addressKey(iv.family, iv.from), userdata: INTERVAL_OPEN_USERDATA }];
  return [{ key: addressKey(iv.family, iv.from) }, { key: addressKey(iv.family, iv.to + 1n), flags: NftSetElemFlag.INTERVAL_END }];
}

/** A change of one interval set: `SetElementChange` of `@palisade/nft-ir`, which the compiler's `diffSetElements` returns (one type, not a copy). */
export type IntervalSetChange = SetElementChange;

/** Options of `planSetElementMessages`. */
export interface PlanOptions {
  /**
   * Upper bound for the bytes of one message's element list. Default and maximum
   * `NLA_MAX_LEN - NLA_HDRLEN` (the list is one attribute with a u16 length); longer lists
   * are split into several messages of the same batch.
   */
  readonly maxListBytes?: number;
}

/**
 * The element messages that apply `changes`: every deletion before any addition (a new
 * interval may overlap one that goes), each set's intervals in the given order, long lists
 * split into several messages. The start and end element of an interval stay in one message.
 */
export function planSetElementMessages(changes: readonly IntervalSetChange[], options: PlanOptions = {}): SetElemMessage[] {
  const limit = Math.min(options.maxListBytes ?? NLA_MAX_LEN - NLA_HDRLEN, NLA_MAX_LEN - NLA_HDRLEN);
  const out: SetElemMessage[] = [];
  const emit = (op: 'add' | 'delete', c: IntervalSetChange, ivs: readonly AddrInterval[]): void => {
    let elements: RawSetElement[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (elements.length > 0) out.push({ op, family: c.family as NftFamily, table: c.table, set: c.set, elements });
      elements = [];
      bytes = 0;
    };
    for (const iv of ivs) {
      const es = intervalElements(iv);
      const n = es.reduce((s, e) => s + encodedElementBytes(e), 0);
      if (bytes + n > limit) flush();
      elements.push(...es);
      bytes += n;
    }
    flush();
  };
  for (const c of changes) emit('delete', c, c.removed);
  for (const c of changes) emit('add', c, c.added);
  return out;
}
