/**
 * Honest answers under load on a single server: 16 concurrent firewall writers next to a large
 * cluster.fw, with the event loop blocked for 2.5 s in the middle (longer than a publish
 * attempt's ack timeout). Every write succeeds or is refused with its true reason (a CAS
 * conflict between writers of the same document), never "not quorate" or "outcome unknown" (a
 * single server cannot lose its quorum, and a timed-out attempt is retried with the same msg
 * id and CAS), and the store holds exactly the successful writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { CallError, startTestConfigd, text, type TestConfigd } from './test-harness.js';

const CLUSTER = { target: { $case: 'cluster' as const, value: true } };
const guest = (vmid: number) => ({ target: { $case: 'vmid' as const, value: vmid } });

function largeClusterFw(bytes: number): string {
  const lines = ['[OPTIONS]', 'enable: 1', '', '[RULES]', 'IN ACCEPT -p tcp -dport 22', '', '[IPSET blocklist]', ''];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

/** Blocks the event loop (configd runs in this process). */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* busy */
  }
}

type Outcome = { readonly comment: string; readonly ok: true } | { readonly comment: string; readonly ok: false; readonly code: string; readonly message: string };

describe('16 concurrent firewall writers on one server', () => {
  let nats: NatsClusterHandle;
  let cd: TestConfigd;

  beforeAll(async () => {
    nats = await startNats({ size: 1 });
    cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'qh' });
    await cd.call('put', { path: 'firewall/cluster.fw', content: text(largeClusterFw(512 * 1024)) });
  }, 120_000);

  afterAll(async () => {
    await cd?.close();
    await nats?.close();
  });

  it('every write succeeds or is refused with its true reason; the store holds exactly the successful ones', async () => {
    const fw = cd.client(undefined, 60_000);
    const outcomes: Outcome[] = [];
    const write = async (scope: typeof CLUSTER | ReturnType<typeof guest>, comment: string, dport: number): Promise<void> => {
      try {
        await fw.fw('createRule', { scope, rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: String(dport), comment }, pos: 0 });
        outcomes.push({ comment, ok: true });
      } catch (err) {
        if (!(err instanceof CallError)) throw err;
        outcomes.push({ comment, ok: false, code: err.code, message: err.message });
      }
    };
    // 8 writers on cluster.fw (they conflict with each other: CAS on the revision read) and 8
    // on their own guests, 3 writes each.
    const writers = [
      ...Array.from({ length: 8 }, (_, w) => async () => {
        for (let k = 0; k < 3; k++) await write(CLUSTER, `c${w}-${k}`, 1000 + w * 10 + k);
      }),
      ...Array.from({ length: 8 }, (_, w) => async () => {
        for (let k = 0; k < 3; k++) await write(guest(200 + w), `g${w}-${k}`, 2000 + w * 10 + k);
      }),
    ];
    const running = writers.map((run) => run());
    // Block the event loop while writes are in flight (longer than a publish attempt's timeout).
    await new Promise((r) => setTimeout(r, 300));
    blockEventLoop(2500);
    await Promise.all(running);

    expect(outcomes).toHaveLength(48);
    const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    const reasons = [...new Set(refused.map((o) => o.code))];
    console.log(`48 writes: ${outcomes.length - refused.length} ok, refused by code: ${JSON.stringify(Object.fromEntries(reasons.map((c) => [c, refused.filter((o) => o.code === c).length])))}`);
    // The only true reason here: two writers of cluster.fw read the same revision.
    for (const o of refused) {
      expect({ comment: o.comment, code: o.code }).toEqual({ comment: o.comment, code: 'conflict' });
      expect(o.comment.startsWith('c')).toBe(true);
    }
    // Guest writers never conflict: all of their writes succeed.
    expect(outcomes.filter((o) => o.comment.startsWith('g') && o.ok)).toHaveLength(24);

    // The store holds exactly the successful writes.
    const stored = new Set<string>();
    for (const scope of [CLUSTER, ...Array.from({ length: 8 }, (_, w) => guest(200 + w))]) {
      for (const r of (await fw.fw('listRules', { scope })).rules) if (r.comment) stored.add(r.comment);
    }
    expect([...stored].sort()).toEqual(outcomes.filter((o) => o.ok).map((o) => o.comment).sort());

    // Still writable and quorate after the stall.
    const st = await cd.call('status', {});
    expect(st.quorate).toBe(true);
    await cd.callWithin(5000, 'put', { path: 'firewall/300.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 80\n') });
  }, 180_000);
});
