import { describe, expect, it } from 'vitest';
import { NlmsgType } from '../codec/constants.js';
import { planSetElementMessages } from '../codec/elements.js';
import { encodeSetElemBatch, type EncodedBatch } from '../codec/encode.js';
import { NftNetlinkError } from '../errors.js';
import { exchangeBatch } from './exchange.js';
import type { DatagramLink, LinkListener } from './link.js';

/** An NLMSG_ERROR answering `seq` with `errno` (0: ack). */
function answer(seq: number, errno: number): Uint8Array {
  const b = new Uint8Array(36);
  const v = new DataView(b.buffer);
  v.setUint32(0, 36, true);
  v.setUint16(4, NlmsgType.ERROR, true);
  v.setInt32(16, -errno, true);
  v.setUint32(20, 16, true);
  v.setUint32(28, seq, true);
  return b;
}

/** A link whose kernel answers each batch with `reply(batch)` (datagrams), synchronously after send. */
function fakeLink(reply: (sent: Uint8Array) => Uint8Array[], maxSendBytes = 1 << 20): DatagramLink & { sent: Uint8Array[] } {
  const listeners = new Set<LinkListener>();
  const sent: Uint8Array[] = [];
  return {
    sent,
    maxSendBytes,
    send(bytes) {
      sent.push(bytes);
      queueMicrotask(() => {
        for (const d of reply(bytes)) for (const l of listeners) l.datagram(d);
      });
      return Promise.resolve();
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () => Promise.resolve(),
  };
}

const iv = (n: number) => ({ family: 4 as const, from: BigInt(n), to: BigInt(n) });
function batch(seq = 10): EncodedBatch {
  const msgs = planSetElementMessages([
    { family: 'inet', table: 'palisade', set: 'a', removed: [iv(1)], added: [iv(2)] },
    { family: 'inet', table: 'palisade', set: 'b', removed: [], added: [iv(3)] },
  ]);
  const r = encodeSetElemBatch(msgs, { seq });
  if (!r.ok) throw new TypeError(r.error);
  return r.value;
}

describe('exchangeBatch', () => {
  it('resolves when every element message is acked', async () => {
    const b = batch();
    expect(b.ackSeqs).toEqual([11, 12, 13]);
    // a stale answer to an older batch is ignored
    const link = fakeLink(() => [answer(3, 2), answer(11, 0), answer(12, 0), answer(13, 0)]);
    await expect(exchangeBatch(link, b)).resolves.toEqual({ acked: 3 });
  });

  it('accepts the acks spread over several datagrams or packed in one', async () => {
    const link = fakeLink(() => {
      const all = [answer(11, 0), answer(12, 0), answer(13, 0)];
      const packed = new Uint8Array(all.reduce((n, a) => n + a.length, 0));
      let o = 0;
      for (const a of all) packed.set(a, (o += a.length) - a.length);
      return [packed];
    });
    await expect(exchangeBatch(link, batch())).resolves.toEqual({ acked: 3 });
  });

  it('reports the failing message, its errno and every other failure; nothing was applied', async () => {
    const link = fakeLink(() => [answer(11, 0), answer(12, 2), answer(13, 17)]);
    const err = await exchangeBatch(link, batch()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftNetlinkError);
    expect(err).toMatchObject({
      code: 'KERNEL_ERROR',
      errno: 2,
      errnoName: 'ENOENT',
      failed: { seq: 12, index: 2, op: 'add', family: 'inet', table: 'palisade', set: 'a' },
      allFailed: [{ seq: 12, errno: 2 }, { seq: 13, errno: 17, set: 'b' }],
    });
    expect((err as Error).message).toMatch(/adding to set inet palisade a .*ENOENT.*nothing was applied/);
  });

  it('fails at once on an error for BATCH_BEGIN (e.g. EPERM), without waiting for acks', async () => {
    const link = fakeLink(() => [answer(10, 1)]);
    await expect(exchangeBatch(link, batch(), { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'KERNEL_ERROR', errno: 1, failed: { op: 'batch', index: 0 } });
  });

  it('times out when answers are missing', async () => {
    const link = fakeLink(() => [answer(11, 0)]);
    await expect(exchangeBatch(link, batch(), { timeoutMs: 20 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('honours an AbortSignal, before and while waiting', async () => {
    const link = fakeLink(() => []);
    await expect(exchangeBatch(link, batch(), { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(link.sent).toHaveLength(0);
    const ac = new AbortController();
    const p = exchangeBatch(link, batch(), { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses a batch larger than the socket can send, without sending', async () => {
    const link = fakeLink(() => [], 64);
    await expect(exchangeBatch(link, batch())).rejects.toMatchObject({ code: 'BATCH_TOO_LARGE' });
    expect(link.sent).toHaveLength(0);
  });

  it('fails on malformed answers', async () => {
    const link = fakeLink(() => [Uint8Array.of(1, 2, 3)]);
    await expect(exchangeBatch(link, batch())).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });
});
