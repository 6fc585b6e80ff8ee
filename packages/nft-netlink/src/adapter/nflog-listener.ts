/**
 * An NFLOG listener: a NETLINK_NETFILTER socket bound to one log group, in this process's
 * network namespace or inside a named one. The socket lives in a small reader process
 * (`relay/nflog-reader.pl`, started as `[ip netns exec NS] perl nflog-reader.pl …`; the
 * namespace is entered by `ip`, as for the nf_tables relay) that sends the setup of
 * `nflogSetup` (bind, copy mode, sequence numbers, buffer, threshold, timeout) and forwards
 * every datagram over a pipe. The `netlink` addon the nf_tables link uses cannot serve here:
 * after a receive-buffer overrun the kernel flags the socket, epoll reports POLLERR and the
 * addon aborts the process (see the reader's header). This waits for the kernel's acks, then
 * hands every datagram over undecoded and reports overruns (ENOBUFS) without closing. The
 * kernel releases the group when the socket closes, so a killed agent leaves nothing bound.
 */
import { fileURLToPath } from 'node:url';
import { errnoName } from '../codec/constants.js';
import { NftNetlinkError } from '../errors.js';
import { decodeNflogDatagram, nflogSetup, type NflogSetupOptions } from '../nflog/nflog-codec.js';
import { READER_FRAME, startReaderChild } from './reader-child.js';

/** Options of {@link openNflogListener}. */
export interface NflogListenerOptions extends NflogSetupOptions {
  /** The NFLOG group (0–65535) the log rules send to. */
  readonly group: number;
  /** Network namespace to listen in (as `ip netns list` shows it); omitted: this process's. */
  readonly netns?: string;
  /** Receive buffer, bytes (`SO_RCVBUFFORCE` as root, else `SO_RCVBUF` capped by `net.core.rmem_max`; the kernel doubles it). Default 8 MiB. */
  readonly recvBufferBytes?: number;
  /** Gives up when the kernel has not acknowledged the setup within this long, ms. Default 5,000. */
  readonly setupTimeoutMs?: number;
  /** Every datagram after the setup (one or more NFULNL_MSG_PACKET messages, maybe NLMSG_DONE). */
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

export const DEFAULT_NFLOG_LISTENER_OPTIONS = { recvBufferBytes: 8 << 20, setupTimeoutMs: 5_000, ipCommand: 'ip', perlCommand: 'perl' } as const;

/** Path of the reader script (in the package's `relay/` folder). */
export const NFLOG_READER_PATH = fileURLToPath(new URL('../../relay/nflog-reader.pl', import.meta.url));

/** A bound NFLOG group. */
export interface NflogListener {
  readonly group: number;
  /** Stops the reader (the kernel unbinds the group with its socket). Idempotent. */
  close(): Promise<void>;
}

/** Starts the reader, binds `group` and resolves once the kernel accepted every setting. */
export async function openNflogListener(o: NflogListenerOptions): Promise<NflogListener> {
  if (!Number.isInteger(o.group) || o.group < 0 || o.group > 0xffff) throw new NftNetlinkError('INVALID_REQUEST', `NFLOG group ${o.group} is not 0..65535`);
  const d = DEFAULT_NFLOG_LISTENER_OPTIONS;
  const setup = nflogSetup(o.group, o);
  const expected = new Set(setup.map((m) => new DataView(m.buffer, m.byteOffset).getUint32(8, true)));
  let ready = false;
  let setupDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error): void => {
    if (reader.closed) return;
    if (!ready) setupDone?.reject(err);
    else o.onError(err);
  };
  const onFrame = (type: number, body: Buffer): void => {
    if (type === READER_FRAME.OVERRUN) {
      if (ready) o.onOverrun();
    } else if (type === READER_FRAME.ERROR) fail(new NftNetlinkError('SOCKET_ERROR', `NFLOG reader: ${body.toString('utf8')}`));
    else if (type === READER_FRAME.DATAGRAM) {
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      if (ready) {
        o.onDatagram(bytes);
        return;
      }
      for (const ack of decodeNflogDatagram(bytes).acks) {
        if (!expected.has(ack.request.seq)) continue;
        if (ack.errno !== 0) {
          const why = ack.errno === 1 ? ' (the group is bound by another socket)' : ack.errno === 16 ? ' (the group is already bound)' : '';
          setupDone?.reject(new NftNetlinkError('KERNEL_ERROR', `NFLOG setup of group ${o.group} refused: ${errnoName(ack.errno)}${why}`, { errno: ack.errno, errnoName: errnoName(ack.errno) }));
          return;
        }
        expected.delete(ack.request.seq);
        if (expected.size === 0) setupDone?.resolve();
      }
    }
  };
  const reader = startReaderChild({
    name: 'NFLOG reader',
    script: NFLOG_READER_PATH,
    args: [String(o.recvBufferBytes ?? d.recvBufferBytes), ...setup.map((m) => Buffer.from(m).toString('hex'))],
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    ipCommand: o.ipCommand ?? d.ipCommand,
    perlCommand: o.perlCommand ?? d.perlCommand,
    onFrame,
    onFailure: fail,
  });
  const close = (): Promise<void> => reader.close();
  const timeoutMs = o.setupTimeoutMs ?? d.setupTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      setupDone = { resolve, reject };
      timer = setTimeout(() => reject(new NftNetlinkError('TIMEOUT', `NFLOG setup of group ${o.group}: no answer within ${timeoutMs} ms${reader.stderr() ? ` (${reader.stderr().trim()})` : ''}`)), timeoutMs);
    });
  } catch (err) {
    await close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  ready = true;
  return { group: o.group, close };
}
