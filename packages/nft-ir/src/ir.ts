/**
 * The intermediate ruleset: an nftables-shaped model that is rendered to nft text and to
 * libnftables JSON, and that the simulator evaluates. Every construct here has exactly one
 * rendering and one evaluation, so the simulator and the kernel read the same thing. The
 * compiler (`@palisade/fw-compile`) produces it, the netlink codec (`@palisade/nft-netlink`)
 * lowers it to nf_tables messages. Types only, besides `PORT_PROTO_NUMBERS` and `isVerdict`.
 */

/** An IP family: 4 or 6. */
export type IpFamily = 4 | 6;

/** A closed interval of addresses of one family (addresses as unsigned bigints, `from` <= `to`). */
export interface AddrInterval {
  readonly family: IpFamily;
  readonly from: bigint;
  readonly to: bigint;
}

/** The nftables families Palisade writes tables in. */
export type TableFamily = 'inet' | 'bridge';
/** The netfilter hook a base chain is attached to. */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** A whole Palisade ruleset: the tables it owns (and nothing else). */
export interface Ruleset {
  readonly tables: readonly Table[];
}

/** One nftables table: its named sets, ct helpers and chains (regular chains first, then base chains). */
export interface Table {
  readonly family: TableFamily;
  readonly name: string;
  readonly sets: readonly NamedSet[];
  readonly ctHelpers: readonly CtHelper[];
  readonly chains: readonly Chain[];
  /**
   * Constant sets shared by the rules that would each hold the same anonymous set (issue #9:
   * the kernel's cost grows with the square of the sets in one transaction). Absent = none.
   */
  readonly valueSets?: readonly ValueSet[];
}

/**
 * A named constant set of port ranges or ICMP types (`set ports_2001-3001 { type inet_service;
 * elements = { 2001, 3001 } }`). Its name is derived from its content, so a set is only ever
 * added or removed, never changed; the matches that use it keep their values for the simulator.
 */
export interface ValueSet {
  readonly name: string;
  readonly type: 'inet_service' | 'icmp_type' | 'icmpv6_type';
  /** Sorted disjoint closed ranges (a single value is `[v, v]`). */
  readonly ranges: readonly (readonly [number, number])[];
}

/** A conntrack helper object (`ct helper NAME { type "ftp" protocol tcp; l3proto inet; }`). */
export interface CtHelper {
  readonly name: string;
  readonly type: string;
  readonly protocol: 'tcp' | 'udp';
  /** `ip` for helpers the kernel has only for IPv4; absent = `inet`. */
  readonly l3proto?: 'ip';
}

/** A named address set. Interval sets hold already flattened, disjoint intervals. */
export interface NamedSet {
  readonly name: string;
  readonly family: IpFamily;
  /** `interval` for address sets, `meter` for dynamic synflood meters. */
  readonly kind: 'interval' | 'meter';
  readonly elements: readonly AddrInterval[];
  /** Meter only: element timeout in seconds. */
  readonly timeoutS?: number;
  /** Meter only: maximum number of elements. */
  readonly size?: number;
  readonly comment?: string;
}

/** The hook, priority and policy that make a chain a base chain. */
export interface BaseChainSpec {
  readonly hook: Hook;
  readonly priority: number;
  readonly policy: 'accept' | 'drop';
}

/** A chain: a base chain when `base` is set, otherwise reached by jump/goto. */
export interface Chain {
  readonly name: string;
  readonly base?: BaseChainSpec;
  readonly rules: readonly Rule[];
}

/** Where a rule came from, for simulate explanations and log decoding. */
export interface RuleOrigin {
  /** Document path, e.g. `firewall/cluster.fw`. */
  readonly path: string;
  readonly line: number;
  /** The source rule text as written (trimmed). */
  readonly text?: string;
  /**
   * The rule's stable id (12 hex digits, see `rule-id.ts` for what changes it), also carried
   * in its log prefix; the same for every kernel rule compiled from one source rule.
   */
  readonly id?: string;
}

