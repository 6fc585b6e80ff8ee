import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '@palisade/service-kit';
import type { LogEntry, LossLogEntry } from '@palisade/log-model';
import { syntheticEntry } from '../synthetic-entries.js';
import { parseLogFilter, type LogFilterInput } from './filter.js';
import { LogStore } from './log-store.js';
import { countMatches, explainPlan, queryEntries } from './query.js';
import { proxmoxLog } from './proxmox-log.js';
import { topEntries } from './top.js';
import { RetentionSweeper } from './retention.js';

const START_US = Date.UTC(2025, 1, 3, 9, 0, 0) * 1000;
const N = 3000;
const entries = Array.from({ length: N }, (_, i) => syntheticEntry(i, { startUs: START_US, stepUs: 1_000_000 }));
const loss: LossLogEntry = { kind: 'loss', id: 'pve2:b0:loss:1', node: 'pve2', timeUs: START_US + 1500.5e6, count: 7, fromUs: START_US + 1400e6, untilUs: START_US + 1500e6, reason: 'kernel-sequence-gap' };

let dir: string;
let store: LogStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palisade-logstore-'));
  store = LogStore.open({ path: dir, logger: SILENT_LOGGER });
  // Arrival order differs from time order (a late node), so that time order is really tested.
  await store.put(entries.slice(1000));
  await store.put([loss]);
  await store.put(entries.slice(0, 1000));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a brute-force filter over the entries says (time order). */
function expected(f: LogFilterInput): LogEntry[] {
  const all: LogEntry[] = [...entries, loss].sort((a, b) => a.timeUs - b.timeUs);
  const pf = parseLogFilter(f);
  return all.filter((e) => {
    if (e.timeUs < pf.sinceUs || e.timeUs > pf.untilUs) return false;
    if (pf.node && e.node !== pf.node) return false;
    if (e.kind === 'loss') return Object.keys(f).every((k) => ['node', 'sinceUs', 'untilUs', 'kind'].includes(k)) && f.kind !== 'packet';
    if (f.kind === 'loss') return false;
    const inNet = (a: string | undefined, cidr: string): boolean => {
      const [net, bits] = cidr.split('/');
      const n = (s: string): number => s.split('.').reduce((x, o) => x * 256 + Number(o), 0);
      const block = 2 ** (32 - Number(bits ?? 32));
      return a !== undefined && Math.floor(n(a) / block) === Math.floor(n(net!) / block);
    };
    return (
      (f.vmid === undefined || e.vmid === f.vmid) &&
      (f.chain === undefined || e.chain === f.chain) &&
      (f.direction === undefined || e.direction === f.direction) &&
      (f.action === undefined || e.action === f.action) &&
      (f.sport === undefined || e.sport === f.sport) &&
      (f.dport === undefined || e.dport === f.dport) &&
      (f.proto === undefined || e.proto === f.proto) &&
      (f.ruleId === undefined || e.ruleId === f.ruleId) &&
      (f.src === undefined || inNet(e.src, f.src)) &&
      (f.dst === undefined || inNet(e.dst, f.dst))
    );
  });
}

const ids = (es: readonly LogEntry[]): string[] => es.map((e) => e.id);

