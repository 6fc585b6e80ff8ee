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
  /**
   * Opens the socket in this named network namespace (`/run/netns/NAME`) instead of the
   * process's own: the addon moves the calling thread there for the `socket(2)` call only
   * (`netnsSocketSupported()`). Undefined (default): this process's namespace.
   */
  readonly netns?: string;
}

/** The defaults of the socket link's options. */
export const DEFAULT_SOCKET_LINK_OPTIONS = { sendBufferBytes: 4 << 20, recvBufferBytes: 4 << 20, forceSendBufferBytes: 64 << 20 } as const;

interface SndbufAddon {
  forceSendBuffer(protocol: number, portId: number, bytes: number): number;
  inNetns?<T>(this: void, path: string, fn: () => T): T;
}

function loadAddon(): SndbufAddon | undefined {
  try {
    return require('../../native/build/sndbuf.node') as SndbufAddon;
  } catch {
    return undefined;
  }
}

/** True when `openSocketLink({ netns })` can open a socket in another namespace (the native addon is built). */
export function netnsSocketSupported(): boolean {
  return typeof loadAddon()?.inNetns === 'function';
}

/**
 * Raises the send buffer of the socket bound to `portId` past `net.core.wmem_max` with
 * SO_SNDBUFFORCE (`native/sndbuf.c`, built on install; needs CAP_NET_ADMIN), as nft does for a
 * large batch: a whole replace is one datagram. False when the addon is not built or the
 * kernel refuses; the buffer then stays as SO_SNDBUF left it.
 */
export function forceSendBuffer(portId: number, bytes: number): boolean {
  const addon = loadAddon();
  if (addon === undefined) return false;
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
  const force = options.forceSendBufferBytes ?? DEFAULT_SOCKET_LINK_OPTIONS.forceSendBufferBytes;
  const open = (): InstanceType<RawSocketModule['RawNetlinkSocket']> => {
    const s = new RawNetlinkSocket(NETLINK_NETFILTER, {
      sendBufferSize: options.sendBufferBytes ?? DEFAULT_SOCKET_LINK_OPTIONS.sendBufferBytes,
      recvBufferSize: options.recvBufferBytes ?? DEFAULT_SOCKET_LINK_OPTIONS.recvBufferBytes,
    });
    // port ids are per namespace: the addon finds the socket among those of the thread's namespace
    if (force > 0) forceSendBuffer(s.address().port, force);
    return s;
  };
  const where = options.netns === undefined ? '' : ` in network namespace "${options.netns}"`;
  try {
    if (options.netns === undefined) socket = open();
    else {
      if (!/^[A-Za-z0-9_.-]{1,255}$/.test(options.netns) || options.netns.startsWith('.')) {
        throw new NftNetlinkError('INVALID_REQUEST', `invalid network namespace name "${options.netns}"`);
      }
      const inNetns = loadAddon()?.inNetns;
      if (inNetns === undefined) throw new NftNetlinkError('INVALID_REQUEST', `cannot open a socket${where}: native/sndbuf.node is not built (use the relay, openNetnsLink)`);
      socket = inNetns(`/run/netns/${options.netns}`, open);
    }
  } catch (cause) {
    if (cause instanceof NftNetlinkError) throw cause;
    const e = cause as ErrnoLike;
    throw new NftNetlinkError('SOCKET_ERROR', `cannot open a NETLINK_NETFILTER socket${where}: ${e.message ?? String(cause)}`, { errno: e.errno, errnoName: e.code, cause });
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
