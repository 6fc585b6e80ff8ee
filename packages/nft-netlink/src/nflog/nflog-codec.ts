/**
 * NFLOG over netlink (`linux/netfilter/nfnetlink_log.h`, kernel `net/netfilter/nfnetlink_log.c`):
 * the configuration messages a listener sends (bind a group, copy mode and range, flags,
 * queue threshold, flush timeout, buffer size) and the decoder of the `NFULNL_MSG_PACKET`
 * messages the kernel sends back. Pure: bytes in, values out; the decoder never throws, it
 * counts what it cannot read and skips it.
 */
import { readCString, view } from '../codec/bytes.js';
import { NLA_HDRLEN, NLMSG_HDRLEN, NlmFlags, NlmsgType } from '../codec/constants.js';
import { decodeAck, type NetlinkAck } from '../codec/decode.js';
import { walkNetlinkMessages } from '../codec/netlink-walk.js';

/** `nfnetlink.h` NFNL_SUBSYS_ULOG: the subsystem of NFLOG messages (high byte of `nlmsg_type`). */
export const NFNL_SUBSYS_ULOG = 4;

/** `enum nfulnl_msg_types`. */
export const NfulnlMsg = { PACKET: 0, CONFIG: 1 } as const;

/** `enum nfulnl_attr_type`: attributes of a PACKET message. */
export const NfulaAttr = {
  PACKET_HDR: 1,
  MARK: 2,
  TIMESTAMP: 3,
  IFINDEX_INDEV: 4,
  IFINDEX_OUTDEV: 5,
  IFINDEX_PHYSINDEV: 6,
  IFINDEX_PHYSOUTDEV: 7,
  HWADDR: 8,
  PAYLOAD: 9,
  PREFIX: 10,
  UID: 11,
  SEQ: 12,
  SEQ_GLOBAL: 13,
  GID: 14,
  HWTYPE: 15,
  HWHEADER: 16,
  HWLEN: 17,
} as const;

/** `enum nfulnl_msg_config_cmds`. */
export const NfulnlCfgCmd = { NONE: 0, BIND: 1, UNBIND: 2, PF_BIND: 3, PF_UNBIND: 4 } as const;
/** One of the NFLOG config commands, the value of an `NFULA_CFG_CMD` attribute. */
export type NfulnlCfgCmd = (typeof NfulnlCfgCmd)[keyof typeof NfulnlCfgCmd];

/** `enum nfulnl_attr_config`. */
export const NfulaCfg = { CMD: 1, MODE: 2, NLBUFSIZ: 3, TIMEOUT: 4, QTHRESH: 5, FLAGS: 6 } as const;

/** `NFULNL_COPY_*`. */
export const NfulnlCopy = { NONE: 0, META: 1, PACKET: 2 } as const;

/** `NFULNL_CFG_F_*` (the FLAGS attribute, be16). */
export const NfulnlCfgFlag = { SEQ: 0x1, SEQ_GLOBAL: 0x2, CONNTRACK: 0x4 } as const;

/** Message type of NFLOG packets and config messages. */
export const NFULNL_PACKET_TYPE = (NFNL_SUBSYS_ULOG << 8) | NfulnlMsg.PACKET;
/** `nlmsg_type` of the CONFIG messages a listener sends to bind, unbind and configure an NFLOG group. */
export const NFULNL_CONFIG_TYPE = (NFNL_SUBSYS_ULOG << 8) | NfulnlMsg.CONFIG;

/** One setting of an NFLOG instance (each becomes its own CONFIG message, as libnetfilter_log sends them). */
export type NflogConfig =
  | { readonly kind: 'cmd'; readonly cmd: NfulnlCfgCmd; /** PF_BIND/PF_UNBIND: the protocol family. */ readonly family?: number }
  | { readonly kind: 'mode'; readonly copyMode: number; /** Bytes of each packet copied, from its network header. */ readonly copyRange: number }
  | { readonly kind: 'flags'; readonly flags: number }
  | { readonly kind: 'qthresh'; /** Packets queued in the kernel before a flush. */ readonly packets: number }
  | { readonly kind: 'timeout'; /** Longest time a packet waits in the kernel queue, in 1/100 s. */ readonly centiseconds: number }
  | { readonly kind: 'nlbufsiz'; /** Size of the kernel's batch buffer (skb), bytes; the kernel accepts 4 KiB..128 KiB. */ readonly bytes: number };

