/**
 * IP protocol names and numbers accepted by `-p` (spec §3.3.1, Appendix B).
 *
 * The table is Debian netbase 6.4's `/etc/protocols` (name, number), which is what the reference
 * reads at run time; kept here as data so that the library does no I/O. `icmpv6` is added as an
 * extra name for protocol 58, as the reference does.
 */

/** A protocol known to `-p`. */
export interface ProtocolInfo {
  /** Name from the first column of `/etc/protocols` (or `icmpv6`). */
  readonly name: string;
  /** IANA protocol number. */
  readonly number: number;
}

/** `/etc/protocols` of Debian netbase 6.4, in file order, plus `icmpv6`. */
export const PROTOCOLS: readonly ProtocolInfo[] = [
  { name: 'ip', number: 0 },
  { name: 'hopopt', number: 0 },
  { name: 'icmp', number: 1 },
  { name: 'igmp', number: 2 },
  { name: 'ggp', number: 3 },
  { name: 'ipencap', number: 4 },
  { name: 'st', number: 5 },
  { name: 'tcp', number: 6 },
  { name: 'egp', number: 8 },
  { name: 'igp', number: 9 },
  { name: 'pup', number: 12 },
  { name: 'udp', number: 17 },
  { name: 'hmp', number: 20 },
  { name: 'xns-idp', number: 22 },
  { name: 'rdp', number: 27 },
  { name: 'iso-tp4', number: 29 },
  { name: 'dccp', number: 33 },
  { name: 'xtp', number: 36 },
  { name: 'ddp', number: 37 },
  { name: 'idpr-cmtp', number: 38 },
  { name: 'ipv6', number: 41 },
  { name: 'ipv6-route', number: 43 },
  { name: 'ipv6-frag', number: 44 },
  { name: 'idrp', number: 45 },
  { name: 'rsvp', number: 46 },
  { name: 'gre', number: 47 },
  { name: 'esp', number: 50 },
  { name: 'ah', number: 51 },
  { name: 'skip', number: 57 },
  { name: 'ipv6-icmp', number: 58 },
  { name: 'ipv6-nonxt', number: 59 },
  { name: 'ipv6-opts', number: 60 },
  { name: 'rspf', number: 73 },
  { name: 'vmtp', number: 81 },
  { name: 'eigrp', number: 88 },
  { name: 'ospf', number: 89 },
  { name: 'ax.25', number: 93 },
  { name: 'ipip', number: 94 },
  { name: 'etherip', number: 97 },
  { name: 'encap', number: 98 },
  { name: 'pim', number: 103 },
  { name: 'ipcomp', number: 108 },
  { name: 'vrrp', number: 112 },
  { name: 'l2tp', number: 115 },
  { name: 'isis', number: 124 },
  { name: 'sctp', number: 132 },
  { name: 'fc', number: 133 },
  { name: 'mobility-header', number: 135 },
  { name: 'udplite', number: 136 },
  { name: 'mpls-in-ip', number: 137 },
  { name: 'manet', number: 138 },
  { name: 'hip', number: 139 },
  { name: 'shim6', number: 140 },
  { name: 'wesp', number: 141 },
  { name: 'rohc', number: 142 },
  { name: 'ethernet', number: 143 },
  { name: 'mptcp', number: 262 },
  { name: 'icmpv6', number: 58 },
];

const BY_NAME: ReadonlyMap<string, ProtocolInfo> = new Map(PROTOCOLS.map((p) => [p.name, p]));
const BY_NUMBER: ReadonlyMap<string, ProtocolInfo> = (() => {
  const m = new Map<string, ProtocolInfo>();
  // First name wins for a number (`0` is `ip`, `58` is `ipv6-icmp`).
  for (const p of PROTOCOLS) if (!m.has(String(p.number))) m.set(String(p.number), p);
  return m;
})();

/**
 * Looks up a `-p` value: a protocol name (case-sensitive: `TCP` is unknown) or a number exactly
 * as listed (`6`; not `06`, and not numbers absent from the table such as `200`).
 * For a number the first name listed for it is returned.
 */
export function lookupProtocol(p: string): ProtocolInfo | undefined {
  return BY_NAME.get(p) ?? BY_NUMBER.get(p);
}

const PORT_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'udplite', 'dccp', 'sctp', '6', '17', '136', '33', '132']);

/** True for the protocols that carry ports (`-dport`/`-sport` allowed): tcp, udp, udplite, dccp, sctp, by name or number. */
export function isPortProtocol(p: string): boolean {
  return PORT_PROTOCOLS.has(p);
}

/**
 * The IP version an ICMP-like protocol implies: `icmp` → 4, `icmpv6`/`ipv6-icmp` → 6,
 * anything else (including the numbers `1` and `58`, as in the reference) → undefined.
 */
export function icmpProtocolVersion(p: string): 4 | 6 | undefined {
  if (p === 'icmp') return 4;
  if (p === 'icmpv6' || p === 'ipv6-icmp') return 6;
  return undefined;
}
