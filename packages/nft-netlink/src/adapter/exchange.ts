/**
 * One batch, one round trip: send the encoded batch as one datagram, collect the kernel's
 * NLMSG_ERROR answers until every element message is answered, then decide.
 *
 * How the kernel answers (net/netfilter/nfnetlink.c, `nfnetlink_rcv_batch`): the whole batch
 * is processed inside the `sendmsg` call. Every message with NLM_F_ACK gets an NLMSG_ERROR
 * (error 0 or -errno); they are queued when the batch is done, in batch order. If any message
 * failed, the transaction is aborted (nothing applied) and the acks of the other messages
 * still say 0, so success means: every ack is 0 and there was no error for BATCH_BEGIN. An
 * error for BATCH_BEGIN (permission, commit failure, out of memory) comes before the list
 * (or alone) and fails the batch at once.
 */
import { errnoName, NlmsgType } from '../codec/constants.js';
import { decodeAck, decodeNetlinkMessages, type NetlinkAck } from '../codec/decode.js';
import type { BatchMessageInfo, EncodedBatch } from '../codec/encode.js';
import { NftNetlinkError, type FailedMessage } from '../errors.js';
import type { DatagramLink } from './link.js';

/** Options of one exchange. */
export interface ExchangeOptions {
  /** Gives up waiting for the answers after this long, ms. Default 5,000. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Default of `ExchangeOptions.timeoutMs` and `NftSessionOptions.timeoutMs`, ms. The kernel
 * answers a batch within its `sendmsg` call, so waiting this long means the link is stuck and the
 * outcome is unknown.
 */
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 5_000;

/** What the kernel answered to a batch that it applied. */
export interface BatchResult {
  /** Element messages acknowledged. */
  readonly acked: number;
}

function failedOf(info: BatchMessageInfo | undefined, seq: number): FailedMessage {
  if (info === undefined) return { seq, index: -1, op: 'batch' };
  if (info.kind === 'object') return { seq, index: info.index, op: 'object', ...(info.family ? { family: info.family } : {}), ...(info.what ? { what: info.what } : {}), ...(info.origin ? { origin: info.origin } : {}) };
  const op = info.kind === 'add' || info.kind === 'delete' ? info.kind : 'batch';
  const out: FailedMessage = { seq, index: info.index, op };
  return info.family === undefined ? out : { ...out, family: info.family, table: info.table, set: info.set };
}

function describe(f: FailedMessage): string {
  if (f.op === 'object') return `${f.what ?? 'a message'} (message ${f.index})`;
  return f.op === 'batch' ? 'the batch' : `${f.op === 'add' ? 'adding to' : 'deleting from'} set ${f.family} ${f.table} ${f.set} (message ${f.index})`;
}

/**
 * Sends `batch` on `link` and waits for the kernel's answers. Resolves when the kernel applied
 * the batch; rejects with `KERNEL_ERROR` (nothing applied; `errno`, `failed`), `TIMEOUT` or
 * `ABORTED` (outcome unknown once sent: resynchronise with a full apply), `BATCH_TOO_LARGE`
 * (nothing sent), `SOCKET_ERROR`/`RELAY_ERROR`.
 */
export async function exchangeBatch(link: DatagramLink, batch: EncodedBatch, options: ExchangeOptions = {}): Promise<BatchResult> {
  if (batch.bytes.length > link.maxSendBytes) {
    throw new NftNetlinkError('BATCH_TOO_LARGE', `batch of ${batch.bytes.length} bytes exceeds the ${link.maxSendBytes} bytes one datagram can carry on this socket`);
  }
  const count = batch.messageCount ?? batch.messages.length - 2;
  if (batch.ackSeqs.length === 0 && count <= 0) return { acked: 0 };
  if (batch.ackSeqs.length === 0) throw new NftNetlinkError('INVALID_REQUEST', 'batch encoded without acks: its outcome could not be known');
  options.signal?.throwIfAborted();
  // a message's position in the batch is its seq less BATCH_BEGIN's (modulo 2^32); the
  // descriptions of the messages are only looked at for an error
  const position = (seq: number): number => (seq - batch.beginSeq) >>> 0;
  const inBatch = (seq: number): boolean => position(seq) <= count + 1;
  const infoOf = (seq: number): BatchMessageInfo | undefined => batch.messages[position(seq)];
  const pending = new Set(batch.ackSeqs);
  const errors: { seq: number; ack: NetlinkAck }[] = [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;

  return new Promise<BatchResult>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ acked: batch.ackSeqs.length });
    };
    const kernelError = (): NftNetlinkError => {
      const all = errors.map((e) => ({ ...failedOf(infoOf(e.seq), e.seq), errno: e.ack.errno }));
      const first = errors[0] as { seq: number; ack: NetlinkAck };
      const f = all[0] as FailedMessage & { errno: number };
      const more = all.length > 1 ? ` (and ${all.length - 1} more)` : '';
      const text = first.ack.message === undefined ? '' : `: ${first.ack.message}`;
      return new NftNetlinkError('KERNEL_ERROR', `kernel refused ${describe(f)}: ${errnoName(f.errno)}${text}${more}; nothing was applied`, {
        errno: f.errno,
        errnoName: errnoName(f.errno),
        failed: f.op === 'object' ? f : { seq: f.seq, index: f.index, op: f.op, ...(f.family === undefined ? {} : { family: f.family, table: f.table, set: f.set }) },
        allFailed: all,
        kernelMessage: first.ack.message,
      });
    };
    const onAbort = (): void => finish(new NftNetlinkError('ABORTED', 'aborted while waiting for the kernel; whether the batch was applied is unknown', { cause: options.signal?.reason }));
    const timer = setTimeout(
      () => finish(new NftNetlinkError('TIMEOUT', `no complete answer within ${timeoutMs} ms (${pending.size} of ${batch.ackSeqs.length} acks missing); whether the batch was applied is unknown`)),
      timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = link.subscribe({
      error: (err) => finish(err),
      datagram: (bytes) => {
        if (done) return;
        const msgs = decodeNetlinkMessages(bytes);
        if (!msgs.ok) return finish(new NftNetlinkError('PROTOCOL_ERROR', `malformed answer from the kernel: ${msgs.error} at byte ${msgs.offset}`));
        for (const m of msgs.value) {
          if (m.type !== NlmsgType.ERROR) continue; // not an answer to this batch (no echo, no dumps requested)
          const ack = decodeAck(m);
          if (!ack.ok) return finish(new NftNetlinkError('PROTOCOL_ERROR', `malformed NLMSG_ERROR: ${ack.error}`));
          const seq = ack.value.request.seq;
          if (!inBatch(seq)) continue; // an answer to an earlier batch that timed out
          if (seq === batch.beginSeq || seq === batch.endSeq) {
            if (ack.value.errno !== 0) {
              errors.unshift({ seq, ack: ack.value });
              return finish(kernelError());
            }
            continue;
          }
          if (ack.value.errno !== 0) errors.push({ seq, ack: ack.value });
          pending.delete(seq);
        }
        if (pending.size === 0) finish(errors.length > 0 ? kernelError() : undefined);
      },
    });
    link.send(batch.bytes).then(
      () => undefined,
      (err: unknown) => finish(err instanceof Error ? err : new NftNetlinkError('SOCKET_ERROR', String(err))),
    );
  });
}
