/**
 * Ethernet frame types for the guest option `layer2_protocols` (spec §2.5, §6.11).
 *
 * Generated once from Debian netbase 6.4 `/etc/ethertypes` (the file the reference reads at run
 * time): first column (name) and second column (hexadecimal type); alias columns are ignored, as
 * in the reference. Kept as data so that the library does no I/O.
 */

import ethertypeJson from './ethertypes.json' with { type: 'json' };

/** One ethertype. */
export interface EthertypeInfo {
  /** Name from the first column of `/etc/ethertypes` (e.g. `IPv4`, `ARP`, `802_1Q`). */
  readonly name: string;
  /** The 16-bit EtherType value (e.g. 0x0800). */
  readonly type: number;
}

/** All 35 entries of `/etc/ethertypes`, in file order (the data file keeps the type in hex as the file does). */
export const ETHERTYPES: readonly EthertypeInfo[] = (ethertypeJson as [string, string][]).map(([name, hex]) => ({ name, type: Number.parseInt(hex, 16) }));

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
