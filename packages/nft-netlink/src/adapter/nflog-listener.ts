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
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { errnoName } from '../codec/constants.js';
import { NftNetlinkError } from '../errors.js';
import { decodeNflogDatagram, nflogSetup, type NflogSetupOptions } from '../nflog/nflog-codec.js';

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

const FRAME_DATAGRAM = 1;
const FRAME_OVERRUN = 2;
const FRAME_ERROR = 3;

/** Starts the reader, binds `group` and resolves once the kernel accepted every setting. */
export async function openNflogListener(o: NflogListenerOptions): Promise<NflogListener> {
  if (!Number.isInteger(o.group) || o.group < 0 || o.group > 0xffff) throw new NftNetlinkError('INVALID_REQUEST', `NFLOG group ${o.group} is not 0..65535`);
  if (o.netns !== undefined && (!/^[A-Za-z0-9_.-]{1,255}$/.test(o.netns) || o.netns.startsWith('.'))) {
    throw new NftNetlinkError('INVALID_REQUEST', `invalid network namespace name "${o.netns}"`);
  }
  const d = DEFAULT_NFLOG_LISTENER_OPTIONS;
  const setup = nflogSetup(o.group, o);
  const args = [NFLOG_READER_PATH, String(o.recvBufferBytes ?? d.recvBufferBytes), ...setup.map((m) => Buffer.from(m).toString('hex'))];
  const perl = o.perlCommand ?? d.perlCommand;
  const child = o.netns !== undefined ? spawn(o.ipCommand ?? d.ipCommand, ['netns', 'exec', o.netns, perl, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(perl, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const expected = new Set(setup.map((m) => new DataView(m.buffer, m.byteOffset).getUint32(8, true)));
  let ready = false;
  let closed = false;
  let setupDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error): void => {
    if (closed) return;
    if (!ready) setupDone?.reject(err);
    else o.onError(err);
  };

  // Frames: type u8, length u32 LE, bytes. Chunks are gathered until a frame is complete.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const onFrame = (type: number, body: Buffer): void => {
    if (type === FRAME_OVERRUN) {
      if (ready) o.onOverrun();
    } else if (type === FRAME_ERROR) fail(new NftNetlinkError('SOCKET_ERROR', `NFLOG reader: ${body.toString('utf8')}`));
    else if (type === FRAME_DATAGRAM) {
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
  child.once('exit', (code, sig) => fail(new NftNetlinkError('RELAY_ERROR', `NFLOG reader${o.netns ? ` in "${o.netns}"` : ''} exited (${sig ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`)));
  child.once('error', (e) => fail(new NftNetlinkError('RELAY_ERROR', `cannot start the NFLOG reader: ${e.message}`, { cause: e })));
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
  const timeoutMs = o.setupTimeoutMs ?? d.setupTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      setupDone = { resolve, reject };
      timer = setTimeout(() => reject(new NftNetlinkError('TIMEOUT', `NFLOG setup of group ${o.group}: no answer within ${timeoutMs} ms${stderr ? ` (${stderr.trim()})` : ''}`)), timeoutMs);
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
