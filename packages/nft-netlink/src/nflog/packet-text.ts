/**
 * The packet part of pvefw-logger's line (pve-firewall `src/pvefw-logger.c` `print_pkt` and its
 * helpers; spec api-logs-ux.md §3.4), byte for byte, together with the structured fields a log
 * entry indexes. pvefw-logger's quirks are kept on purpose so that the text equals what Proxmox
 * writes: no space after UDP's `LEN=` and after an IPv6 routing header's `SEGMENTS=`, an ICMP
 * redirect's gateway printed byte-reversed (it is `ntohl`ed before `inet_ntop` on a
 * little-endian host), the ICMPv6 header looked for `CODE` bytes further on, the IPv6 fragment
 * offset masked with 0x2FFF and MF read from the top bit, signed `%d` for 32-bit values. Where
 * the C code reads past the captured bytes (undefined there), this reads zeros or reports
 * `INVALID=LEN`. Pure and total: any bytes give a text.
 */
import { formatIpv4, formatIpv6 } from './inet-ntop.js';

/** Structured fields of a decoded packet (those the log entry indexes). */
export interface PacketFields {
  family?: 4 | 6 | 'arp';
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, `ah`, `esp`, `igmp`, `arp`, or the protocol number as text. */
  proto?: string;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
  /** The `LEN=` pvefw-logger prints for the IP header: IPv4 total length, IPv6 payload length. */
  len?: number;
  tcpFlags?: string[];
  /** Set when the packet is cut or malformed (`LEN`, `IHL`, `SEGMENTS`). */
  invalid?: string;
}

/** Interface facts pvefw-logger prints before the layer-3 part. */
export interface PacketMeta {
  readonly family: number;
  readonly hwProtocol: number;
  readonly mark: number;
  readonly indev: number;
  readonly outdev: number;
  readonly physindev: number;
  readonly physoutdev: number;
  readonly hwHeader?: Uint8Array;
  readonly payload: Uint8Array;
}

const AF_INET = 2;
const AF_INET6 = 10;
const AF_BRIDGE = 7;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_ARP = 0x0806;

/** Output and field collector over one payload; reads past the end give 0. */
class Printer {
  readonly parts: string[] = [];
  readonly fields: PacketFields = {};
  constructor(private readonly b: Uint8Array) {}
  p(s: string): void {
    this.parts.push(s);
  }
  u8(at: number): number {
    return at >= 0 && at < this.b.length ? (this.b[at] ?? 0) : 0;
  }
  u16(at: number): number {
    return (this.u8(at) << 8) | this.u8(at + 1);
  }
  u32(at: number): number {
    return ((this.u8(at) << 24) | (this.u8(at + 1) << 16) | (this.u8(at + 2) << 8) | this.u8(at + 3)) >>> 0;
  }
  i32(at: number): number {
    return this.u32(at) | 0;
  }
  bytes(at: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u8(at + i);
    return out;
  }
  /** Prints pvefw-logger's `LEN=<n> INVALID=LEN ` and returns false (the header is cut). */
  invalidLen(len: number): false {
    this.p(`LEN=${len} `);
    this.p('INVALID=LEN ');
    this.fields.invalid ??= 'LEN';
    return false;
  }
}

// Every logged packet prints a dozen or more hex bytes (MAC=, TOS=, PREC=): looked up, not formatted.
const HEX2 = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));
const HEX2_UPPERCASE = HEX2.map((h) => h.toUpperCase());
const hex2 = (n: number): string => HEX2[n & 0xff]!;
const HEX2_UPPER = (n: number): string => HEX2_UPPERCASE[n & 0xff]!;

/**
 * The start every transport header's text has: `PROTO=NAME `, the protocol in the fields, and a
 * header shorter than `minLen` reported (false: nothing more is printed).
 */
function startProto(o: Printer, name: string, len: number, minLen: number): boolean {
  o.p(`PROTO=${name} `);
  o.fields.proto = name.toLowerCase();
  if (len < minLen) {
    o.invalidLen(len);
    return false;
  }
  return true;
}

/** The source and destination addresses, into the fields and as `SRC=… DST=… `. */
function printAddresses(o: Printer, src: string, dst: string): void {
  o.fields.src = src;
  o.fields.dst = dst;
  o.p(`SRC=${src} DST=${dst} `);
}

