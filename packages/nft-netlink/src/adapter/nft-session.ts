/**
 * A session with the kernel's nf_tables over one netlink link (a socket in this namespace or
 * the relay into another): reads the ruleset generation (`NFT_MSG_GETGEN`), sends one batch
 * and waits for its outcome, and dumps object lists for read-back. Calls run one after the
 * other; sequence numbers keep counting across calls so a late answer is never mistaken.
 */
import { decodeAttrTree, findAttr, type Attr } from '../codec/attrs.js';
import { view } from '../codec/bytes.js';
import { NFGENMSG_LEN, NlmsgType, type NftFamily } from '../codec/constants.js';
import { decodeAck, decodeNetlinkMessages, type NetlinkMessage } from '../codec/decode.js';
import { NftaGen, NftObjMsg } from '../codec/nft-constants.js';
import { encodeNftBatch, encodeRequest, type NftMessage } from '../codec/nft-messages.js';
import { errnoName } from '../codec/constants.js';
import { NftNetlinkError } from '../errors.js';
import { DEFAULT_EXCHANGE_TIMEOUT_MS, exchangeBatch } from './exchange.js';
import type { DatagramLink } from './link.js';
import { openNetnsLink } from './netns-link.js';
import { netnsSocketSupported, openSocketLink } from './socket-link.js';

/** Options of `openNftSession`. */
export interface NftSessionOptions {
  /**
   * Network namespace by name; undefined (default): this process's namespace. The socket is
   * opened there in this process when the native addon is built, else through the relay.
   */
  readonly netns?: string;
  /** With `netns`: use the relay process even when the addon could open the socket there. Default false. */
  readonly relay?: boolean;
  /** Waits at most this long for the kernel's answer to one call, ms. Default 5,000. */
  readonly timeoutMs?: number;
  /** `SO_SNDBUF`/`SO_RCVBUF` requested, bytes (capped by `net.core.wmem_max`/`rmem_max`, then doubled). Default 4 MiB. */
  readonly socketBufferBytes?: number;
  readonly signal?: AbortSignal;
}

/** What one batch did. */
export interface SendResult {
  /** Object messages in the batch (BATCH_BEGIN/END not counted). */
  readonly messages: number;
  readonly bytes: number;
  /** From sending the datagram to the kernel's last answer, ms. */
  readonly kernelMs: number;
}

/**
 * A session made by `openNftSession`. Calls run one at a time in call order; after `close()` the
 * calls still queued and any later ones reject with `CLOSED`.
 */
