/**
 * IP protocol names and numbers accepted by `-p` (spec §3.3.1, Appendix B).
 *
 * The table is Debian netbase 6.4's `/etc/protocols` (name, number), which is what the reference
 * reads at run time; kept here as data so that the library does no I/O. `icmpv6` is added as an
 * extra name for protocol 58, as the reference does.
 */

import protocolJson from './protocols.json' with { type: 'json' };

/** A protocol known to `-p`. */
export interface ProtocolInfo {
  /** Name from the first column of `/etc/protocols` (or `icmpv6`). */
  readonly name: string;
  /** IANA protocol number. */
  readonly number: number;
}

/** `/etc/protocols` of Debian netbase 6.4, in file order, plus `icmpv6`. */
export const PROTOCOLS: readonly ProtocolInfo[] = (protocolJson as [string, number][]).map(([name, number]) => ({ name, number }));

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