describe('LogStore queries', () => {
  const filters: [string, LogFilterInput][] = [
    ['everything', {}],
    ['node', { node: 'pve2' }],
    ['vmid', { vmid: 117 }],
    ['host vmid 0 (none)', { vmid: 0 }],
    ['chain', { chain: 'tap120i0-IN' }],
    ['direction', { direction: 'in' }],
    ['action', { action: 'REJECT' }],
    ['src address', { src: '10.0.3.17' }],
    ['src CIDR', { src: '10.0.2.0/24' }],
    ['wide src CIDR', { src: '10.0.0.0/8' }],
    ['dst CIDR', { dst: '192.168.7.0/24' }],
    ['sport', { sport: 1500 }],
    ['dport', { dport: 443 }],
    ['proto', { proto: 'udp' }],
    ['rule', { ruleId: 'r7' }],
    ['losses', { kind: 'loss' }],
    ['packets of a node', { node: 'pve2', kind: 'packet' }],
    ['time range', { sinceUs: START_US + 100e6, untilUs: START_US + 200e6 }],
    ['combined', { node: 'pve1', action: 'DROP', dport: 22, sinceUs: START_US + 500e6 }],
    ['vmid and CIDR', { vmid: 110, src: '10.0.0.0/16', proto: 'tcp' }],
    ['no match', { node: 'pve1', vmid: 101 }],
  ];

  it.each(filters)('%s: the same entries as a brute-force filter, both orders', (_name, f) => {
    const want = expected(f);
    const pf = parseLogFilter(f);
    expect(ids(queryEntries(store, pf).hits.map((h) => h.entry))).toEqual(ids(want));
    expect(ids(queryEntries(store, pf, { newestFirst: true }).hits.map((h) => h.entry))).toEqual(ids([...want].reverse()));
    expect(countMatches(store, pf)).toBe(want.length);
  });

  it('pages with cursors without gaps or repeats, in both orders', () => {
    const f = parseLogFilter({ node: 'pve3' });
    for (const newestFirst of [false, true]) {
      const got: string[] = [];
      let after;
      for (let pages = 0; pages < 100; pages++) {
        const r = queryEntries(store, f, { newestFirst, limit: 77, ...(after ? { after } : {}) });
        got.push(...ids(r.hits.map((h) => h.entry)));
        if (!r.resumeAfter) break;
        after = r.resumeAfter;
      }
      const want = ids(expected({ node: 'pve3' }));
      expect(got).toEqual(newestFirst ? want.reverse() : want);
    }
  });

  it('merges a span wider than the planner probes (a large CIDR) in time order, with cursors', async () => {
    const wide = Array.from({ length: 5000 }, (_, i) => ({ ...entries[i % N]!, id: `pve1:wide:${i}`, src: `172.16.${i % 7}.${(i * 13) % 250}`, timeUs: START_US + ((i * 7919) % 5000) * 1000 + 5e9 }));
    await store.put(wide);
    const f = parseLogFilter({ src: '172.16.0.0/12' });
    expect(explainPlan(store, f).index).toBe('src (span, merged)');
    const want = [...wide].sort((a, b) => a.timeUs - b.timeUs).map((e) => e.id);
    for (const newestFirst of [false, true]) {
      const got: string[] = [];
      let after;
      for (let pages = 0; pages < 100; pages++) {
        const r = queryEntries(store, f, { newestFirst, limit: 333, ...(after ? { after } : {}) });
        got.push(...ids(r.hits.map((h) => h.entry)));
        if (!r.resumeAfter) break;
        after = r.resumeAfter;
      }
      // Equal times keep arrival order (seq), which is the order of `wide`.
      expect(got).toEqual(newestFirst ? [...want].reverse() : want);
    }
    const since = START_US + 5e9 + 1000e3;
    expect(ids(queryEntries(store, parseLogFilter({ src: '172.16.0.0/12', sinceUs: since, untilUs: since + 99e3 })).hits.map((h) => h.entry))).toHaveLength(100);
  });

  it('chooses a selective index', () => {
    expect(explainPlan(store, parseLogFilter({ node: 'pve1', ruleId: 'r3' })).index).toBe('ruleId');
    expect(explainPlan(store, parseLogFilter({ src: '10.0.2.0/24' })).index).toBe('src');
    expect(explainPlan(store, parseLogFilter({ src: '10.0.0.0/16' })).index).toBe('src (span, sorted)');
    expect(explainPlan(store, parseLogFilter({})).index).toBe('time');
  });

  it('drops duplicates by entry id, within a batch and across batches', async () => {
    const before = store.count;
    const r = await store.put([entries[5]!, entries[5]!, { ...entries[6]!, id: 'pve1:new:1' }]);
    expect(r).toEqual({ stored: 1, duplicates: 2 });
    expect(store.count).toBe(before + 1);
    expect(store.getById('pve1:new:1')?.entry.node).toBe('pve1');
  });

  it('survives reopening', async () => {
    await store.close();
    store = LogStore.open({ path: dir, logger: SILENT_LOGGER });
    expect(store.count).toBe(N + 1);
    expect(countMatches(store, parseLogFilter({ dport: 22 }))).toBe(expected({ dport: 22 }).length);
  });

  it('tops sources, ports, rules and guests', () => {
    const top = topEntries(store, parseLogFilter({ node: 'pve1' }), 'dport', 3);
    const counts = new Map<string, number>();
    for (const e of expected({ node: 'pve1', kind: 'packet' })) if (e.kind === 'packet') counts.set(String(e.dport), (counts.get(String(e.dport)) ?? 0) + 1);
    const want = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    expect(top.groups.map((g) => [g.key, g.count])).toEqual(want);
    expect(topEntries(store, parseLogFilter({}), 'vm', 50).groups).toHaveLength(50);
    expect(topEntries(store, parseLogFilter({}), 'rule', 1).groups[0]!.count).toBe(N / 40);
    expect(topEntries(store, parseLogFilter({ vmid: 100 }), 'source', 1000).total).toBe(N / 50);
  });
});