/** The source and destination ports at `at`, into the fields and as `SPT=… DPT=… `. */
function printPorts(o: Printer, at: number): void {
  o.fields.sport = o.u16(at);
  o.fields.dport = o.u16(at + 2);
  o.p(`SPT=${o.fields.sport} DPT=${o.fields.dport} `);
}

function printTcp(o: Printer, at: number, len: number): void {
  if (!startProto(o, 'TCP', len, 20)) return;
  printPorts(o, at);
  o.p(`SEQ=${o.u32(at + 4)} ACK=${o.u32(at + 8)} `);
  o.p(`WINDOW=${o.u16(at + 14)} `);
  const f = o.u8(at + 13);
  const flags: string[] = [];
  for (const [bit, name] of [[0x20, 'URG'], [0x10, 'ACK'], [0x08, 'PSH'], [0x04, 'RST'], [0x02, 'SYN'], [0x01, 'FIN']] as const) {
    if (f & bit) {
      o.p(`${name} `);
      flags.push(name);
    }
  }
  o.fields.tcpFlags = flags;
  if (f & 0x20) o.p(`URGP=${o.u16(at + 18)} `);
}

function printUdp(o: Printer, at: number, len: number): void {
  if (!startProto(o, 'UDP', len, 8)) return;
  printPorts(o, at);
  o.p(`LEN=${o.u16(at + 4)}`);
}

function printIcmp(o: Printer, at: number, len: number): void {
  if (!startProto(o, 'ICMP', len, 8)) return;
  const type = o.u8(at);
  const code = o.u8(at + 1);
  o.fields.icmpType = type;
  o.fields.icmpCode = code;
  o.p(`TYPE=${type} CODE=${code} `);
  if (type === 8 || type === 0) o.p(`ID=${o.u16(at + 4)} SEQ=${o.u16(at + 6)} `);
  else if (type === 12) o.p(`PARAMETER=${o.u8(at + 4)} `);
  else if (type === 5) o.p(`GATEWAY=${o.u8(at + 7)}.${o.u8(at + 6)}.${o.u8(at + 5)}.${o.u8(at + 4)} `);
  else if (type === 3 && code === 4) o.p(`MTU=${o.u16(at + 6)} `);
}

function printSctp(o: Printer, at: number, len: number): void {
  if (!startProto(o, 'SCTP', len, 12)) return;
  printPorts(o, at);
}

/** `print_ipproto`: false for a protocol it does not know. */
function printIpProto(o: Printer, at: number, len: number, proto: number): boolean {
  // A negative length is undefined behaviour in the C code (an unsigned comparison); reported.
  if (len < 0 && (proto === 6 || proto === 17 || proto === 1 || proto === 132)) {
    o.p(`PROTO=${proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : proto === 1 ? 'ICMP' : 'SCTP'} `);
    o.fields.proto = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : 'sctp';
    o.invalidLen(len);
    return true;
  }
  switch (proto) {
    case 6: printTcp(o, at, len); return true;
    case 17: printUdp(o, at, len); return true;
    case 1: printIcmp(o, at, len); return true;
    case 132: printSctp(o, at, len); return true;
    case 51: o.p('PROTO=AH '); o.fields.proto = 'ah'; return true;
    case 50: o.p('PROTO=ESP '); o.fields.proto = 'esp'; return true;
    case 2: o.p('PROTO=IGMP '); o.fields.proto = 'igmp'; return true;
    default: return false;
  }
}

function printIpv4(o: Printer, len: number): void {
  o.fields.family = 4;
  if (len < 20) {
    o.invalidLen(len);
    return;
  }
  const ihl = o.u8(0) & 0x0f;
  if (len <= ihl * 4) {
    o.p('INVALID=IHL ');
    o.fields.invalid = 'IHL';
    return;
  }
  printAddresses(o, formatIpv4(o.bytes(12, 4)), formatIpv4(o.bytes(16, 4)));
  const tos = o.u8(1);
  o.fields.len = o.u16(2);
  o.p(`LEN=${o.fields.len} TOS=0x${HEX2_UPPER(tos & 0x1e)} PREC=0x${HEX2_UPPER(tos & 0xe0)} TTL=${o.u8(8)} ID=${o.u16(4)} `);
  const off = o.u16(6);
  if (off & 0x1fff) o.p(`FRAG=${off & 0x1fff} `);
  if (off & 0x4000) o.p('DF ');
  if (off & 0x2000) o.p('MF ');
  const proto = o.u8(9);
  if (!printIpProto(o, ihl * 4, len - ihl * 4, proto)) {
    o.p(`PROTO=${proto} `);
    o.fields.proto = String(proto);
  }
}

