/**
 * The public input, options and result types of the compiler, with their defaults: what a
 * caller of {@link compileNode} passes in and gets back.
 */
import type { CorosyncConfig, FwDocument, GuestConfig } from '@palisade/fw-lang';
import type { Ruleset } from '@palisade/nft-ir';
import { DEFAULT_LOG_GROUP } from './log-prefix.js';

/** The documents of an /etc/pve-like tree the compiler reads (a `PveTree` fits). */
export interface CompileTree {
  readonly cluster?: FwDocument;
  readonly hosts: ReadonlyMap<string, FwDocument>;
  readonly guests: ReadonlyMap<number, FwDocument>;
  readonly guestConfigs: ReadonlyMap<number, { readonly node: string; readonly config: GuestConfig }>;
  readonly corosync?: CorosyncConfig;
}

/** Facts about the node that are not in the configuration. */
export interface NodeFacts {
  /** Node name (`nodes/<name>/`). */
  readonly node: string;
  /**
   * Host addresses, `IP` or `IP/prefix`. The first one is "the host's address" of simulate.
   * Default: the node's `ring0_addr` from corosync.conf.
   */
  readonly hostAddresses?: readonly string[];
  /** Effective `local_network` unless cluster.fw defines the alias. Default: network of the first host address. */
  readonly localNetwork?: string;
  /** Seconds since the epoch, for a cluster `enable: <timestamp>`. */
  readonly nowSeconds?: number;
}

/** Options of {@link compileNode}; every field has a default in {@link DEFAULT_COMPILE_OPTIONS}. */
export interface CompileOptions {
  /** Name of Palisade's tables (`inet` and `bridge`). Default `palisade`. */
  readonly tableName?: string;
  /** NFLOG group every log rule sends to. Default {@link DEFAULT_LOG_GROUP} (not pvefw-logger's 0). */
  readonly logGroup?: number;
  /**
   * Packet-mark bits used to carry the bridge direction into the inet table. Default mask
   * 0x0c000000, towards-guest 0x04000000, from-guest 0x08000000.
   */
  readonly markMask?: number;
  readonly markIn?: number;
  readonly markOut?: number;
  /**
   * Mark bit set on every packet the reject helper answers. With `fwmark_reflect` the kernel
   * copies it to the TCP reset / ICMP error, which is then let through the INVALID checks it
   * meets on its way back (it has no conntrack entry of its own). Default 0x10000000.
   */
  readonly markReject?: number;
}

/**
 * Kernel settings the ruleset relies on, inside the namespace it is applied to: bridged
 * traffic must pass the inet hooks (br_netfilter), and kernel-generated REJECT answers must
 * carry the mark of the packet they answer.
 */
export const REQUIRED_SYSCTLS: readonly (readonly [string, string])[] = [
  ['net.bridge.bridge-nf-call-iptables', '1'],
  ['net.bridge.bridge-nf-call-ip6tables', '1'],
  ['net.ipv4.fwmark_reflect', '1'],
  ['net.ipv6.fwmark_reflect', '1'],
];

/** The defaults of {@link CompileOptions}. */
export const DEFAULT_COMPILE_OPTIONS: Required<CompileOptions> = {
  tableName: 'palisade',
  logGroup: DEFAULT_LOG_GROUP,
  markMask: 0x0c000000,
  markIn: 0x04000000,
  markOut: 0x08000000,
  markReject: 0x10000000,
};

/** The compiler's diagnostic codes and what each means (a skipped rule, a missing fact). */
export const COMPILE_CODES = {
  FWC01: 'rule skipped: reference does not resolve in its scope',
  FWC02: 'rule skipped: value cannot be compiled for this IP version',
  FWC03: 'security group not defined: behaves as an empty group',
  FWC05: 'guest NIC without MAC address: no MAC filter',
  FWC06: 'host address unknown',
  FWC07: 'corosync peer address is a host name: no rule (names are not resolved)',
  FWC08: 'ips_queues is not a queue number or range of 0-65535: queue 0 used',
} as const;
/** One of {@link COMPILE_CODES}. */
export type CompileCode = keyof typeof COMPILE_CODES;

/** A problem found while compiling: the rule or fact is skipped, never thrown. */
export interface CompileDiagnostic {
  readonly code: CompileCode;
  readonly message: string;
  readonly path?: string;
  readonly line?: number;
}

/** A guest NIC as the topology sees it. */
export interface TopologyNic {
  readonly vmid: number;
  readonly index: number;
  readonly guestType: 'qemu' | 'lxc';
  /** `tap<V>i<N>` or `veth<V>i<N>`. */
  readonly iface: string;
  readonly bridge: string;
  readonly mac?: string;
  /** NIC has `firewall=1`: it sits behind `fwbr<V>i<N>`. */
  readonly firewall: boolean;
  /** Guest firewall enabled and NIC firewalled: chains exist for it. */
  readonly filtered: boolean;
  readonly fwbr: string;
  readonly fwln: string;
  readonly fwpr: string;
  readonly ip?: string;
  readonly ip6?: string;
}

/** The node, its addresses and bridges, and its guest NICs in vmid and NIC order. */
export interface Topology {
  readonly node: string;
  /** Host addresses as given/derived (`IP/prefix`). */
  readonly hostAddresses: readonly string[];
  readonly localNetwork?: string;
  /** Bridges named by the guests of this node (always includes vmbr0), sorted. */
  readonly bridges: readonly string[];
  readonly nics: readonly TopologyNic[];
}

/** What {@link compileNode} returns: the ruleset, the tables it owns, the topology it saw and the diagnostics. */
export interface CompileResult {
  readonly ruleset: Ruleset;
  /** Tables the transaction owns (created or replaced; deleted when the firewall is off). */
  readonly ownTables: readonly { readonly family: 'inet' | 'bridge'; readonly name: string }[];
  readonly topology: Topology;
  readonly diagnostics: readonly CompileDiagnostic[];
  /** True when the cluster firewall is enabled (otherwise the ruleset is empty). */
  readonly enabled: boolean;
}
