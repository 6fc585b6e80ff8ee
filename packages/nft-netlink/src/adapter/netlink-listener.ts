/**
 * A netlink listener: a socket of one netlink protocol bound to multicast groups, in this
 * process's network namespace or inside a named one, held by a small reader process
 * (`relay/NetlinkReader.pm`, started as `[ip netns exec NS] perl netlink-reader.pl …`), because
 * the `netlink` addon the nf_tables link uses aborts the process after a receive-buffer overrun
 * (POLLERR). The reader sends the setup messages, then every request written to it; every
 * datagram comes back undecoded and an overrun (ENOBUFS: messages were lost) is reported without
 * closing. The reader exits with its stdin, so a killed parent leaves nothing bound. The NFLOG,
 * rtnetlink and nf_tables-notification listeners are this with their protocol and groups.
 */
import { fileURLToPath } from 'node:url';
import { NftNetlinkError } from '../errors.js';
import { READER_FRAME, startReaderChild } from './reader-child.js';

/** What every listener takes from its caller: where it listens and where its datagrams go. */
export interface ListenerCallerOptions {
  /** Network namespace to listen in (as `ip netns list` shows it); omitted: this process's. */
  readonly netns?: string;
  /** Receive buffer, bytes (`SO_RCVBUFFORCE` as root, else `SO_RCVBUF` capped by `net.core.rmem_max`; the kernel doubles it). Default: the listener's. */
  readonly recvBufferBytes?: number;
  /** Every datagram after the setup (NFLOG: packet messages; rtnetlink: notifications and dump answers). */
  readonly onDatagram: (bytes: Uint8Array) => void;
  /** The kernel dropped messages because the receive buffer was full (ENOBUFS). */
  readonly onOverrun: () => void;
  /** The socket or the reader failed; no more datagrams come. */
  readonly onError: (err: Error) => void;
  /** The `ip` binary. Default `ip`. */
  readonly ipCommand?: string;
  /** The `perl` binary. Default `perl`. */
  readonly perlCommand?: string;
}

/** Options of {@link openNetlinkListener}. */
export interface NetlinkListenerOptions extends ListenerCallerOptions {
  /** What the listener is called in errors, e.g. `NFLOG reader`. */
  readonly name: string;
  /** The netlink protocol (`NETLINK_ROUTE` 0, `NETLINK_NETFILTER` 12, …). */
  readonly protocol: number;
  /** Multicast groups to bind, as the bit mask of `sockaddr_nl.nl_groups` (group N is bit N-1). Default none. */
  readonly groups?: number;
  /** Messages sent to the kernel once the socket is bound (e.g. NFLOG's bind and copy mode). */
  readonly setup?: readonly Uint8Array[];
  /**
   * Sees every datagram before the listener is set up: `true` when the setup is complete (e.g.
   * every request acknowledged), `false` to wait on, or the error the setup ended in. Omitted:
   * set up as soon as the reader has bound the socket and sent the setup.
   */
  readonly awaitSetup?: (bytes: Uint8Array) => boolean | NftNetlinkError;
  readonly recvBufferBytes: number;
  /** Gives up when the setup is not complete within this long, ms. */
  readonly setupTimeoutMs: number;
  /** How a setup timeout is described, e.g. `NFLOG setup of group 5`. Default `NAME: setup`. */
  readonly setupLabel?: string;
  /** The reader's entry script (they differ only in the name `ps` shows). Default {@link NETLINK_READER_PATH}. */
  readonly readerScript?: string;
}

/** Path of a reader entry script in the package's `relay/` folder. */
export function relayScriptPath(name: string): string {
  return fileURLToPath(new URL(`../../relay/${name}`, import.meta.url));
}

/** Path of the generic reader entry script. */
export const NETLINK_READER_PATH = relayScriptPath('netlink-reader.pl');

/** A bound netlink socket. */
export interface NetlinkListener {
  /** PID of the reader process (it holds the socket), undefined once it exited. */
  readonly pid: number | undefined;
  /** Sends one request (e.g. a dump) to the kernel; answers arrive as datagrams. */
  send(request: Uint8Array): void;
  /** Stops the reader (the kernel unbinds its groups with the socket). Idempotent. */
  close(): Promise<void>;
}

/** Starts the reader and resolves once the socket is bound and the setup complete. */
export async function openNetlinkListener(o: NetlinkListenerOptions): Promise<NetlinkListener> {
  const groups = o.groups ?? 0;
  if (!Number.isInteger(groups) || groups < 0 || groups > 0xffffffff) throw new NftNetlinkError('INVALID_REQUEST', `netlink groups ${groups} are not a 32-bit mask`);
  let ready = false;
  let setupDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const becomeReady = (): void => {
    ready = true;
    setupDone?.resolve();
  };
  const fail = (err: Error): void => {
    if (reader.closed) return;
    if (!ready) setupDone?.reject(err);
    else o.onError(err);
  };
  const onFrame = (type: number, body: Buffer): void => {
    if (type === READER_FRAME.READY) {
      if (o.awaitSetup === undefined) becomeReady();
    } else if (type === READER_FRAME.OVERRUN) {
      if (ready && !reader.closed) o.onOverrun();
    } else if (type === READER_FRAME.ERROR) fail(new NftNetlinkError('SOCKET_ERROR', `${o.name}${reader.where}: ${body.toString('utf8')}`));
    else if (type === READER_FRAME.DATAGRAM && !reader.closed) {
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      if (ready) o.onDatagram(bytes);
      else if (o.awaitSetup !== undefined) {
        const outcome = o.awaitSetup(bytes);
        if (outcome === true) becomeReady();
        else if (outcome !== false) setupDone?.reject(outcome);
      }
    }
  };
  const setupHex = (o.setup ?? []).map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('hex'));
  const reader = startReaderChild({
    name: o.name,
    script: o.readerScript ?? NETLINK_READER_PATH,
    args: [String(o.protocol), String(o.recvBufferBytes), String(groups), ...setupHex],
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    ipCommand: o.ipCommand ?? 'ip',
    perlCommand: o.perlCommand ?? 'perl',
    onFrame,
    onFailure: fail,
  });
  const child = reader.process;
  const close = (): Promise<void> => reader.close();
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      setupDone = { resolve, reject };
      const label = o.setupLabel ?? `${o.name}${reader.where}: setup`;
      timer = setTimeout(() => reject(new NftNetlinkError('TIMEOUT', `${label}: no answer within ${o.setupTimeoutMs} ms${reader.stderr() ? ` (${reader.stderr().trim()})` : ''}`)), o.setupTimeoutMs);
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
      if (reader.closed) throw new NftNetlinkError('CLOSED', `the ${o.name} is closed`);
      const frame = Buffer.allocUnsafe(4 + request.length);
      frame.writeUInt32LE(request.length, 0);
      frame.set(request, 4);
      child.stdin.write(frame);
    },
    close,
  };
}
