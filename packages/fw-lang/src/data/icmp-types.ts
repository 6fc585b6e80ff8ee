/**
 * ICMP type names accepted by `-icmp-type` and by the legacy ICMP `-dport` form (spec Appendix A).
 *
 * Names and values are those of iptables (`icmp`) and ip6tables (`icmpv6`). A name with a `code`
 * matches that type and code; a name without one matches the type with any code. Names are
 * case-sensitive (note the upper-case `TOS-` prefix).
 */

import icmpTable from './icmp-types.json' with { type: 'json' };

/** What an ICMP type name means. */
export interface IcmpTypeInfo {
  /** ICMP type (0–255). For `any` this is 255, iptables' own encoding of "every type". */
  readonly type: number;
  /** ICMP code, when the name implies one. */
  readonly code?: number;
  /** True only for the IPv4 name `any`, which matches every ICMP type. */
  readonly any?: true;
}

/** The 37 IPv4 names (iptables `icmp`), by name. */
export const ICMP_TYPES_V4: ReadonlyMap<string, IcmpTypeInfo> = new Map(Object.entries(icmpTable.v4 as Record<string, IcmpTypeInfo>));

/** The 25 IPv6 names (ip6tables `icmpv6`, also used for `ipv6-icmp`), by name. */
export const ICMP_TYPES_V6: ReadonlyMap<string, IcmpTypeInfo> = new Map(Object.entries(icmpTable.v6 as Record<string, IcmpTypeInfo>));

/** The ICMP type table for an IP version. */
export function icmpTypesFor(version: 4 | 6): ReadonlyMap<string, IcmpTypeInfo> {
  return version === 4 ? ICMP_TYPES_V4 : ICMP_TYPES_V6;
}

/** True when `name` is an ICMP type name of either family (the legacy `-dport` check). */
export function isIcmpTypeName(name: string): boolean {
  return ICMP_TYPES_V4.has(name) || ICMP_TYPES_V6.has(name);
}