/** `check_ip6ext`. */
function checkExt(o: Printer, at: number, len: number): boolean {
  if (len < 2 || len < o.u8(at + 1)) {
    o.invalidLen(len);
    return false;
  }
  return true;
}

function printRouting(o: Printer, at: number, len: number): boolean {
  const hdrLen = o.u8(at + 1);
  const type = o.u8(at + 2);
  o.p(`TYPE=${type} SEGMENTS=${o.u8(at + 3)}`);
  if (len < 4 || len < hdrLen * 8) return o.invalidLen(len);
  if (type === 0) {
    if (hdrLen * 8 < 8 + o.u8(at + 3) * 16) {
      o.p('INVALID=SEGMENTS ');
      o.fields.invalid ??= 'SEGMENTS';
    }
  } else if (type === 2) {
    if (hdrLen * 8 < 24) return o.invalidLen(len);
    o.p(`HOME=${formatIpv6(o.bytes(at + 8, 16))} `);
  }
  return true;
}

function printFragment(o: Printer, at: number, len: number): boolean {
  if (len < 8) return o.invalidLen(len);
  const offlg = o.u16(at + 2);
  o.p(`FRAG=${offlg & 0x2fff} ID=${o.i32(at + 4)} `);
  if (offlg >> 15) o.p('MF ');
  return true;
}

function printIcmp6(o: Printer, at: number, len: number): void {
  if (len < 8) {
    o.invalidLen(len);
    return;
  }
  const type = o.u8(at);
  o.p(`TYPE=${type} CODE=${o.u8(at + 1)} `);
  switch (type) {
    case 128:
    case 129:
      o.p(`ID=${o.u16(at + 4)} SEQ=${o.u16(at + 6)} `);
      break;
    case 134:
      o.p(`HOPLIMIT=${o.u8(at + 4)} `);
      o.p(`RA=${hex2(o.u8(at + 5))} LIFETIME=${o.u16(at + 6)} REACHABLE=${o.i32(at + 8)} RETRANSMIT=${o.i32(at + 12)} `);
      break;
    case 136:
      o.p(`NA=${o.u32(at + 4).toString(16).padStart(8, '0')} `);
      break;
    case 137:
      o.p(`TARGET=${formatIpv6(o.bytes(at + 8, 16))} `);
      o.p(`GATEWAY=${formatIpv6(o.bytes(at + 24, 16))} `);
      break;
    case 2:
      o.p(`MTU=${o.u32(at + 4)} `);
      break;
    case 4: {
      const ptr = o.u32(at + 4);
      o.p(`PARAMETER=${ptr === 0 ? 'HEADER' : ptr === 1 ? 'NEXTHEADER' : ptr === 2 ? 'OPTION' : String(ptr)} `);
      break;
    }
    default:
      break;
  }
}

/** `print_nexthdr`: the IPv6 extension header chain and the upper layer. */
function printNextHeader(o: Printer, at: number, len: number, proto: number): void {
  // Each step consumes at least 8 bytes, so the chain ends; the guard bounds it regardless.
  for (let guard = 0; guard < 256; guard++) {
    if (printIpProto(o, at, len, proto)) return;
    let extLen = 0;
    switch (proto) {
      case 58: {
        o.p('PROTO=ICMPV6 ');
        o.fields.proto = 'icmpv6';
        if (len >= 8) {
          o.fields.icmpType = o.u8(at);
          o.fields.icmpCode = o.u8(at + 1);
        }
        if (!checkExt(o, at, len)) return;
        // pvefw-logger reads the ICMPv6 header `ip6e_len` (= the CODE byte) bytes further on.
        const skew = o.u8(at + 1);
        printIcmp6(o, at + skew, len - skew);
        return;
      }
      case 43:
        if (!checkExt(o, at, len) || !printRouting(o, at, len)) return;
        break;
      case 44:
        if (!checkExt(o, at, len) || !printFragment(o, at, len)) return;
        extLen = 8;
        break;
      case 0:
        o.p('NEXTHDR=HOPOPTS ');
        if (!checkExt(o, at, len)) return;
        break;
      case 60:
        o.p('NEXTHDR=DSTOPTS ');
        if (!checkExt(o, at, len)) return;
        break;
      case 135:
        o.p('NEXTHDR=MH ');
        if (!checkExt(o, at, len)) return;
        break;
      default:
        o.p(`PROTO=${proto} `);
        o.fields.proto = String(proto);
        return;
    }
    if (!checkExt(o, at, len)) return;
    if (extLen === 0) extLen = (o.u8(at + 1) + 1) * 8;
    const next = o.u8(at);
    at += extLen;
    len -= extLen;
    proto = next;
  }
}

