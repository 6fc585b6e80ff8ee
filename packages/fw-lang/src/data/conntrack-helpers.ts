/**
 * Conntrack helpers of the host option `nf_conntrack_helpers` (table at the end of spec §5).
 * Each helper is attached in raw PREROUTING for its protocol and destination port, in the IP
 * families it supports.
 */

/** One conntrack helper. */
export interface ConntrackHelper {
  /** Helper name as written in the option (lower-case) and as known to the kernel. */
  readonly name: string;
  readonly proto: 'tcp' | 'udp';
  /** Destination port the helper is attached to. */
  readonly dport: number;
  /** Supported for IPv4. */
  readonly v4: boolean;
  /** Supported for IPv6. */
  readonly v6: boolean;
}

/** All helpers the reference knows, in its order. */
export const CONNTRACK_HELPERS: readonly ConntrackHelper[] = [
  { name: 'amanda', proto: 'udp', dport: 10080, v4: true, v6: true },
  { name: 'ftp', proto: 'tcp', dport: 21, v4: true, v6: true },
  { name: 'irc', proto: 'tcp', dport: 6667, v4: true, v6: false },
  { name: 'netbios-ns', proto: 'udp', dport: 137, v4: true, v6: false },
  { name: 'pptp', proto: 'tcp', dport: 1723, v4: true, v6: false },
  { name: 'sane', proto: 'tcp', dport: 6566, v4: true, v6: true },
  { name: 'sip', proto: 'udp', dport: 5060, v4: true, v6: true },
  { name: 'snmp', proto: 'udp', dport: 161, v4: true, v6: false },
  { name: 'tftp', proto: 'udp', dport: 69, v4: true, v6: true },
];

const BY_NAME: ReadonlyMap<string, ConntrackHelper> = new Map(CONNTRACK_HELPERS.map((h) => [h.name, h]));

/** Finds a helper by its (lower-case) name; the option parser lower-cases the value first. */
export function findConntrackHelper(name: string): ConntrackHelper | undefined {
  return BY_NAME.get(name);
}
