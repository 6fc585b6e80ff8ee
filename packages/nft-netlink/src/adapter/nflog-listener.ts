/**
 * An NFLOG listener: a NETLINK_NETFILTER socket bound to one log group, in this process's
 * network namespace or inside a named one. A netlink listener
 * (`netlink-listener.ts`: the socket lives in a reader process, `perl nflog-reader.pl …`) that
 * sends the setup of `nflogSetup` (bind, copy mode, sequence numbers, buffer, threshold,
 * timeout) and waits for the kernel's acks, then hands every datagram over undecoded and reports
 * overruns (ENOBUFS) without closing. The
 * kernel releases the group when the socket closes, so a killed agent leaves nothing bound.
 */
import { errnoName, NETLINK_NETFILTER } from '../codec/constants.js';
import { NftNetlinkError } from '../errors.js';
import { decodeNflogDatagram, nflogSetup, type NflogSetupOptions } from '../nflog/nflog-codec.js';
import { openNetlinkListener, relayScriptPath, type ListenerCallerOptions } from './netlink-listener.js';

/** Options of {@link openNflogListener}. */
export interface NflogListenerOptions extends NflogSetupOptions, ListenerCallerOptions {
  /** The NFLOG group (0–65535) the log rules send to. */
  readonly group: number;
  /** Gives up when the kernel has not acknowledged the setup within this long, ms. Default 5,000. */
  readonly setupTimeoutMs?: number;
}

/** The defaults of {@link NflogListenerOptions}. */
export const DEFAULT_NFLOG_LISTENER_OPTIONS = { recvBufferBytes: 8 << 20, setupTimeoutMs: 5_000, ipCommand: 'ip', perlCommand: 'perl' } as const;

/** Path of the reader script (in the package's `relay/` folder). */
export const NFLOG_READER_PATH = relayScriptPath('nflog-reader.pl');

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
  // The setup is complete when the kernel acknowledged every message of it.
  const awaitSetup = (bytes: Uint8Array): boolean | NftNetlinkError => {
    for (const ack of decodeNflogDatagram(bytes).acks) {
      if (!expected.has(ack.request.seq)) continue;
      if (ack.errno !== 0) {
        const why = ack.errno === 1 ? ' (the group is bound by another socket)' : ack.errno === 16 ? ' (the group is already bound)' : '';
        return new NftNetlinkError('KERNEL_ERROR', `NFLOG setup of group ${o.group} refused: ${errnoName(ack.errno)}${why}`, { errno: ack.errno, errnoName: errnoName(ack.errno) });
      }
      expected.delete(ack.request.seq);
    }
    return expected.size === 0;
  };
  const listener = await openNetlinkListener({
    ...o,
    name: 'NFLOG reader',
    protocol: NETLINK_NETFILTER,
    setup,
    awaitSetup,
    setupLabel: `NFLOG setup of group ${o.group}`,
    recvBufferBytes: o.recvBufferBytes ?? d.recvBufferBytes,
    setupTimeoutMs: o.setupTimeoutMs ?? d.setupTimeoutMs,
    readerScript: NFLOG_READER_PATH,
    ipCommand: o.ipCommand ?? d.ipCommand,
    perlCommand: o.perlCommand ?? d.perlCommand,
  });
  return { group: o.group, close: () => listener.close() };
}
