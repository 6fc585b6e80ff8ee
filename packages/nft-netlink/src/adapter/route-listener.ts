/**
 * An rtnetlink listener: a NETLINK_ROUTE socket bound to multicast groups (links, IPv4 and
 * IPv6 addresses), in this process's network namespace or inside a named one. As for NFLOG
 * (`nflog-listener.ts`) the socket lives in a small reader process (`relay/rtnetlink-reader.pl`,
 * started as `[ip netns exec NS] perl rtnetlink-reader.pl …`), because the `netlink` addon
 * aborts the process after a receive-buffer overrun. Requests (dumps) go to the reader over its
 * stdin; every datagram comes back undecoded, and an overrun (ENOBUFS: notifications were lost)
 * is reported so the caller can dump again. The reader exits with its stdin, so a killed parent
 * leaves nothing behind.
 */
import { fileURLToPath } from 'node:url';
import { NftNetlinkError } from '../errors.js';
import { READER_FRAME, startReaderChild } from './reader-child.js';

/** Options of {@link openRouteListener}. */
export interface RouteListenerOptions {
  /** `RTMGRP_*` bits to subscribe (`LINK_ADDRESS_GROUPS` for links and addresses). */
  readonly groups: number;
  /** Network namespace to listen in (as `ip netns list` shows it); omitted: this process's. */
  readonly netns?: string;
  /** Receive buffer, bytes (`SO_RCVBUFFORCE` as root; the kernel doubles it). Default 1 MiB. */
  readonly recvBufferBytes?: number;
  /** Gives up when the reader is not subscribed within this long, ms. Default 5,000. */
  readonly startTimeoutMs?: number;
  /** Every datagram from the kernel (notifications and dump answers). */
  readonly onDatagram: (bytes: Uint8Array) => void;
  /** The kernel dropped messages because the receive buffer was full (ENOBUFS): dump again. */
  readonly onOverrun: () => void;
  /** The socket or the reader failed; no more datagrams come. */
  readonly onError: (err: Error) => void;
  /** The `ip` binary. Default `ip`. */
  readonly ipCommand?: string;
  /** The `perl` binary. Default `perl`. */
  readonly perlCommand?: string;
}

export const DEFAULT_ROUTE_LISTENER_OPTIONS = { recvBufferBytes: 1 << 20, startTimeoutMs: 5_000, ipCommand: 'ip', perlCommand: 'perl' } as const;

/** Path of the reader script (in the package's `relay/` folder). */
export const ROUTE_READER_PATH = fileURLToPath(new URL('../../relay/rtnetlink-reader.pl', import.meta.url));

/** A subscribed rtnetlink socket. */
export interface RouteListener {
  /** PID of the reader process (it holds the socket), undefined once it exited. */
  readonly pid: number | undefined;
  /** Sends one request (e.g. `encodeRouteDump`) to the kernel; answers arrive as datagrams. */
  send(request: Uint8Array): void;
  /** Stops the reader. Idempotent. */
  close(): Promise<void>;
}

/** Starts the reader and resolves once its socket is bound to `groups`. */
export async function openRouteListener(o: RouteListenerOptions): Promise<RouteListener> {
  if (!Number.isInteger(o.groups) || o.groups < 0 || o.groups > 0xffffffff) throw new NftNetlinkError('INVALID_REQUEST', `rtnetlink groups ${o.groups} are not a 32-bit mask`);
  const d = DEFAULT_ROUTE_LISTENER_OPTIONS;
  let ready = false;
  let started: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error): void => {
    if (reader.closed) return;
    if (!ready) started?.reject(err);
    else o.onError(err);
  };
  const onFrame = (type: number, body: Buffer): void => {
    if (type === READER_FRAME.READY) {
      ready = true;
      started?.resolve();
    } else if (type === READER_FRAME.OVERRUN) {
      if (ready && !reader.closed) o.onOverrun();
    } else if (type === READER_FRAME.ERROR) fail(new NftNetlinkError('SOCKET_ERROR', `rtnetlink reader${reader.where}: ${body.toString('utf8')}`));
    else if (type === READER_FRAME.DATAGRAM && ready && !reader.closed) o.onDatagram(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  };
  const reader = startReaderChild({
    name: 'rtnetlink reader',
    script: ROUTE_READER_PATH,
    args: [String(o.recvBufferBytes ?? d.recvBufferBytes), String(o.groups)],
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    ipCommand: o.ipCommand ?? d.ipCommand,
    perlCommand: o.perlCommand ?? d.perlCommand,
    onFrame,
    onFailure: fail,
  });
  const child = reader.process;
  const close = (): Promise<void> => reader.close();
  const timeoutMs = o.startTimeoutMs ?? d.startTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      started = { resolve, reject };
      timer = setTimeout(() => reject(new NftNetlinkError('TIMEOUT', `rtnetlink reader${reader.where}: not subscribed within ${timeoutMs} ms${reader.stderr() ? ` (${reader.stderr().trim()})` : ''}`)), timeoutMs);
    });
  } catch (err) {
    await close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    get pid() {
      return child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    send(request) {
      if (reader.closed) throw new NftNetlinkError('CLOSED', 'the rtnetlink listener is closed');
      const frame = Buffer.allocUnsafe(4 + request.length);
      frame.writeUInt32LE(request.length, 0);
      frame.set(request, 4);
      child.stdin.write(frame);
    },
    close,
  };
}
