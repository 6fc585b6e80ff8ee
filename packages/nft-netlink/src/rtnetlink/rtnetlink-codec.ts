/**
 * rtnetlink links and addresses (`linux/rtnetlink.h`, `linux/if_link.h`, `linux/if_addr.h`;
 * kernel `net/core/rtnetlink.c`, `net/ipv4/devinet.c`, `net/ipv6/addrconf.c`): the dump
 * requests a listener sends (RTM_GETLINK, RTM_GETADDR) and the decoder of what the kernel sends
 * back and multicasts (RTM_NEWLINK/DELLINK: index, name, flags; RTM_NEWADDR/DELADDR: index,
 * family, address, prefix, scope). Pure: bytes in, values out. The decoder is total: it never
 * throws, it names what it cannot read and skips it.
 */
import { readCString, view } from '../codec/bytes.js';
import { NLMSG_HDRLEN, NlmFlags, NlmsgType } from '../codec/constants.js';
import { decodeAck, decodeAttributes, type NetlinkAck } from '../codec/decode.js';
import { walkNetlinkMessages } from '../codec/netlink-walk.js';
import { formatIpv4, formatIpv6 } from '../nflog/inet-ntop.js';

/** `NETLINK_ROUTE`: the protocol of an rtnetlink socket. */
export const NETLINK_ROUTE = 0;

/** `rtnetlink.h` message types of links and addresses. */
export const RtmType = { NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, DELADDR: 21, GETADDR: 22 } as const;
/** One of the `nlmsg_type` values above; `decodeRouteDatagram` names any other type as an error and goes on. */
export type RtmType = (typeof RtmType)[keyof typeof RtmType];

/** `rtnetlink.h` legacy multicast group bits (`RTMGRP_*`) for `bind(2)`'s `nl_groups`. */
export const RtmGroup = { LINK: 0x1, IPV4_IFADDR: 0x10, IPV6_IFADDR: 0x100 } as const;

/** The groups a listener of links and addresses binds. */
export const LINK_ADDRESS_GROUPS = RtmGroup.LINK | RtmGroup.IPV4_IFADDR | RtmGroup.IPV6_IFADDR;

/** `netlink.h` request flags of a dump (`NLM_F_ROOT | NLM_F_MATCH`). */
const DUMP_FLAGS = 0x300;
/** `netlink.h`: set on dump records when the kernel saw the table change under the dump. */
export const NLM_F_DUMP_INTR = 0x10;

/** `socket.h` address families. */
export const AddressFamily = { UNSPEC: 0, INET: 2, INET6: 10 } as const;

/** `if_link.h` `IFLA_*` attributes read here. */
export const IflaAttr = { ADDRESS: 1, IFNAME: 3, MTU: 4, OPERSTATE: 16 } as const;

/** `if_addr.h` `IFA_*` attributes read here. */
export const IfaAttr = { ADDRESS: 1, LOCAL: 2, LABEL: 3, FLAGS: 8 } as const;

/** `rtnetlink.h` `RT_SCOPE_*`: how far an address is valid. */
export const RtScope = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

/** `if.h` interface flags read here. */
export const IfFlag = { UP: 0x1, LOOPBACK: 0x8, RUNNING: 0x40, LOWER_UP: 0x10000 } as const;

/** `struct ifinfomsg` and `struct ifaddrmsg` sizes. */
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
/** `IFNAMSIZ` - 1: the longest interface name. */
const IFNAME_MAX = 15;

/** An interface as RTM_NEWLINK/DELLINK describe it. */
export interface RouteLink {
  readonly index: number;
  /** `IFLA_IFNAME`; "" when the message had none. */
  readonly name: string;
  /** `ifi_flags` (`IfFlag` bits). */
  readonly flags: number;
  readonly mtu?: number;
}

/** An interface address as RTM_NEWADDR/DELADDR describe it. */
export interface RouteAddress {
  /** Index of the interface the address is on. */
  readonly index: number;
  readonly family: 4 | 6;
  /** The interface's own address (`IFA_LOCAL`, else `IFA_ADDRESS`), as `ip` prints it. */
  readonly address: string;
  readonly prefix: number;
  /** `RtScope`: 0 global, 253 link, 254 host. */
  readonly scope: number;
  /** `IFA_FLAGS` when present, else `ifa_flags`. */
  readonly flags: number;
  /** `IFA_LABEL` (IPv4). */
  readonly label?: string;
}

