import goldenJson from './net-ip.golden.json' with { type: 'json' };

/**
 * Golden cases for the Net::IP port: the reference address-list check (pve-firewall
 * `parse_address_list`) run with Perl Net::IP 1.26 on each input. Generated once. `error` is
 * the reference message (one trailing newline Net::IP adds removed); `STALE` marks a Net::IP
 * failure that reports a leftover error; `deviation` marks inputs Net::IP accepts by ignoring a
 * malformed prefix, which Palisade refuses.
 */
export interface NetIpGolden {
  readonly input: string;
  readonly error?: string;
  readonly deviation?: true;
  readonly version?: 4 | 6;
  /** Per element: first and last address (decimal) and the prefix length if it is one prefix. */
  readonly items?: readonly { readonly begin: string; readonly end: string; readonly prefixlen: number | null }[];
}

/** The golden cases, typed; the address-list tests run the port against every one. */
export const NET_IP_GOLDEN: readonly NetIpGolden[] = goldenJson as readonly NetIpGolden[];