function attr(type: number, value: Uint8Array): Uint8Array {
  const len = NLA_HDRLEN + value.length;
  const out = new Uint8Array((len + 3) & ~3);
  const v = view(out);
  v.setUint16(0, len, true);
  v.setUint16(2, type, true);
  out.set(value, NLA_HDRLEN);
  return out;
}

const be = (bytes: number, n: number): Uint8Array => {
  const out = new Uint8Array(bytes);
  const v = view(out);
  if (bytes === 2) v.setUint16(0, n, false);
  else v.setUint32(0, n >>> 0, false);
  return out;
};

function configAttr(c: NflogConfig): Uint8Array {
  switch (c.kind) {
    case 'cmd':
      return attr(NfulaCfg.CMD, Uint8Array.of(c.cmd));
    case 'mode': {
      const m = new Uint8Array(6); // packed nfulnl_msg_config_mode
      view(m).setUint32(0, c.copyRange >>> 0, false);
      m[4] = c.copyMode;
      return attr(NfulaCfg.MODE, m);
    }
    case 'flags':
      return attr(NfulaCfg.FLAGS, be(2, c.flags));
    case 'qthresh':
      return attr(NfulaCfg.QTHRESH, be(4, c.packets));
    case 'timeout':
      return attr(NfulaCfg.TIMEOUT, be(4, c.centiseconds));
    case 'nlbufsiz':
      return attr(NfulaCfg.NLBUFSIZ, be(4, c.bytes));
  }
}

/**
 * One NFULNL_MSG_CONFIG message for `group` (NLM_F_REQUEST | NLM_F_ACK): the kernel answers
 * with an NLMSG_ERROR carrying `seq` (0 = done).
 */
export function encodeNflogConfig(group: number, config: NflogConfig, seq: number): Uint8Array {
  const a = configAttr(config);
  const len = NLMSG_HDRLEN + 4 + a.length;
  const out = new Uint8Array(len);
  const v = view(out);
  v.setUint32(0, len, true);
  v.setUint16(4, NFULNL_CONFIG_TYPE, true);
  v.setUint16(6, NlmFlags.REQUEST | NlmFlags.ACK, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, 0, true);
  out[16] = config.kind === 'cmd' ? (config.family ?? 0) : 0; // nfgen_family (AF_UNSPEC)
  out[17] = 0; // NFNETLINK_V0
  v.setUint16(18, group, false); // res_id: the group, network order
  out.set(a, 20);
  return out;
}

/** Settings of a listener (see {@link nflogSetup}). */
export interface NflogSetupOptions {
  /** Bytes of each packet copied (from the network header). Default 256: every header pvefw-logger prints. */
  readonly copyRange?: number;
  /** Flush after this many queued packets. Default 64. */
  readonly qthreshold?: number;
  /** Flush at the latest after this long, 1/100 s. Default 1 (10 ms; the kernel's default is 1 s). */
  readonly timeoutCentiseconds?: number;
  /** Kernel batch buffer, bytes. Default 131072 (the kernel's maximum). */
  readonly nlbufsizBytes?: number;
  /** Also ask for the global sequence number (`NFULNL_CFG_F_SEQ_GLOBAL`). Default false. */
  readonly globalSeq?: boolean;
}

/** The defaults of {@link NflogSetupOptions}: 256-byte copies, flush at 64 packets or after 10 ms, 128 KiB kernel batches. */
export const DEFAULT_NFLOG_SETUP = { copyRange: 256, qthreshold: 64, timeoutCentiseconds: 1, nlbufsizBytes: 131072, globalSeq: false } as const;

/**
 * The CONFIG messages that make a socket the listener of `group`, in order: bind, packet copy
 * mode with a bounded range, sequence numbers (so that kernel-side losses show as gaps),
 * buffer size, queue threshold and timeout (for latency). Seq numbers start at `firstSeq`.
 */
