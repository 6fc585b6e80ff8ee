/**
 * The link into a named network namespace. A Node process cannot enter another network
 * namespace itself (`setns(2)` affects one thread and libuv's threads would stay behind), so
 * this starts a small relay process with `ip netns exec NS node netns-relay.mjs`: `ip` enters
 * the namespace and execs node, whose netlink socket then lives in NS. The relay and this
 * process talk over Node's IPC channel (serialization "advanced", byte arrays copied
 * as-is); the relay only moves datagrams, everything else happens here. Used by tests and the
 * benchmark; in production the agent runs in the right namespace and uses the socket link.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NftNetlinkError } from '../errors.js';
import type { DatagramLink, LinkListener } from './link.js';

/** Options of `openNetnsLink`. */
export interface NetnsLinkOptions {
  /** Name of the network namespace (as `ip netns list` shows it). */
  readonly netns: string;
  /** Gives up when the relay is not ready within this long, ms. Default 5,000. */
  readonly startTimeoutMs?: number;
  /** Waits this long for the relay to exit on close before killing it, ms. Default 2,000. */
  readonly closeGraceMs?: number;
  /** The `ip` binary. Default `ip` from PATH. */
  readonly ipCommand?: string;
  /** The node binary the relay runs on. Default `process.execPath`. */
  readonly nodeCommand?: string;
  /**
   * Datagrams of at least this many bytes go to the relay through an unlinked file in
   * `/dev/shm` (the relay reads it as `/proc/PID/fd/N`) instead of the IPC channel, whose
   * serialisation costs ~10 ms per MB; 0: always IPC. Default 256 KiB.
   */
  readonly fileTransferMinBytes?: number;
  readonly signal?: AbortSignal;
}

/** The defaults of the namespace link's options (ms, bytes). */
export const DEFAULT_NETNS_LINK_OPTIONS = { startTimeoutMs: 5_000, closeGraceMs: 2_000, ipCommand: 'ip', fileTransferMinBytes: 256 << 10 } as const;

/** Where large datagrams are staged: memory-backed `/dev/shm` when there is one. */
const stagingDir = (): string => (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

/**
 * Writes `bytes` into a file that is unlinked at once, so nothing is left behind whatever
 * happens to either process; the open descriptor is what the relay reads. Returns it.
 */
function stageDatagram(bytes: Uint8Array, id: number): number {
  const path = join(stagingDir(), `palisade-nft-${process.pid}-${id}`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    unlinkSync(path);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Path of the relay script (shipped in the package's `relay/` folder, beside `src/` and `dist/`). */
export const NETNS_RELAY_PATH = fileURLToPath(new URL('../../relay/netns-relay.mjs', import.meta.url));

type RelayMessage =
  | { t: 'ready'; maxSendBytes: number; fileTransfer?: boolean }
  | { t: 'sent'; id: number }
  | { t: 'sendError'; id: number; errno?: number; code?: string; message: string }
  | { t: 'dgram'; b: Uint8Array }
  | { t: 'error'; errno?: number; code?: string; message: string };

/** Starts the relay in `options.netns` and resolves once its socket is open. */
export async function openNetnsLink(options: NetnsLinkOptions): Promise<DatagramLink> {
  if (!/^[A-Za-z0-9_.-]{1,255}$/.test(options.netns) || options.netns.startsWith('.')) {
    throw new NftNetlinkError('INVALID_REQUEST', `invalid network namespace name "${options.netns}"`);
  }
  options.signal?.throwIfAborted();
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_NETNS_LINK_OPTIONS.startTimeoutMs;
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_NETNS_LINK_OPTIONS.closeGraceMs;
  const fileMinBytes = options.fileTransferMinBytes ?? DEFAULT_NETNS_LINK_OPTIONS.fileTransferMinBytes;
  const child = spawn(
    options.ipCommand ?? DEFAULT_NETNS_LINK_OPTIONS.ipCommand,
    ['netns', 'exec', options.netns, options.nodeCommand ?? process.execPath, NETNS_RELAY_PATH],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listeners = new Set<LinkListener>();
  const sends = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;
  let gone: NftNetlinkError | undefined;

  const fault = (err: NftNetlinkError): void => {
    if (gone) return;
    gone = err;
    for (const s of sends.values()) s.reject(err);
    sends.clear();
    for (const l of listeners) l.error(err);
  };

  let fileTransfer = false;
  const maxSendBytes = await new Promise<number>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const failStart = (msg: string, cause?: unknown): void => {
      cleanup();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new NftNetlinkError('RELAY_ERROR', `netns relay in "${options.netns}": ${msg}${stderr ? ` (${stderr.trim()})` : ''}`, { cause }));
    };
    const onMessage = (m: RelayMessage): void => {
      if (m.t === 'ready') {
        cleanup();
        fileTransfer = m.fileTransfer === true;
        resolve(m.maxSendBytes);
      } else if (m.t === 'error') failStart(m.message);
    };
    const onExit = (code: number | null, sig: string | null): void => failStart(`exited during start-up (${sig ?? `code ${code}`})`);
    const onError = (e: Error): void => failStart(e.message, e);
    const onAbort = (): void => failStart('start aborted', options.signal?.reason);
    const timer = setTimeout(() => failStart(`not ready within ${startTimeoutMs} ms`), startTimeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });

  child.on('message', (m: RelayMessage) => {
    if (m.t === 'dgram') {
      for (const l of listeners) l.datagram(m.b);
    } else if (m.t === 'sent' || m.t === 'sendError') {
      const s = sends.get(m.id);
      sends.delete(m.id);
      if (m.t === 'sent') s?.resolve();
      else s?.reject(new NftNetlinkError('SOCKET_ERROR', m.message, { errno: m.errno, errnoName: m.code }));
    } else if (m.t === 'error') {
      fault(new NftNetlinkError('SOCKET_ERROR', m.message, { errno: m.errno, errnoName: m.code }));
    }
  });
  child.once('exit', (code, sig) => {
    if (!closed) fault(new NftNetlinkError('RELAY_ERROR', `netns relay in "${options.netns}" exited (${sig ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`));
  });

  return {
    maxSendBytes,
    send(bytes) {
      if (closed) return Promise.reject(new NftNetlinkError('CLOSED', 'netns link is closed'));
      if (gone) return Promise.reject(gone);
      const id = nextId++;
      let fd: number | undefined;
      if (fileTransfer && fileMinBytes > 0 && bytes.length >= fileMinBytes) {
        try {
          fd = stageDatagram(bytes, id);
        } catch {
          fd = undefined; // no room in /dev/shm: the IPC channel carries it
        }
      }
      const release = (): void => {
        if (fd !== undefined) closeSync(fd);
        fd = undefined;
      };
      return new Promise<void>((resolve, reject) => {
        sends.set(id, {
          resolve: () => {
            release();
            resolve();
          },
          reject: (e) => {
            release();
            reject(e);
          },
        });
        const request = fd === undefined ? { t: 'send', id, b: bytes } : { t: 'sendFile', id, path: `/proc/${process.pid}/fd/${fd}`, length: bytes.length };
        child.send(request, (err) => {
          if (err) {
            sends.delete(id);
            release();
            reject(new NftNetlinkError('RELAY_ERROR', `cannot reach the netns relay: ${err.message}`, { cause: err }));
          }
        });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return exited;
      closed = true;
      fault(new NftNetlinkError('CLOSED', 'netns link is closed'));
      listeners.clear();
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ t: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), closeGraceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
