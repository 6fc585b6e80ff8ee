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
  /** `SO_SNDBUFFORCE` to set when the addon is built and allowed, bytes (doubled by the kernel); 0: never. Default 64 MiB. */
  readonly forceSendBufferBytes?: number;
}

export const DEFAULT_SOCKET_LINK_OPTIONS = { sendBufferBytes: 4 << 20, recvBufferBytes: 4 << 20, forceSendBufferBytes: 64 << 20 } as const;

interface SndbufAddon {
  forceSendBuffer(protocol: number, portId: number, bytes: number): number;
}

/**
 * Raises the send buffer of the socket bound to `portId` past `net.core.wmem_max` with
 * SO_SNDBUFFORCE (`native/sndbuf.c`, built on install; needs CAP_NET_ADMIN), as nft does for a
 * large batch: a whole replace is one datagram. False when the addon is not built or the
 * kernel refuses; the buffer then stays as SO_SNDBUF left it.
 */
export function forceSendBuffer(portId: number, bytes: number): boolean {
  let addon: SndbufAddon;
  try {
    addon = require('../../native/build/sndbuf.node') as SndbufAddon;
  } catch {
    return false;
  }
  try {
    addon.forceSendBuffer(NETLINK_NETFILTER, portId, bytes);
    return true;
  } catch {
    return false;
  }
}

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
  const force = options.forceSendBufferBytes ?? DEFAULT_SOCKET_LINK_OPTIONS.forceSendBufferBytes;
  if (force > 0) forceSendBuffer(socket.address().port, force);
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