/** One nft rule: all matches must hold, then the statements run in order. */
export interface Rule {
  readonly matches: readonly Match[];
  readonly stmts: readonly Stmt[];
  /**
   * The kernel comment. A rule compiled from a document rule carries `<path>#<rule id>` (its
   * stable id, so that moving lines does not change the kernel's rules); its line is in `origin`.
   */
  readonly comment?: string;
  readonly origin?: RuleOrigin;
}

/** Equal or not equal: every match can be negated. */
export type MatchOp = 'eq' | 'ne';

/** Interface names; a trailing `*` is a prefix wildcard. */
export interface IfnameMatch {
  readonly kind: 'ifname';
  readonly dir: 'iif' | 'oif';
  readonly op: MatchOp;
  readonly names: readonly string[];
}
/** `meta nfproto ipv4|ipv6`: restricts a rule of the inet table to one family. */
export interface NfprotoMatch {
  readonly kind: 'nfproto';
  readonly family: IpFamily;
}
/** `meta l4proto` by protocol number. */
export interface L4protoMatch {
  readonly kind: 'l4proto';
  readonly op: MatchOp;
  readonly protos: readonly number[];
}
/** The addresses an address match compares with: a named set, or inline intervals. */
export type AddrValue =
  | { readonly set: string }
  | { readonly intervals: readonly AddrInterval[] };
/** `ip|ip6 saddr|daddr` against a named set or inline intervals (implies the family). */
export interface AddrMatch {
  readonly kind: 'addr';
  readonly family: IpFamily;
  readonly field: 'saddr' | 'daddr';
  readonly op: MatchOp;
  readonly value: AddrValue;
}
/** The protocols that have ports. */
export type PortProto = 'tcp' | 'udp' | 'sctp' | 'dccp' | 'udplite';
/** IANA protocol numbers of the port-bearing protocols. */
export const PORT_PROTO_NUMBERS: Readonly<Record<PortProto, number>> = {
  tcp: 6,
  udp: 17,
  sctp: 132,
  dccp: 33,
  udplite: 136,
};
/** Port match of a port-bearing protocol (implies that protocol). */
export interface PortMatch {
  readonly kind: 'port';
  readonly proto: PortProto;
  readonly field: 'sport' | 'dport';
  readonly op: MatchOp;
  /** Disjoint sorted closed ranges. */
  readonly ranges: readonly (readonly [number, number])[];
  /** The table's `ValueSet` holding exactly `ranges`, matched instead of an anonymous set. */
  readonly set?: string;
}
/** ICMP (family 4) or ICMPv6 (family 6) type/code; implies the protocol and family. */
export interface IcmpMatch {
  readonly kind: 'icmp';
  readonly family: IpFamily;
  readonly types: readonly number[];
  readonly code?: number;
  /**
   * The type as the configuration spelled it (`echo-request`, `8`, `any`). Not rendered: the
   * reference simulator compares this text with the case's `dport` (spec §7.4 point 7), and
   * `simulate` reproduces that.
   */
  readonly spelling?: string;
  /** The table's `ValueSet` holding exactly `types`, matched instead of an anonymous set. */
  readonly set?: string;
}
/** Conntrack states a rule can match. */
export type CtState = 'new' | 'invalid' | 'established' | 'related';
/** `ct state { … }`: true when the connection is in one of the states. */
export interface CtStateMatch {
  readonly kind: 'ctstate';
  readonly states: readonly CtState[];
}
/** Address types of `fib … type` (the iptables addrtype names). */
export type AddrType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast';
/** `fib saddr|daddr type …`: the address type as the host's routing sees it (addrtype). */
export interface FibTypeMatch {
  readonly kind: 'fibtype';
  readonly field: 'saddr' | 'daddr';
  readonly types: readonly AddrType[];
}
/** `meta mark & mask == value` (or `!=`). */
export interface MarkMatch {
  readonly kind: 'mark';
  readonly mask: number;
  readonly value: number;
  readonly op: MatchOp;
}
/** `ether saddr` (lower-case MAC). */
export interface EtherMatch {
  readonly kind: 'ether';
  readonly op: MatchOp;
  readonly mac: string;
}
/** TCP flags a tcpflags match names. */
export type TcpFlag = 'fin' | 'syn' | 'rst' | 'psh' | 'ack' | 'urg';
/** `tcp flags & (mask) == value` (or `!=`); implies TCP. */
export interface TcpFlagsMatch {
  readonly kind: 'tcpflags';
  readonly mask: readonly TcpFlag[];
  readonly value: readonly TcpFlag[];
  readonly op: MatchOp;
}
/** Every kind of match the compiler writes (one rendering, one evaluation each). */
export type Match =
  | IfnameMatch
  | NfprotoMatch
  | L4protoMatch
  | AddrMatch
  | PortMatch
  | IcmpMatch
  | CtStateMatch
  | FibTypeMatch
  | MarkMatch
  | EtherMatch
  | TcpFlagsMatch;

