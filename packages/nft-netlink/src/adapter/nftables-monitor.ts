/**
 * An nf_tables monitor: a NETLINK_NETFILTER socket in the `NFNLGRP_NFTABLES` multicast group,
 * which the kernel tells every committed table, chain, rule, set and element change (what
 * `nft monitor` shows), as NFT_MSG_NEW… / DEL… messages framed by NFT_MSG_NEWGEN. A netlink
 * listener (`netlink-listener.ts`) with that protocol and group; datagrams come undecoded.
 */
import { NETLINK_NETFILTER, NFNLGRP_NFTABLES } from '../codec/constants.js';
import { openNetlinkListener, type ListenerCallerOptions, type NetlinkListener } from './netlink-listener.js';

/** Options of {@link openNftablesMonitor} (the receive buffer defaults to 1 MiB). */
export interface NftablesMonitorOptions extends ListenerCallerOptions {
  /** Gives up when the reader has not bound the socket within this long, ms. Default 5,000. */
  readonly setupTimeoutMs?: number;
}

/** The defaults of {@link NftablesMonitorOptions}. */
export const DEFAULT_NFTABLES_MONITOR_OPTIONS = { recvBufferBytes: 1 << 20, setupTimeoutMs: 5_000 } as const;

/** Starts the reader and resolves once its socket is in the nf_tables notification group. */
export function openNftablesMonitor(o: NftablesMonitorOptions): Promise<NetlinkListener> {
  const d = DEFAULT_NFTABLES_MONITOR_OPTIONS;
  return openNetlinkListener({
    ...o,
    name: 'nf_tables monitor',
    protocol: NETLINK_NETFILTER,
    groups: 1 << (NFNLGRP_NFTABLES - 1),
    recvBufferBytes: o.recvBufferBytes ?? d.recvBufferBytes,
    setupTimeoutMs: o.setupTimeoutMs ?? d.setupTimeoutMs,
  });
}