/** One link or address message, new or deleted (a notification or a dump record). */
export type RouteEvent =
  | { readonly kind: 'link'; readonly op: 'new' | 'del'; readonly link: RouteLink; readonly seq: number; readonly dumpInterrupted: boolean }
  | { readonly kind: 'address'; readonly op: 'new' | 'del'; readonly address: RouteAddress; readonly seq: number; readonly dumpInterrupted: boolean };

/** What one datagram from an rtnetlink socket held. */
export interface RouteDatagram {
  readonly events: RouteEvent[];
  /** `seq` of each NLMSG_DONE (a dump ended); `interrupted` when the kernel flagged it NLM_F_DUMP_INTR. */
  readonly dumpsDone: { readonly seq: number; readonly interrupted: boolean }[];
  /** NLMSG_ERROR answers (a refused request, or an ack). */
  readonly acks: NetlinkAck[];
  /** Messages (or the rest of the datagram) that could not be read, each with why and where. */
  readonly errors: string[];
}

/** Limits of {@link decodeRouteDatagram}. */
export interface RouteDecodeLimits {
  /** Largest datagram read, bytes (beyond: one error, nothing read). Default 1 MiB. */
  readonly maxBytes?: number;
  /** Most events read from one datagram. Default 10,000. */
  readonly maxEvents?: number;
}

/** The defaults of {@link RouteDecodeLimits}. */
export const DEFAULT_ROUTE_DECODE_LIMITS = { maxBytes: 1 << 20, maxEvents: 10_000 } as const;

/**
 * A dump request of every link (RTM_GETLINK) or every address of both families (RTM_GETADDR),
 * `struct ifinfomsg`/`ifaddrmsg` of family AF_UNSPEC after the header.
 */
export function encodeRouteDump(type: typeof RtmType.GETLINK | typeof RtmType.GETADDR, seq: number): Uint8Array {
  const body = type === RtmType.GETLINK ? IFINFOMSG_LEN : IFADDRMSG_LEN;
  const out = new Uint8Array(NLMSG_HDRLEN + body);
  const v = view(out);
  v.setUint32(0, out.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, NlmFlags.REQUEST | DUMP_FLAGS, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, 0, true);
  return out;
}

/** Decodes the body (after `nlmsghdr`) of RTM_NEWLINK/DELLINK; a string says why it cannot. */
export function decodeLinkBody(body: Uint8Array): RouteLink | string {
  if (body.length < IFINFOMSG_LEN) return `link message of ${body.length} bytes is shorter than ifinfomsg (${IFINFOMSG_LEN})`;
  const v = view(body);
  const index = v.getInt32(4, true);
  if (index <= 0) return `link message with interface index ${index}`;
  const attrs = decodeAttributes(body.subarray(IFINFOMSG_LEN), { maxItems: 1000 });
  if (!attrs.ok) return `link ${index}: ${attrs.error} at attribute offset ${attrs.offset}`;
  let name = '';
  let mtu: number | undefined;
  for (const a of attrs.value) {
    if (a.type === IflaAttr.IFNAME) name = readCString(a.value.subarray(0, IFNAME_MAX + 1));
    else if (a.type === IflaAttr.MTU && a.value.length >= 4) mtu = view(a.value).getUint32(0, true);
  }
  return { index, name, flags: v.getUint32(8, true), ...(mtu !== undefined ? { mtu } : {}) };
}