describe('Proxmox log paging', () => {
  it('numbers matching lines from 1, skips start, returns limit lines and the total', () => {
    const all = expected({ node: 'pve2' });
    const r = proxmoxLog(store, { node: 'pve2', start: 10, limit: 5, timeZone: 'UTC' });
    expect(r.total).toBe(all.length);
    expect(r.lines.map((l) => l.n)).toEqual([11, 12, 13, 14, 15]);
    expect(r.lines[0]!.t).toMatch(/^\d+ 6 tap\d+i0-IN 03\/Feb\/2025:\d\d:\d\d:\d\d \+0000 (DROP|ACCEPT|REJECT): IN=/);
    expect(proxmoxLog(store, { node: 'pve2' }).lines).toHaveLength(50);
    expect(proxmoxLog(store, { node: 'pve2', limit: 0 }).lines).toHaveLength(all.length);
  });

  it('shows loss entries as status lines in the node log, not in a guest log', () => {
    const lines = proxmoxLog(store, { node: 'pve2', limit: 0, timeZone: 'UTC' }).lines.map((l) => l.t);
    expect(lines.filter((t) => t.startsWith('0 4 - ') && t.includes('lost 7 log entries on pve2'))).toHaveLength(1);
    const guest = proxmoxLog(store, { node: 'pve2', vmid: 101, limit: 0 });
    expect(guest.lines.every((l) => l.t.startsWith('101 '))).toBe(true);
    expect(guest.total).toBe(expected({ node: 'pve2', vmid: 101 }).length);
  });

  it('filters since/until in epoch seconds, both inclusive', () => {
    const since = START_US / 1e6 + 300;
    const until = START_US / 1e6 + 330;
    const r = proxmoxLog(store, { node: 'pve1', since, until, limit: 0 });
    expect(r.total).toBe(expected({ node: 'pve1', sinceUs: since * 1e6, untilUs: until * 1e6 + 999_999 }).length);
    expect(r.total).toBe(11);
  });

  it('answers "no content" with total 1 when nothing matches', () => {
    expect(proxmoxLog(store, { node: 'pve9' })).toEqual({ total: 1, lines: [{ n: 1, t: 'no content' }] });
  });
});

describe('retention', () => {
  it('deletes by age and by size, index entries included', async () => {
    const nowMs = START_US / 1000 + 2000_000; // entries 0..999 are older than 1000 s
    const sweeper = new RetentionSweeper({ store, retentionMs: 1000_000, maxBytes: 0, intervalMs: 1000, clock: { now: () => nowMs } as never, logger: SILENT_LOGGER });
    await sweeper.sweep();
    expect(store.count).toBe(N + 1 - 1000);
    expect(countMatches(store, parseLogFilter({ dport: 22 }))).toBe(expected({ dport: 22, sinceUs: START_US + 1000e6 }).length);
    expect(queryEntries(store, parseLogFilter({ untilUs: START_US + 999e6 })).hits).toHaveLength(0);
    expect(store.getById(entries[10]!.id)).toBeUndefined();
    const used = store.stats().usedBytes;
    const bySize = new RetentionSweeper({ store, retentionMs: 0, maxBytes: Math.floor(used / 2), intervalMs: 1000, clock: { now: () => nowMs } as never, logger: SILENT_LOGGER });
    await bySize.sweep();
    expect(store.stats().usedBytes).toBeLessThanOrEqual(Math.floor(used / 2));
    // The newest entries stay.
    expect(store.getById(entries[N - 1]!.id)).toBeDefined();
  });

  it('sweeps in the background every interval', async () => {
    let nowMs = START_US / 1000;
    const sweeper = new RetentionSweeper({ store, retentionMs: 500_000, maxBytes: 0, intervalMs: 100, clock: { now: () => nowMs } as never, logger: SILENT_LOGGER });
    sweeper.start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(store.count).toBe(N + 1);
      nowMs = START_US / 1000 + 1_500_000; // entries older than 1000 s are now past 500 s of retention
      await expect.poll(() => store.count, { timeout: 10_000 }).toBe(N + 1 - 1000);
    } finally {
      await sweeper.close();
    }
  });
});

