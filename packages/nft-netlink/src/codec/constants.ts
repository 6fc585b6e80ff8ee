/**
 * Wire constants of netlink, nfnetlink and nf_tables as far as set element updates need them.
 * Values are those of the kernel UAPI headers (Linux 6.x, unchanged since 5.x):
 * `/usr/include/linux/netlink.h`, `/usr/include/linux/netfilter/nfnetlink.h`,
 * `/usr/include/linux/netfilter/nf_tables.h` and `/usr/include/linux/netfilter.h`.
 */

/** `netlink.h`: the netlink protocol of nfnetlink (`NETLINK_NETFILTER`). */
export const NETLINK_NETFILTER = 12;

/** `netlink.h`: `struct nlmsghdr` is 16 bytes; messages and attributes align to 4 bytes. */
export const NLMSG_HDRLEN = 16;
/** `netlink.h`: `struct nlattr` (u16 length, u16 type) is 4 bytes; an attribute's value follows it. */
export const NLA_HDRLEN = 4;
/** `netlink.h` `NLMSG_ALIGNTO`/`NLA_ALIGNTO`: messages and attributes are padded to a multiple of this many bytes (`align4`). */
export const NL_ALIGNTO = 4;

/** `netlink.h`: `nlmsg_flags` bits used here. */
export const NlmFlags = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  /** Set on an NLMSG_ERROR whose echoed request was capped to its header. */
  CAPPED: 0x100,
  /** Set on an NLMSG_ERROR that carries extended ack TLVs after the request. */
  ACK_TLVS: 0x200,
  CREATE: 0x400,
  EXCL: 0x200,
} as const;

/** `netlink.h`: control message types (`NLMSG_MIN_TYPE` is 0x10). */
export const NlmsgType = {
  NOOP: 0x1,
  ERROR: 0x2,
  DONE: 0x3,
  OVERRUN: 0x4,
} as const;
/** One of the control message types. */
export type NlmsgType = (typeof NlmsgType)[keyof typeof NlmsgType];

/** `netlink.h` `enum nlmsgerr_attrs`: extended ack TLVs after an NLMSG_ERROR. */
export const NlmsgerrAttr = {
  MSG: 1,
  OFFS: 2,
} as const;

/** `netlink.h`: attribute type flags; the type proper is `nla_type & NLA_TYPE_MASK`. */
export const NLA_F_NESTED = 0x8000;
/**
 * `netlink.h`: the attribute's value is in network byte order; the decoder reports it as
 * `netByteOrder` and strips it from the type.
 */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** `netlink.h`: the type bits of `nla_type`, without the NESTED and NET_BYTEORDER flags. */
export const NLA_TYPE_MASK = 0x3fff;
/** `nla_len` is a u16: one attribute, nested ones included, is at most this many bytes. */
export const NLA_MAX_LEN = 0xffff;

/** `nfnetlink.h`: the nftables subsystem and the batch delimiters (`NLMSG_MIN_TYPE`, +1). */
export const NFNL_SUBSYS_NFTABLES = 10;
/** `nfnetlink.h` `enum nfnetlink_groups`: the multicast group of nf_tables change notifications. */
export const NFNLGRP_NFTABLES = 7;
/** The batch delimiter message types. */
export const NfnlMsg = {
  BATCH_BEGIN: 0x10,
  BATCH_END: 0x11,
} as const;
/** `nfnetlink.h`: `struct nfgenmsg` (family u8, version u8, res_id be16) is 4 bytes. */
export const NFGENMSG_LEN = 4;
/** The only `nfgenmsg.version`. */
export const NFNETLINK_V0 = 0;

/** `nf_tables.h` `enum nf_tables_msg_types` (the low byte of `nlmsg_type`). */
export const NftMsg = {
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
} as const;
/** One of the element message types. */
export type NftMsg = (typeof NftMsg)[keyof typeof NftMsg];

/** `nf_tables.h` `enum nft_set_elem_list_attributes`. */
export const NftaSetElemList = {
  TABLE: 1,
  SET: 2,
  ELEMENTS: 3,
  SET_ID: 4,
} as const;

/** `nf_tables.h` `enum nft_list_attributes`: each element of a list is an `NFTA_LIST_ELEM`. */
export const NFTA_LIST_ELEM = 1;

/** `nf_tables.h` `enum nft_set_elem_attributes`. */
export const NftaSetElem = {
  KEY: 1,
  DATA: 2,
  FLAGS: 3,
  TIMEOUT: 4,
  EXPIRATION: 5,
  USERDATA: 6,
  EXPR: 7,
  PAD: 8,
  OBJREF: 9,
  KEY_END: 10,
  EXPRESSIONS: 11,
} as const;

/** `nf_tables.h` `enum nft_data_attributes`. */
export const NftaData = {
  VALUE: 1,
  VERDICT: 2,
} as const;

/** `nf_tables.h` `enum nft_set_elem_flags`. */
export const NftSetElemFlag = {
  /** The element ends the interval opened by the closest lower start element (exclusive). */
  INTERVAL_END: 0x1,
  CATCHALL: 0x2,
} as const;

/** `nf_tables.h`: names of tables and sets are at most 255 bytes plus the NUL. */
export const NFT_NAME_MAXLEN = 256;

/** `netfilter.h` `NFPROTO_*`: the `nfgen_family` of a table. */
export const NfProto = {
  unspec: 0,
  inet: 1,
  ip: 2,
  arp: 3,
  netdev: 5,
  bridge: 7,
  ip6: 10,
} as const;
/** An nf_tables table family by name (`inet`, `ip`, …). */
export type NftFamily = Exclude<keyof typeof NfProto, 'unspec'>;

/**
 * libnftnl `udata.h` / nft `include/rule.h`: the element user data nft attaches to the start
 * element of an interval that runs to the last address of the family (no end element can be
 * sent for it). `NFTNL_UDATA_SET_ELEM_FLAGS` holding `NFTNL_SET_ELEM_F_INTERVAL_OPEN`; the
 * kernel stores it opaquely, nft uses it to list the interval as a prefix or range.
 */
export const NftnlUdata = {
  SET_ELEM_FLAGS: 1,
  SET_ELEM_F_INTERVAL_OPEN: 1,
} as const;

/** `asm-generic/errno-base.h`, `errno.h`: errnos nf_tables returns for element updates. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EAGAIN: 11,
  ENOMEM: 12,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENFILE: 23,
  ENOSPC: 28,
  ERANGE: 34,
  ENOTEMPTY: 39,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  ENOBUFS: 105,
} as const;

const ERRNO_NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** The symbolic name of a (positive) errno, or `errno N` when it is not one listed above. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}
