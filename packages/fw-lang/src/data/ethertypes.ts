/**
 * Ethernet frame types for the guest option `layer2_protocols` (spec §2.5, §6.11).
 *
 * Generated once from Debian netbase 6.4 `/etc/ethertypes` (the file the reference reads at run
 * time): first column (name) and second column (hexadecimal type); alias columns are ignored, as
 * in the reference. Kept as data so that the library does no I/O.
 */

/** One ethertype. */
export interface EthertypeInfo {
  /** Name from the first column of `/etc/ethertypes` (e.g. `IPv4`, `ARP`, `802_1Q`). */
  readonly name: string;
  /** The 16-bit EtherType value (e.g. 0x0800). */
  readonly type: number;
}

/** All 35 entries of `/etc/ethertypes`, in file order. */
export const ETHERTYPES: readonly EthertypeInfo[] = [
  { name: 'IPv4', type: 0x0800 },
  { name: 'X25', type: 0x0805 },
  { name: 'ARP', type: 0x0806 },
  { name: 'FR_ARP', type: 0x0808 },
  { name: 'BPQ', type: 0x08ff },
  { name: 'TRILL', type: 0x22f3 },
  { name: 'L2-IS-IS', type: 0x22f4 },
  { name: 'TEB', type: 0x6558 },
  { name: 'RAW_FR', type: 0x6559 },
  { name: 'RARP', type: 0x8035 },
  { name: 'ATALK', type: 0x809b },
  { name: 'AARP', type: 0x80f3 },
  { name: '802_1Q', type: 0x8100 },
  { name: 'IPX', type: 0x8137 },
  { name: 'NetBEUI', type: 0x8191 },
  { name: 'IPv6', type: 0x86dd },
  { name: 'PPP', type: 0x880b },
  { name: 'MPLS', type: 0x8847 },
  { name: 'MPLS_MULTI', type: 0x8848 },
  { name: 'ATMMPOA', type: 0x884c },
  { name: 'PPP_DISC', type: 0x8863 },
  { name: 'PPP_SES', type: 0x8864 },
  { name: 'ATMFATE', type: 0x8884 },
  { name: 'EAPOL', type: 0x888e },
  { name: 'S-TAG', type: 0x88a8 },
  { name: 'EAP_PREAUTH', type: 0x88c7 },
  { name: 'LLDP', type: 0x88cc },
  { name: 'MACSEC', type: 0x88e5 },
  { name: 'PBB', type: 0x88e7 },
  { name: 'MVRP', type: 0x88f5 },
  { name: 'PTP', type: 0x88f7 },
  { name: 'FCOE', type: 0x8906 },
  { name: 'FIP', type: 0x8914 },
  { name: 'ROCE', type: 0x8915 },
  { name: 'LoWPAN', type: 0xa0ed },
];

const BY_NAME: ReadonlyMap<string, EthertypeInfo> = new Map(ETHERTYPES.map((e) => [e.name, e]));
const BY_TYPE: ReadonlyMap<number, EthertypeInfo> = new Map(ETHERTYPES.map((e) => [e.type, e]));

/**
 * Looks up a `layer2_protocols` item: a first-column name, case-sensitive (`IPv4`, `ARP`), or
 * the second column as written in the file, i.e. four hexadecimal digits (`0800`, `86DD`;
 * compared case-insensitively), which is how ebtables reads a number. Alias columns and other
 * spellings are unknown (`undefined`).
 */
export function lookupEthertype(name: string): EthertypeInfo | undefined {
  const byName = BY_NAME.get(name);
  if (byName !== undefined) return byName;
  if (!/^[0-9a-fA-F]{4}$/.test(name)) return undefined;
  return BY_TYPE.get(Number.parseInt(name, 16));
}
