/**
 * The in-process link: an AF_NETLINK / NETLINK_NETFILTER socket in the network namespace of
 * this process, opened with the `netlink` package (a small N-API addon with prebuilt binaries,
 * `RawNetlinkSocket` mirrors `dgram.Socket`).
 */
import { createRequire } from 'node:module';
import { NETLINK_NETFILTER } from '../codec/constants.js';
import { NftNetlinkError } from '../errors.js';
import type { DatagramLink, LinkListener } from './link.js';

// The package is CommonJS; its types are those of `RawNetlinkSocket` in `netlink/dist/raw`.
type RawSocketModule = typeof import('netlink');
const require = createRequire(import.meta.url);

/** Options of `openSocketLink`. */
export interface SocketLinkOptions {
  /** `SO_SNDBUF` to request, bytes (the kernel caps it at `net.core.wmem_max`, then doubles it). Default 4 MiB. */
  readonly sendBufferBytes?: number;
  /** `SO_RCVBUF` to request, bytes (capped at `net.core.rmem_max`, doubled). Default 4 MiB. */
  readonly recvBufferBytes?: number;
}

export const DEFAULT_SOCKET_LINK_OPTIONS = { sendBufferBytes: 4 << 20, recvBufferBytes: 4 << 20 } as const;

interface ErrnoLike {
  errno?: number;
  code?: string;
  message?: string;
}

/** Opens a netfilter netlink socket in the current network namespace. */
export function openSocketLink(options: SocketLinkOptions = {}): DatagramLink {
  const { RawNetlinkSocket } = require('netlink') as RawSocketModule;
  let socket: InstanceType<RawSocketModule['RawNetlinkSocket']>;
  try {
    socket = new RawNetlinkSocket(NETLINK_NETFILTER, {
      sendBufferSize: options.sendBufferBytes ?? DEFAULT_SOCKET_LINK_OPTIONS.sendBufferBytes,
      recvBufferSize: options.recvBufferBytes ?? DEFAULT_SOCKET_LINK_OPTIONS.recvBufferBytes,
    });
  } catch (cause) {
    const e = cause as ErrnoLike;
    throw new NftNetlinkError('SOCKET_ERROR', `cannot open a NETLINK_NETFILTER socket: ${e.message ?? String(cause)}`, { errno: e.errno, errnoName: e.code, cause });
  }
  const listeners = new Set<LinkListener>();
  let closed = false;
  socket.on('message', (msg) => {
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    for (const l of listeners) l.datagram(bytes);
  });
  socket.on('error', (cause) => {
    const err = new NftNetlinkError('SOCKET_ERROR', `netlink socket: ${cause.message}`, { errno: cause.errno, errnoName: cause.code, cause });
    for (const l of listeners) l.error(err);
  });
  // netlink.h: a datagram must fit sk_sndbuf less the skb overhead the kernel counts (32 bytes)
  const maxSendBytes = Math.max(0, socket.getSendBufferSize() - 32);
  return {
    maxSendBytes,
    send(bytes) {
      if (closed) return Promise.reject(new NftNetlinkError('CLOSED', 'netlink socket is closed'));
      return new Promise<void>((resolve, reject) => {
        socket.send(bytes, { port: 0 }, (cause) => {
          if (cause === undefined || cause === null) resolve();
          else reject(new NftNetlinkError('SOCKET_ERROR', `sendmsg: ${cause.message}`, { errno: cause.errno, errnoName: cause.code, cause }));
        });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (!closed) {
        closed = true;
        listeners.clear();
        socket.close();
      }
      return Promise.resolve();
    },
  };
}