/** How a reject answers: a TCP reset or an ICMP/ICMPv6 error of a named type. */
export type RejectWith =
  | { readonly kind: 'tcp-reset' }
  | { readonly kind: 'icmp'; readonly family: IpFamily; readonly type: 'port-unreachable' | 'host-prohibited' | 'admin-prohibited' | 'host-unreachable' };

/** The statements that end a rule's evaluation in its chain. */
export type VerdictStmt =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'return' }
  | { readonly kind: 'jump'; readonly target: string }
  | { readonly kind: 'goto'; readonly target: string };

/** Every kind of statement the compiler writes: verdicts, log/limit, marks, helpers, meters, queues. */
export type Stmt =
  | VerdictStmt
  | { readonly kind: 'reject'; readonly with: RejectWith }
  /** Verdict map on the input or output interface name (exact names). */
  | { readonly kind: 'vmap'; readonly key: 'iifname' | 'oifname'; readonly entries: readonly (readonly [string, { readonly kind: 'jump' | 'goto'; readonly target: string }])[] }
  | { readonly kind: 'limit'; readonly rate: number; readonly per: 'second' | 'minute' | 'hour' | 'day'; readonly burst?: number }
  | { readonly kind: 'log'; readonly prefix: string; readonly group: number }
  | { readonly kind: 'ctmark-set'; readonly value: number }
  /** `meta mark set meta mark & and | or`. */
  | { readonly kind: 'mark-set'; readonly and: number; readonly or: number }
  | { readonly kind: 'ct-helper-set'; readonly name: string }
  /** Synflood meter: `update @set { <key> limit rate over R/second burst B packets }`. */
  | { readonly kind: 'meter-over'; readonly set: string; readonly family: IpFamily; readonly prefix: number; readonly rate: number; readonly burst: number }
  | QueueStmt;

/**
 * Hands the packet to userspace over nfnetlink_queue (`queue flags bypass to 0-3`), the
 * NFQUEUE target of pve-firewall's IPS integration (spec §6.3.11). Terminal in the chain: the
 * queue reader (Suricata) decides. `from` = `to` is one queue; a range spreads flows over the
 * queues by flow hash, as iptables' `--queue-balance A:B` does (nft's `fanout` flag would be
 * `--queue-cpu-fanout` instead). `bypass`: when no program listens on the queue the packet is
 * accepted rather than dropped (`--queue-bypass`).
 */
export interface QueueStmt {
  readonly kind: 'queue';
  /** First queue number, 0-65535. */
  readonly from: number;
  /** Last queue number (= `from` for one queue). */
  readonly to: number;
  readonly bypass: boolean;
}

/** True for accept, drop, return, jump and goto: the statements a rule's verdict is. */
export function isVerdict(s: Stmt): s is VerdictStmt {
  return s.kind === 'accept' || s.kind === 'drop' || s.kind === 'return' || s.kind === 'jump' || s.kind === 'goto';
}