describe('addresses and ports inside shared postings', () => {
  it('matches exact addresses, CIDRs inside and across the key part, IPv6 and source ports exactly', async () => {
    const base = entries[0]!;
    const v6 = Array.from({ length: 600 }, (_, i) => ({
      ...base,
      id: `pve1:v6:${i}`,
      timeUs: START_US + 4e9 + i * 1000,
      family: 6 as const,
      src: `2001:db8:${i % 3}:${(i % 5).toString(16)}::${(i % 7).toString(16)}`,
      dst: `10.9.${i % 2}.${i % 256}`,
      sport: 256 * (i % 4) + (i % 9),
    }));
    await store.put(v6);
    const count = (f: LogFilterInput): number => queryEntries(store, parseLogFilter(f)).hits.length;
    const brute = (pred: (e: (typeof v6)[number]) => boolean): number => v6.filter(pred).length;
    expect(count({ src: '2001:db8:1:3::5' })).toBe(brute((e) => e.src === '2001:db8:1:3::5'));
    expect(count({ src: '2001:db8:1:3::/64' })).toBe(brute((e) => e.src.startsWith('2001:db8:1:3::')));
    expect(count({ src: '2001:db8:1::/48' })).toBe(brute((e) => e.src.startsWith('2001:db8:1:')));
    expect(count({ src: '2001:db8:1:3::4/126' })).toBe(brute((e) => e.src.startsWith('2001:db8:1:3::') && ['4', '5', '6'].includes(e.src.slice(-1))));
    expect(count({ dst: '10.9.1.16/28' })).toBe(brute((e) => e.dst.startsWith('10.9.1.') && Number(e.dst.split('.')[3]) >= 16 && Number(e.dst.split('.')[3]) < 32));
    expect(count({ dst: '10.9.0.0/23' })).toBe(600);
    expect(count({ sport: 512 + 5, node: 'pve1' })).toBe(brute((e) => e.sport === 517) + expected({ sport: 517, node: 'pve1' }).length);
    expect(countMatches(store, parseLogFilter({ sport: 256 + 1 }))).toBe(brute((e) => e.sport === 257) + expected({ sport: 257 }).length);
  });
});

describe('store format', () => {
  it('re-indexes a store of format 1 (one index key per entry and field) keeping every entry', async () => {
    await store.close();
    const old = mkdtempSync(join(tmpdir(), 'palisade-logstore-v1-'));
    try {
      const { open } = await import('lmdb');
      const root = open({ path: old, maxDbs: 4, compression: false });
      const es = root.openDB<LogEntry, number>({ name: 'entries', encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
      const idx = root.openDB<Buffer, Buffer>({ name: 'idx', keyEncoding: 'binary', encoding: 'binary' });
      const meta = root.openDB<number, string>({ name: 'meta' });
      await root.transaction(() => {
        entries.forEach((e, i) => void es.put(i + 1, e));
        void idx.put(Buffer.from([0, 1, 2]), Buffer.alloc(0));
        void meta.put('lastSeq', N);
        void meta.put('count', N);
      });
      await root.close();
      store = LogStore.open({ path: old, logger: SILENT_LOGGER });
      expect(store.count).toBe(N);
      const want = entries.filter((e) => e.dport === 22).map((e) => e.id);
      expect(ids(queryEntries(store, parseLogFilter({ dport: 22 })).hits.map((h) => h.entry))).toEqual(want);
      expect(store.getById(entries[7]!.id)?.seq).toBe(8);
      expect(await store.put([entries[7]!])).toEqual({ stored: 0, duplicates: 1 });
      await store.close();
      // Opened again: already of the current format, nothing to do.
      store = LogStore.open({ path: old, logger: SILENT_LOGGER });
      expect(countMatches(store, parseLogFilter({}))).toBe(N);
    } finally {
      await store.close();
      rmSync(old, { recursive: true, force: true });
      store = LogStore.open({ path: dir, logger: SILENT_LOGGER });
    }
  });
});
