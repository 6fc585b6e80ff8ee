/**
 * An rtnetlink listener: a NETLINK_ROUTE socket bound to multicast groups (links, IPv4 and
 * IPv6 addresses), in this process's network namespace or inside a named one. A netlink
 * listener (`netlink-listener.ts`: the socket lives in a reader process,
 * `perl rtnetlink-reader.pl …`): requests (dumps) go to the reader over its stdin; every datagram
 * comes back undecoded, and an overrun (ENOBUFS: notifications were lost) is reported so the
 * caller can dump again.
 */
import { NETLINK_ROUTE } from '../rtnetlink/rtnetlink-codec.js';
import { openNetlinkListener, relayScriptPath, type ListenerCallerOptions, type NetlinkListener } from './netlink-listener.js';

/** Options of {@link openRouteListener}. */
export interface RouteListenerOptions extends ListenerCallerOptions {
  /** `RTMGRP_*` bits to subscribe (`LINK_ADDRESS_GROUPS` for links and addresses). */
  readonly groups: number;
  /** Gives up when the reader is not subscribed within this long, ms. Default 5,000. */
  readonly startTimeoutMs?: number;
}

/** The defaults of {@link RouteListenerOptions}. */
export const DEFAULT_ROUTE_LISTENER_OPTIONS = { recvBufferBytes: 1 << 20, startTimeoutMs: 5_000, ipCommand: 'ip', perlCommand: 'perl' } as const;

/** Path of the reader script (in the package's `relay/` folder). */
export const ROUTE_READER_PATH = relayScriptPath('rtnetlink-reader.pl');

/** A subscribed rtnetlink socket. */
export type RouteListener = NetlinkListener;

/** Starts the reader and resolves once its socket is bound to `groups`. */
export async function openRouteListener(o: RouteListenerOptions): Promise<RouteListener> {
  const d = DEFAULT_ROUTE_LISTENER_OPTIONS;
  return openNetlinkListener({
    ...o,
    name: 'rtnetlink reader',
    protocol: NETLINK_ROUTE,
    groups: o.groups,
    recvBufferBytes: o.recvBufferBytes ?? d.recvBufferBytes,
    setupTimeoutMs: o.startTimeoutMs ?? d.startTimeoutMs,
    readerScript: ROUTE_READER_PATH,
    ipCommand: o.ipCommand ?? d.ipCommand,
    perlCommand: o.perlCommand ?? d.perlCommand,
  });
}
