/**
 * ICMP type names accepted by `-icmp-type` and by the legacy ICMP `-dport` form (spec Appendix A).
 *
 * Names and values are those of iptables (`icmp`) and ip6tables (`icmpv6`). A name with a `code`
 * matches that type and code; a name without one matches the type with any code. Names are
 * case-sensitive (note the upper-case `TOS-` prefix).
 */

/** What an ICMP type name means. */
export interface IcmpTypeInfo {
  /** ICMP type (0–255). For `any` this is 255, iptables' own encoding of "every type". */
  readonly type: number;
  /** ICMP code, when the name implies one. */
  readonly code?: number;
  /** True only for the IPv4 name `any`, which matches every ICMP type. */
  readonly any?: true;
}

const t = (type: number, code?: number): IcmpTypeInfo => (code === undefined ? { type } : { type, code });

/** The 37 IPv4 names (iptables `icmp`), by name. */
export const ICMP_TYPES_V4: ReadonlyMap<string, IcmpTypeInfo> = new Map<string, IcmpTypeInfo>([
  ['any', { type: 255, any: true }],
  ['echo-reply', t(0)],
  ['destination-unreachable', t(3)],
  ['network-unreachable', t(3, 0)],
  ['host-unreachable', t(3, 1)],
  ['protocol-unreachable', t(3, 2)],
  ['port-unreachable', t(3, 3)],
  ['fragmentation-needed', t(3, 4)],
  ['source-route-failed', t(3, 5)],
  ['network-unknown', t(3, 6)],
  ['host-unknown', t(3, 7)],
  ['network-prohibited', t(3, 9)],
  ['host-prohibited', t(3, 10)],
  ['TOS-network-unreachable', t(3, 11)],
  ['TOS-host-unreachable', t(3, 12)],
  ['communication-prohibited', t(3, 13)],
  ['host-precedence-violation', t(3, 14)],
  ['precedence-cutoff', t(3, 15)],
  ['source-quench', t(4)],
  ['redirect', t(5)],
  ['network-redirect', t(5, 0)],
  ['host-redirect', t(5, 1)],
  ['TOS-network-redirect', t(5, 2)],
  ['TOS-host-redirect', t(5, 3)],
  ['echo-request', t(8)],
  ['router-advertisement', t(9)],
  ['router-solicitation', t(10)],
  ['time-exceeded', t(11)],
  ['ttl-zero-during-transit', t(11, 0)],
  ['ttl-zero-during-reassembly', t(11, 1)],
  ['parameter-problem', t(12)],
  ['ip-header-bad', t(12, 0)],
  ['required-option-missing', t(12, 1)],
  ['timestamp-request', t(13)],
  ['timestamp-reply', t(14)],
  ['address-mask-request', t(17)],
  ['address-mask-reply', t(18)],
]);

/** The 25 IPv6 names (ip6tables `icmpv6`, also used for `ipv6-icmp`), by name. */
export const ICMP_TYPES_V6: ReadonlyMap<string, IcmpTypeInfo> = new Map<string, IcmpTypeInfo>([
  ['destination-unreachable', t(1)],
  ['no-route', t(1, 0)],
  ['communication-prohibited', t(1, 1)],
  ['beyond-scope', t(1, 2)],
  ['address-unreachable', t(1, 3)],
  ['port-unreachable', t(1, 4)],
  ['failed-policy', t(1, 5)],
  ['reject-route', t(1, 6)],
  ['packet-too-big', t(2)],
  ['time-exceeded', t(3)],
  ['ttl-zero-during-transit', t(3, 0)],
  ['ttl-zero-during-reassembly', t(3, 1)],
  ['parameter-problem', t(4)],
  ['bad-header', t(4, 0)],
  ['unknown-header-type', t(4, 1)],
  ['unknown-option', t(4, 2)],
  ['echo-request', t(128)],
  ['echo-reply', t(129)],
  ['router-solicitation', t(133)],
  ['router-advertisement', t(134)],
  ['neighbor-solicitation', t(135)],
  ['neighbour-solicitation', t(135)],
  ['neighbor-advertisement', t(136)],
  ['neighbour-advertisement', t(136)],
  ['redirect', t(137)],
]);

/** The ICMP type table for an IP version. */
export function icmpTypesFor(version: 4 | 6): ReadonlyMap<string, IcmpTypeInfo> {
  return version === 4 ? ICMP_TYPES_V4 : ICMP_TYPES_V6;
}

/** True when `name` is an ICMP type name of either family (the legacy `-dport` check). */
export function isIcmpTypeName(name: string): boolean {
  return ICMP_TYPES_V4.has(name) || ICMP_TYPES_V6.has(name);
}