export interface NftSession {
  /** The current ruleset generation (`NFTA_GEN_ID`). */
  generation(signal?: AbortSignal): Promise<number>;
  /**
   * Sends `messages` as one atomic batch, guarded by `genId` when given (ERESTART when the
   * ruleset changed since). Rejects with `KERNEL_ERROR` (nothing applied), `BATCH_TOO_LARGE`
   * (nothing sent), `TIMEOUT`/`ABORTED` (outcome unknown).
   */
  send(messages: readonly NftMessage[], options?: { readonly genId?: number; readonly signal?: AbortSignal }): Promise<SendResult>;
  /** Dumps every object of a kind (`GETTABLE`, `GETCHAIN`, `GETRULE`, `GETSET`, `GETSETELEM`, `GETOBJ`). */
  dump(msg: NftObjMsg, options?: { readonly family?: NftFamily; readonly attrs?: readonly Attr[]; readonly signal?: AbortSignal }): Promise<NetlinkMessage[]>;
  /** Largest batch one datagram can carry on this link, bytes. */
  readonly maxBatchBytes: number;
  /** Closes the socket (stops the relay). Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the link (a socket, or the relay when `netns` is set and the native addon cannot open one
 * there) and returns a session on it; the caller must `close()` it. Rejects with
 * `INVALID_REQUEST` for a bad namespace name, `SOCKET_ERROR` or `RELAY_ERROR` when the link
 * cannot be opened.
 */
export async function openNftSession(options: NftSessionOptions = {}): Promise<NftSession> {
  const bufferBytes = options.socketBufferBytes ?? 4 << 20;
  // another namespace: a socket opened there by this process when the addon can (no relay,
  // no copy of each batch), else the relay process
  const link: DatagramLink =
    options.netns === undefined || (options.relay !== true && netnsSocketSupported())
      ? openSocketLink({ sendBufferBytes: bufferBytes, recvBufferBytes: bufferBytes, ...(options.netns === undefined ? {} : { netns: options.netns }) })
      : await openNetnsLink({ netns: options.netns, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
  let seq = 1;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const run = queue.then(() => {
      if (closed) throw new NftNetlinkError('CLOSED', 'nftables session is closed');
      return f();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  /** Sends one request and collects the answers carrying its seq (until NLMSG_DONE for dumps). */
  const request = (bytes: Uint8Array, reqSeq: number, dump: boolean, signal?: AbortSignal): Promise<NetlinkMessage[]> =>
    new Promise<NetlinkMessage[]>((resolve, reject) => {
      const got: NetlinkMessage[] = [];
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(got);
      };
      const onAbort = (): void => finish(new NftNetlinkError('ABORTED', 'aborted while waiting for the kernel', { cause: signal?.reason }));
      const timer = setTimeout(() => finish(new NftNetlinkError('TIMEOUT', `no complete answer within ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const unsubscribe = link.subscribe({
        error: (e) => finish(e),
        datagram: (d) => {
          const msgs = decodeNetlinkMessages(d);
          if (!msgs.ok) return finish(new NftNetlinkError('PROTOCOL_ERROR', `malformed answer: ${msgs.error}`));
          for (const m of msgs.value) {
            if (m.seq !== reqSeq) continue;
            if (m.type === NlmsgType.ERROR) {
              const a = decodeAck(m);
              if (!a.ok) return finish(new NftNetlinkError('PROTOCOL_ERROR', a.error));
              if (a.value.errno !== 0) return finish(new NftNetlinkError('KERNEL_ERROR', `kernel refused the request: ${errnoName(a.value.errno)}`, { errno: a.value.errno, errnoName: errnoName(a.value.errno) }));
              return finish();
            }
            if (m.type === NlmsgType.DONE) return finish();
            got.push({ ...m, payload: m.payload.slice() }); // detached from the datagram
            if (!dump) return finish();
          }
        },
      });
      link.send(bytes).catch((e: unknown) => finish(e instanceof Error ? e : new NftNetlinkError('SOCKET_ERROR', String(e))));
    });

  return {
    maxBatchBytes: link.maxSendBytes,
    generation(signal) {
      return serial(async () => {
        const s = seq++;
        const [m] = await request(encodeRequest(NftObjMsg.GETGEN, s), s, false, signal);
        const attrs = m ? decodeAttrTree(m.payload.subarray(NFGENMSG_LEN)) : undefined;
        const id = attrs?.ok ? findAttr(attrs.value, NftaGen.ID) : undefined;
        if (!id || !('value' in id) || id.value.length !== 4) throw new NftNetlinkError('PROTOCOL_ERROR', 'NFT_MSG_NEWGEN without NFTA_GEN_ID');
        return view(id.value).getUint32(0, false);
      });
    },
    send(messages, o = {}) {
      return serial(async () => {
        if (messages.length === 0) return { messages: 0, bytes: 0, kernelMs: 0 };
        const enc = encodeNftBatch(messages, { seq, ...(o.genId === undefined ? {} : { genId: o.genId }) });
        if (!enc.ok) throw new NftNetlinkError('INVALID_REQUEST', enc.error);
        seq = (seq + messages.length + 2) >>> 0 || 1;
        const t0 = performance.now();
        await exchangeBatch(link, enc.value, { timeoutMs, ...(o.signal === undefined ? {} : { signal: o.signal }) });
        return { messages: messages.length, bytes: enc.value.bytes.length, kernelMs: performance.now() - t0 };
      });
    },
    dump(msg, o = {}) {
      return serial(() => {
        const s = seq++;
        return request(encodeRequest(msg, s, { dump: true, ...(o.family === undefined ? {} : { family: o.family }), ...(o.attrs === undefined ? {} : { attrs: o.attrs }) }), s, true, o.signal);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await link.close();
    },
  };
}