export function nflogSetup(group: number, options: NflogSetupOptions = {}, firstSeq = 1): Uint8Array[] {
  const o = { ...DEFAULT_NFLOG_SETUP, ...options };
  const configs: NflogConfig[] = [
    { kind: 'cmd', cmd: NfulnlCfgCmd.BIND },
    { kind: 'mode', copyMode: NfulnlCopy.PACKET, copyRange: o.copyRange },
    { kind: 'flags', flags: NfulnlCfgFlag.SEQ | (o.globalSeq ? NfulnlCfgFlag.SEQ_GLOBAL : 0) },
    { kind: 'nlbufsiz', bytes: o.nlbufsizBytes },
    { kind: 'qthresh', packets: o.qthreshold },
    { kind: 'timeout', centiseconds: o.timeoutCentiseconds },
  ];
  return configs.map((c, i) => encodeNflogConfig(group, c, firstSeq + i));
}

/** The message that releases `group` (the kernel also releases it when the socket closes). */
export const nflogUnbind = (group: number, seq: number): Uint8Array => encodeNflogConfig(group, { kind: 'cmd', cmd: NfulnlCfgCmd.UNBIND }, seq);

/** One logged packet, as the kernel describes it. Absent interfaces are 0. */
export interface NflogPacket {
  readonly group: number;
  /** `nfgen_family`: 2 IPv4, 10 IPv6, 7 bridge (then see `hwProtocol`). */
  readonly family: number;
  /** Ethertype (`nfulnl_msg_packet_hdr.hw_protocol`). */
  readonly hwProtocol: number;
  readonly hook: number;
  readonly mark: number;
  /** Kernel timestamp, µs since the epoch (input-side hooks only). */
  readonly timestampUs?: number;
  readonly indev: number;
  readonly outdev: number;
  readonly physindev: number;
  readonly physoutdev: number;
  /** Link-layer header (NFULA_HWHEADER, cut to NFULA_HWLEN). */
  readonly hwHeader?: Uint8Array;
  readonly hwType?: number;
  /** The copied packet from its network header (at most the copy range). */
  readonly payload: Uint8Array;
  readonly prefix?: string;
  /** Instance-local sequence number (with `NFULNL_CFG_F_SEQ`); counts dropped messages too. */
  readonly seq?: number;
  readonly seqGlobal?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** What one datagram from the NFLOG socket held. */
export interface NflogDatagram {
  readonly packets: NflogPacket[];
  /** Answers to CONFIG messages. */
  readonly acks: NetlinkAck[];
  /** Messages (or the rest of the datagram) that could not be read, each with why. */
  readonly errors: string[];
}

/** Limits of {@link decodeNflogDatagram}. */
export interface NflogDecodeLimits {
  /** Largest datagram read, bytes (beyond: one error, nothing read). Default 1 MiB. */
  readonly maxBytes?: number;
  /** Most packets read from one datagram. Default 10,000. */
  readonly maxPackets?: number;
}

/** The defaults of {@link NflogDecodeLimits}. */
export const DEFAULT_NFLOG_DECODE_LIMITS = { maxBytes: 1 << 20, maxPackets: 10_000 } as const;

/** Decodes a datagram (one or more netlink messages). Never throws. */
export function decodeNflogDatagram(bytes: Uint8Array, limits: NflogDecodeLimits = {}): NflogDatagram {
  const maxBytes = limits.maxBytes ?? DEFAULT_NFLOG_DECODE_LIMITS.maxBytes;
  const maxPackets = limits.maxPackets ?? DEFAULT_NFLOG_DECODE_LIMITS.maxPackets;
  const out: NflogDatagram = { packets: [], acks: [], errors: [] };
  walkNetlinkMessages(bytes, maxBytes, out.errors, (m) => {
    if (m.type === NFULNL_PACKET_TYPE) {
      if (out.packets.length >= maxPackets) out.errors.push(`more than ${maxPackets} packets in one datagram`);
      else {
        const p = decodeNflogPacket(m.body);
        if (typeof p === 'string') out.errors.push(p);
        else out.packets.push(p);
      }
    } else if (m.type === NlmsgType.ERROR) {
      const ack = decodeAck({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload: m.body });
      if (ack.ok) out.acks.push(ack.value);
      else out.errors.push(`NLMSG_ERROR: ${ack.error}`);
    } else if (m.type !== NlmsgType.DONE && m.type !== NlmsgType.NOOP) {
      out.errors.push(`unexpected message type 0x${m.type.toString(16)}`);
    }
  });
  return out;
}

/** Decodes the body (after `nlmsghdr`) of one NFULNL_MSG_PACKET; a string says why it cannot. */
export function decodeNflogPacket(body: Uint8Array): NflogPacket | string {
  if (body.length < 4) return `packet message of ${body.length} bytes has no nfgenmsg`;
  // One DataView over the body and offsets into it: this runs once per logged packet.
  const v = view(body);
  const p: {
    -readonly [K in keyof NflogPacket]: NflogPacket[K];
  } = { group: v.getUint16(2, false), family: body[0] ?? 0, hwProtocol: 0, hook: 0, mark: 0, indev: 0, outdev: 0, physindev: 0, physoutdev: 0, payload: EMPTY };
  let hwHeader: Uint8Array | undefined;
  let hwLen: number | undefined;
  let at = 4;
  while (at < body.length) {
    if (body.length - at < NLA_HDRLEN) return `truncated attribute header at ${at}`;
    const len = v.getUint16(at, true);
    const type = v.getUint16(at + 2, true) & 0x3fff;
    if (len < NLA_HDRLEN || len > body.length - at) return `attribute ${type} length ${len} does not fit (${body.length - at} bytes left)`;
    const vo = at + NLA_HDRLEN; // value offset
    const vlen = len - NLA_HDRLEN;
    if (U32_ATTRS[type] !== undefined) {
      if (vlen < 4) return `attribute ${type} of ${vlen} bytes (expected 4)`;
      p[U32_ATTRS[type]] = v.getUint32(vo, false);
    } else {
      switch (type) {
        case NfulaAttr.PACKET_HDR:
          if (vlen < 3) return `PACKET_HDR of ${vlen} bytes`;
          p.hwProtocol = v.getUint16(vo, false);
          p.hook = body[vo + 2] ?? 0;
          break;
        case NfulaAttr.TIMESTAMP:
          if (vlen < 16) return `TIMESTAMP of ${vlen} bytes`;
          // be64 seconds and microseconds; both fit a double for any real clock.
          p.timestampUs = (v.getUint32(vo, false) * 2 ** 32 + v.getUint32(vo + 4, false)) * 1e6 + ((v.getUint32(vo + 8, false) * 2 ** 32 + v.getUint32(vo + 12, false)) % 1e6);
          break;
        case NfulaAttr.PAYLOAD:
          p.payload = body.subarray(vo, vo + vlen);
          break;
        case NfulaAttr.PREFIX:
          p.prefix = readCString(body.subarray(vo, vo + vlen));
          break;
        case NfulaAttr.HWTYPE:
          if (vlen >= 2) p.hwType = v.getUint16(vo, false);
          break;
        case NfulaAttr.HWLEN:
          if (vlen >= 2) hwLen = v.getUint16(vo, false);
          break;
        case NfulaAttr.HWHEADER:
          hwHeader = body.subarray(vo, vo + vlen);
          break;
        default:
          break; // HWADDR, CT, VLAN, L2HDR…: not needed for the log line
      }
    }
    at += Math.min((len + 3) & ~3, body.length - at);
  }
  // libnetfilter_log: the header length comes from NFULA_HWLEN, the bytes from NFULA_HWHEADER.
  if (hwHeader && hwLen !== undefined && hwLen > 0) p.hwHeader = hwHeader.subarray(0, Math.min(hwLen, hwHeader.length));
  return p;
}

const EMPTY = new Uint8Array(0);

/** The be32 attributes and the field each one sets. */
const U32_ATTRS: Partial<Record<number, 'mark' | 'indev' | 'outdev' | 'physindev' | 'physoutdev' | 'seq' | 'seqGlobal' | 'uid' | 'gid'>> = {
  [NfulaAttr.MARK]: 'mark',
  [NfulaAttr.IFINDEX_INDEV]: 'indev',
  [NfulaAttr.IFINDEX_OUTDEV]: 'outdev',
  [NfulaAttr.IFINDEX_PHYSINDEV]: 'physindev',
  [NfulaAttr.IFINDEX_PHYSOUTDEV]: 'physoutdev',
  [NfulaAttr.SEQ]: 'seq',
  [NfulaAttr.SEQ_GLOBAL]: 'seqGlobal',
  [NfulaAttr.UID]: 'uid',
  [NfulaAttr.GID]: 'gid',
};