function printIpv6(o: Printer, len: number): void {
  o.fields.family = 6;
  if (len < 40) {
    o.invalidLen(len);
    return;
  }
  printAddresses(o, formatIpv6(o.bytes(8, 16)), formatIpv6(o.bytes(24, 16)));
  o.fields.len = o.u16(4);
  o.p(`LEN=${o.fields.len} `);
  const flow = o.u32(0);
  o.p(`TC=${(flow >>> 20) & 0xff} FLOWLBL=${flow & 0xfffff} `);
  o.p(`HOPLIMIT=${o.u8(7)} `);
  printNextHeader(o, 40, len - 40, o.u8(6));
}

function printArp(o: Printer, len: number): void {
  o.fields.family = 'arp';
  o.fields.proto = 'arp';
  if (len < 28) {
    o.invalidLen(len);
    return;
  }
  printAddresses(o, formatIpv4(o.bytes(14, 4)), formatIpv4(o.bytes(24, 4)));
  o.p('PROTO=ARP ');
  const op = o.u16(6);
  if (op === 1) o.p('REQUEST ');
  else if (op === 2) o.p(`REPLY MAC=${[...o.bytes(8, 6)].map(hex2).join(':')} `);
  else if (op === 10) o.p('NAK ');
  else o.p(`CODE=${op} `);
}

/** The layer-3/4 text and fields of a payload, by NFLOG family and ethertype (`print_pkt`'s switch). */
export function describePayload(family: number, hwProtocol: number, payload: Uint8Array): { text: string; fields: PacketFields } {
  const o = new Printer(payload);
  const len = payload.length;
  if (family === AF_INET) printIpv4(o, len);
  else if (family === AF_INET6) printIpv6(o, len);
  else if (family === AF_BRIDGE) {
    if (hwProtocol === ETH_P_IP) printIpv4(o, len);
    else if (hwProtocol === ETH_P_IPV6) printIpv6(o, len);
    else if (hwProtocol === ETH_P_ARP) printArp(o, len);
  }
  return { text: o.parts.join(''), fields: o.fields };
}

/**
 * pvefw-logger's text after the prefix message: `IN= OUT= PHYSIN= PHYSOUT=` (names from
 * `ifname`, the index when unknown; absent when 0), `MAC=` (the link-layer header), the
 * layer-3/4 part and `mark=` when non-zero. `mac` is the `MAC=` text (undefined without a
 * link-layer header), so that a caller needs not format it twice.
 */
export function formatPacketText(meta: PacketMeta, ifname: (index: number) => string | undefined): { text: string; fields: PacketFields; mac: string | undefined } {
  const head: string[] = [];
  const dev = (label: string, index: number): void => {
    if (index > 0) head.push(`${label}=${ifname(index) ?? String(index)} `);
  };
  dev('IN', meta.indev);
  dev('OUT', meta.outdev);
  dev('PHYSIN', meta.physindev);
  dev('PHYSOUT', meta.physoutdev);
  const mac = meta.hwHeader && meta.hwHeader.length > 0 ? macText(meta.hwHeader) : undefined;
  if (mac !== undefined) head.push(`MAC=${mac} `);
  const l3 = describePayload(meta.family, meta.hwProtocol, meta.payload);
  const mark = meta.mark ? `mark=${meta.mark >>> 0} ` : '';
  return { text: `${head.join('')}${l3.text}${mark}`, fields: l3.fields, mac };
}

/** Colon-separated lower-case hex (`MAC=` of pvefw-logger). */
export function macText(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (i ? ':' : '') + hex2(bytes[i] ?? 0);
  return s;
}
