/**
 * palisade-logger against a real JetStream server: entries published as the agent publishes
 * them are queryable over gRPC with every filter; a restart during ingest loses nothing and
 * stores nothing twice; two loggers each keep a complete store; Tail follows new entries and
 * losses; Proxmox paging; undecodable messages become decode-error losses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { batchMessageId, logEntryJson, type LogEntry, type LossLogEntry } from '@palisade/log-model';
import { ConfigClientError } from '@palisade/api';
import { syntheticEntry } from './synthetic-entries.js';
import { TestLogger, TestPublisher } from './test-harness.js';

const START_US = Date.UTC(2025, 5, 1, 12, 0, 0) * 1000;
let nats: NatsClusterHandle;
let pub: TestPublisher;
let logger: TestLogger;

beforeAll(async () => {
  nats = await startNats({ size: 1, syncAlways: false });
  pub = await TestPublisher.connect(nats.urls);
  logger = await new TestLogger({ natsServers: nats.urls, retentionMs: 0, replicas: 1 }).start();
}, 60_000);

afterAll(async () => {
  await logger?.remove();
  await pub?.close();
  await nats?.close();
});

const batch = (from: number, n: number, bootId = 'b1'): LogEntry[] =>
  Array.from({ length: n }, (_, i) => syntheticEntry(from + i, { startUs: START_US, stepUs: 10_000, bootId }));

async function stored(l: TestLogger, n: number, timeout = 30_000): Promise<void> {
  await expect.poll(() => l.service.store.count, { timeout, interval: 50 }).toBe(n);
}

describe('palisade-logger with JetStream', () => {
  const first = batch(0, 1200);

  it('stores published entries and answers every filter over gRPC', async () => {
    await pub.publish(first);
    await stored(logger, 1200);
    const q = async (filter: Record<string, unknown>): Promise<LogEntry[]> => {
      const out: LogEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await logger.client.query({ filter, limit: 500, ...(cursor ? { cursor } : {}) });
        out.push(...page.entries);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    };
    const want = (pred: (e: LogEntry & { kind: 'packet' }) => boolean): string[] => first.filter((e) => e.kind === 'packet' && pred(e)).map((e) => e.id);
    const cases: [Record<string, unknown>, (e: LogEntry & { kind: 'packet' }) => boolean][] = [
      [{ node: 'pve2' }, (e) => e.node === 'pve2'],
      [{ vmid: 105 }, (e) => e.vmid === 105],
      [{ chain: 'tap110i0-IN' }, (e) => e.chain === 'tap110i0-IN'],
      [{ direction: 'in', action: 'reject' }, (e) => e.action === 'REJECT'],
      [{ src: '10.0.1.0/24' }, (e) => e.src!.startsWith('10.0.1.')],
      [{ dst: '192.168.3.10' }, (e) => e.dst === '192.168.3.10'],
      [{ sport: 1100 }, (e) => e.sport === 1100],
      [{ dport: 8006 }, (e) => e.dport === 8006],
      [{ proto: 'UDP' }, (e) => e.proto === 'udp'],
      [{ ruleId: 'r9' }, (e) => e.ruleId === 'r9'],
      [{ sinceUs: START_US + 1_000_000, untilUs: START_US + 2_000_000 }, (e) => e.timeUs >= START_US + 1e6 && e.timeUs <= START_US + 2e6],
    ];
    for (const [filter, pred] of cases) expect((await q(filter)).map((e) => e.id), JSON.stringify(filter)).toEqual(want(pred));
    const newest = await logger.client.query({ filter: { node: 'pve1' }, limit: 3, newestFirst: true });
    expect(newest.entries.map((e) => e.id)).toEqual(want((e) => e.node === 'pve1').slice(-3).reverse());
    // The entry comes back exactly as published.
    expect(await logger.client.getEntry(first[7]!.id)).toEqual(first[7]);
    expect(await logger.client.getEntry('pve1:none:0')).toBeUndefined();
  });

  it('refuses a bad filter naming the field', async () => {
    const err = await logger.client.query({ filter: { src: '10.0.0.0/40' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigClientError);
    expect((err as ConfigClientError).code).toBe('invalid-argument');
    expect((err as Error).message).toContain('src');
  });

  it('pages as Proxmox does and tops sources', async () => {
    const r = await logger.client.proxmoxLog({ node: 'pve1', start: 5, limit: 3, timeZone: 'UTC' });
    expect(r.total).toBe(400);
    expect(r.lines.map((l) => l.n)).toEqual([6, 7, 8]);
    expect(r.lines[0]!.t).toMatch(/^1\d\d 6 tap1\d\di0-IN 01\/Jun\/2025:12:00:00 \+0000 (ACCEPT|DROP|REJECT): IN=fwbr/);
    const guest = await logger.client.proxmoxLog({ node: 'pve1', vmid: 103, limit: 0 });
    expect(guest.lines.every((l) => l.t.startsWith('103 '))).toBe(true);
    const none = await logger.client.proxmoxLog({ node: 'nosuch' });
    expect(none).toEqual({ total: 1, lines: [{ n: 1, t: 'no content' }] });
    const top = await logger.client.top({ by: 'dport', limit: 2 });
    expect(top.total).toBe(1200);
    expect(top.groups).toEqual([
      { key: '123', count: 150 },
      { key: '22', count: 150 },
    ]);
  });

  it('drops entries published twice (beyond the duplicate window too)', async () => {
    const before = logger.service.store.count;
    // A new message id, the same entry id: NATS cannot de-duplicate it, the logger must.
    await pub.publishRaw('pve1', new TextEncoder().encode(JSON.stringify(first[3])), 'republished-1');
    await expect.poll(() => logger.service.ingest.stats.duplicates, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    expect(logger.service.store.count).toBe(before);
  });

  it('records undecodable messages as decode-error losses of the node', async () => {
    const before = logger.service.store.count;
    await pub.publishRaw('pve3', new TextEncoder().encode('{"kind":"packet"'), 'garbage-1');
    await stored(logger, before + 1);
    const losses = await logger.client.query({ filter: { node: 'pve3', kind: 'loss' } });
    expect(losses.entries).toHaveLength(1);
    expect(losses.entries[0]).toMatchObject({ kind: 'loss', node: 'pve3', count: 1, reason: 'decode-error' });
  });

  it('stores every entry of a batch message (as agents publish them), a bad one of it as a loss', async () => {
    const before = logger.service.store.count;
    const entries = batch(900_000, 30, 'batch').map((e) => ({ ...e, node: 'pve5', id: e.id.replace(/^pve\d/, 'pve5') }));
    const body = `[${entries.map((e) => logEntryJson(e)).join(',')},${JSON.stringify({ ...entries[0], id: 'pve5:batch:bad', dport: 70000 })}]`;
    await pub.publishRaw('pve5', new TextEncoder().encode(body), batchMessageId(entries[0]!.id, 31));
    await stored(logger, before + 31);
    const got = await logger.client.query({ filter: { node: 'pve5' }, limit: 100 });
    expect(got.entries.filter((e) => e.kind === 'packet').map((e) => e.id)).toEqual(entries.map((e) => e.id));
    expect(got.entries.filter((e) => e.kind === 'loss')).toMatchObject([{ node: 'pve5', count: 1, reason: 'decode-error' }]);
  });

  it('Tail sends the last N, then new entries and loss entries as they arrive', async () => {
    const ac = new AbortController();
    const seen: LogEntry[] = [];
    const tail = (async () => {
      for await (const e of logger.client.tail({ filter: { node: 'pve2' }, last: 2 }, ac.signal)) {
        seen.push(e);
        if (seen.length >= 2 + 4) ac.abort();
      }
    })();
    await expect.poll(() => seen.length, { timeout: 20_000 }).toBe(2);
    expect(seen.map((e) => e.id)).toEqual(first.filter((e) => e.node === 'pve2').slice(-2).map((e) => e.id));
    const more = batch(5000, 9); // 3 of pve2
    const loss: LossLogEntry = { kind: 'loss', id: 'pve2:b1:loss:1', node: 'pve2', timeUs: START_US + 60e6, count: 12, fromUs: START_US, untilUs: START_US + 59e6, reason: 'kernel-enobufs' };
    await pub.publish([...more, loss]);
    await tail;
    expect(seen.slice(2).map((e) => e.id)).toEqual([...more.filter((e) => e.node === 'pve2').map((e) => e.id), loss.id]);
    expect(seen.at(-1)).toEqual(loss);
  });

  it('a restart during ingest loses nothing and stores nothing twice', async () => {
    const before = logger.service.store.count;
    const entries = batch(10_000, 6000, 'b2');
    const publishing = pub.publish(entries, 250);
    await expect.poll(() => logger.service.store.count, { timeout: 30_000, interval: 20 }).toBeGreaterThan(before + 300);
    await logger.restart();
    await publishing;
    await stored(logger, before + 6000, 60_000);
    // Every entry once: a query over their time range returns each id exactly once.
    const page = await logger.client.query({ filter: { sinceUs: entries[0]!.timeUs, untilUs: entries.at(-1)!.timeUs }, limit: 10_000 });
    expect(page.entries).toHaveLength(6000);
    expect(new Set(page.entries.map((e) => e.id)).size).toBe(6000);
  }, 120_000);

  it('a second logger with its own consumer builds a complete store of its own', async () => {
    const second = await new TestLogger({ natsServers: nats.urls, consumer: 'second-logger', retentionMs: 0 }).start();
    try {
      const total = logger.service.store.count;
      await stored(second, total, 60_000);
      const extra = batch(20_000, 50, 'b3');
      await pub.publish(extra);
      await stored(logger, total + 50);
      await stored(second, total + 50);
      const a = await logger.client.query({ filter: { node: 'pve1' }, limit: 10_000 });
      const b = await second.client.query({ filter: { node: 'pve1' }, limit: 10_000 });
      expect(b.entries.map((e) => e.id)).toEqual(a.entries.map((e) => e.id));
    } finally {
      await second.remove();
    }
  }, 120_000);
});