/** Decodes the body (after `nlmsghdr`) of RTM_NEWADDR/DELADDR; a string says why it cannot. */
export function decodeAddressBody(body: Uint8Array): RouteAddress | string {
  if (body.length < IFADDRMSG_LEN) return `address message of ${body.length} bytes is shorter than ifaddrmsg (${IFADDRMSG_LEN})`;
  const v = view(body);
  const familyCode = body[0]!;
  const family = familyCode === AddressFamily.INET ? 4 : familyCode === AddressFamily.INET6 ? 6 : undefined;
  if (family === undefined) return `address message of family ${familyCode} (neither AF_INET nor AF_INET6)`;
  const prefix = body[1]!;
  if (prefix > (family === 4 ? 32 : 128)) return `IPv${family} address with prefix length ${prefix}`;
  const index = v.getUint32(4, true);
  if (index === 0) return 'address message with interface index 0';
  const attrs = decodeAttributes(body.subarray(IFADDRMSG_LEN), { maxItems: 1000 });
  if (!attrs.ok) return `address on ${index}: ${attrs.error} at attribute offset ${attrs.offset}`;
  const size = family === 4 ? 4 : 16;
  let local: Uint8Array | undefined;
  let peer: Uint8Array | undefined;
  let label: string | undefined;
  let flags = body[2]!;
  for (const a of attrs.value) {
    if (a.type === IfaAttr.LOCAL) local = a.value;
    else if (a.type === IfaAttr.ADDRESS) peer = a.value;
    else if (a.type === IfaAttr.LABEL) label = readCString(a.value.subarray(0, IFNAME_MAX + 1));
    else if (a.type === IfaAttr.FLAGS && a.value.length >= 4) flags = view(a.value).getUint32(0, true);
  }
  const raw = local ?? peer;
  if (!raw) return `address on ${index} without IFA_LOCAL or IFA_ADDRESS`;
  if (raw.length !== size) return `IPv${family} address on ${index} of ${raw.length} bytes (not ${size})`;
  return { index, family, address: family === 4 ? formatIpv4(raw) : formatIpv6(raw), prefix, scope: body[3]!, flags, ...(label !== undefined ? { label } : {}) };
}

/** Decodes a datagram (one or more netlink messages) from an rtnetlink socket. Never throws. */
export function decodeRouteDatagram(bytes: Uint8Array, limits: RouteDecodeLimits = {}): RouteDatagram {
  const maxBytes = limits.maxBytes ?? DEFAULT_ROUTE_DECODE_LIMITS.maxBytes;
  const maxEvents = limits.maxEvents ?? DEFAULT_ROUTE_DECODE_LIMITS.maxEvents;
  const out: RouteDatagram = { events: [], dumpsDone: [], acks: [], errors: [] };
  walkNetlinkMessages(bytes, maxBytes, out.errors, ({ type, flags, seq, pid, at, body }) => {
    const dumpInterrupted = (flags & NLM_F_DUMP_INTR) !== 0;
    if (type === RtmType.NEWLINK || type === RtmType.DELLINK || type === RtmType.NEWADDR || type === RtmType.DELADDR) {
      if (out.events.length >= maxEvents) out.errors.push(`more than ${maxEvents} link and address messages in one datagram`);
      else {
        const op = type === RtmType.NEWLINK || type === RtmType.NEWADDR ? 'new' : 'del';
        if (type === RtmType.NEWLINK || type === RtmType.DELLINK) {
          const link = decodeLinkBody(body);
          if (typeof link === 'string') out.errors.push(`message at ${at}: ${link}`);
          else out.events.push({ kind: 'link', op, link, seq, dumpInterrupted });
        } else {
          const address = decodeAddressBody(body);
          if (typeof address === 'string') out.errors.push(`message at ${at}: ${address}`);
          else out.events.push({ kind: 'address', op, address, seq, dumpInterrupted });
        }
      }
    } else if (type === NlmsgType.DONE) {
      out.dumpsDone.push({ seq, interrupted: dumpInterrupted });
    } else if (type === NlmsgType.ERROR) {
      const ack = decodeAck({ type, flags, seq, pid, payload: body });
      if (ack.ok) out.acks.push(ack.value);
      else out.errors.push(`NLMSG_ERROR at ${at}: ${ack.error}`);
    } else if (type !== NlmsgType.NOOP) {
      // Other rtnetlink messages (routes, neighbours) are not subscribed; named, not fatal.
      out.errors.push(`unexpected message type ${type} at ${at}`);
    }
  });
  return out;
}
