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
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NftNetlinkError } from '../errors.js';

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

const FRAME_DATAGRAM = 1;
const FRAME_OVERRUN = 2;
const FRAME_ERROR = 3;
const FRAME_READY = 4;

/** Starts the reader and resolves once its socket is bound to `groups`. */
export async function openRouteListener(o: RouteListenerOptions): Promise<RouteListener> {
  if (!Number.isInteger(o.groups) || o.groups < 0 || o.groups > 0xffffffff) throw new NftNetlinkError('INVALID_REQUEST', `rtnetlink groups ${o.groups} are not a 32-bit mask`);
  if (o.netns !== undefined && (!/^[A-Za-z0-9_.-]{1,255}$/.test(o.netns) || o.netns.startsWith('.'))) {
    throw new NftNetlinkError('INVALID_REQUEST', `invalid network namespace name "${o.netns}"`);
  }
  const d = DEFAULT_ROUTE_LISTENER_OPTIONS;
  const args = [ROUTE_READER_PATH, String(o.recvBufferBytes ?? d.recvBufferBytes), String(o.groups)];
  const perl = o.perlCommand ?? d.perlCommand;
  const child = o.netns !== undefined ? spawn(o.ipCommand ?? d.ipCommand, ['netns', 'exec', o.netns, perl, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(perl, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ready = false;
  let closed = false;
  let started: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error): void => {
    if (closed) return;
    if (!ready) started?.reject(err);
    else o.onError(err);
  };
  const where = o.netns ? ` in "${o.netns}"` : '';

  // Frames: type u8, length u32 LE, bytes. Chunks are gathered until a frame is complete.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const onFrame = (type: number, body: Buffer): void => {
    if (type === FRAME_READY) {
      ready = true;
      started?.resolve();
    } else if (type === FRAME_OVERRUN) {
      if (ready && !closed) o.onOverrun();
    } else if (type === FRAME_ERROR) fail(new NftNetlinkError('SOCKET_ERROR', `rtnetlink reader${where}: ${body.toString('utf8')}`));
    else if (type === FRAME_DATAGRAM && ready && !closed) o.onDatagram(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  };
  child.stdout.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < 5) return;
    let buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    let at = 0;
    while (buf.length - at >= 5) {
      const len = buf.readUInt32LE(at + 1);
      if (buf.length - at - 5 < len) break;
      onFrame(buf[at]!, buf.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    buf = buf.subarray(at);
    pending = buf.length ? [buf] : [];
    pendingBytes = buf.length;
  });
  child.once('exit', (code, sig) => fail(new NftNetlinkError('RELAY_ERROR', `rtnetlink reader${where} exited (${sig ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`)));
  child.once('error', (e) => fail(new NftNetlinkError('RELAY_ERROR', `cannot start the rtnetlink reader: ${e.message}`, { cause: e })));
  child.stdin.on('error', () => undefined);

  const close = async (): Promise<void> => {
    if (closed) return exited;
    closed = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end(); // the reader exits at EOF
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const timeoutMs = o.startTimeoutMs ?? d.startTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      started = { resolve, reject };
      timer = setTimeout(() => reject(new NftNetlinkError('TIMEOUT', `rtnetlink reader${where}: not subscribed within ${timeoutMs} ms${stderr ? ` (${stderr.trim()})` : ''}`)), timeoutMs);
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
      if (closed) throw new NftNetlinkError('CLOSED', 'the rtnetlink listener is closed');
      const frame = Buffer.allocUnsafe(4 + request.length);
      frame.writeUInt32LE(request.length, 0);
      frame.set(request, 4);
      child.stdin.write(frame);
    },
    close,
  };
}
