/**
 * Parses cached by revision: with a 1 MiB cluster.fw, firewall calls on a small guest cost
 * about what a Put costs (measured in the same run), and the cache stays within its bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFwDocument } from '@palisade/fw-lang';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { ParseCache } from './parse-cache.js';

/** A cluster document just under 1 MiB: options, a few rules and one large IP set. */
function bigClusterFw(): string {
  const lines = ['[OPTIONS]', 'enable: 1', '', '[RULES]', 'IN ACCEPT -p tcp -dport 22', '', '[IPSET blocklist]', ''];
  let size = lines.join('\n').length;
  for (let i = 0; size < 1000 * 1024; i++) {
    const line = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

describe('ParseCache', () => {
  const doc = (n: number) => parseFwDocument(`[RULES]\nIN ACCEPT -p tcp -dport ${n}\n`, { path: 'firewall/100.fw', kind: 'guest' });

  it('returns the parse of a revision once parsed, and parses a new revision', () => {
    const cache = new ParseCache();
    let parses = 0;
    const get = (rev: number) => cache.getOrParse('firewall/100.fw', rev, { clusterRevision: 3 }, 10, () => (parses++, doc(rev)));
    const a = get(5);
    expect(get(5)).toBe(a);
    expect(parses).toBe(1);
    get(6);
    expect(parses).toBe(2);
    // Another cluster revision is another context: parsed again.
    cache.getOrParse('firewall/100.fw', 5, { clusterRevision: 4 }, 10, () => (parses++, doc(5)));
    expect(parses).toBe(3);
  });

  it('keeps within its entry and byte bounds, least recently used out first', () => {
    const cache = new ParseCache({ maxEntries: 3, maxSourceBytes: 100 });
    for (let rev = 1; rev <= 5; rev++) cache.put('firewall/100.fw', rev, { clusterRevision: 0 }, 10, doc(rev));
    expect(cache.stats.entries).toBe(3);
    cache.put('firewall/101.fw', 1, { clusterRevision: 0 }, 90, doc(1));
    expect(cache.stats.sourceBytes).toBeLessThanOrEqual(100);
    // Larger than the whole bound: not kept at all.
    cache.put('firewall/cluster.fw', 9, { clusterRevision: 0 }, 1000, doc(9));
    expect(cache.stats.sourceBytes).toBeLessThanOrEqual(100);
  });
});

describe('firewall API next to a 1 MiB cluster.fw', () => {
  let nats: NatsClusterHandle;
  let cd: TestConfigd;
  const guest = { target: { $case: 'vmid' as const, value: 100 } };

  beforeAll(async () => {
    nats = await startNats({ size: 1 });
    cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'pc' });
    const big = bigClusterFw();
    expect(big.length).toBeGreaterThan(1000 * 1024);
    await cd.call('put', { path: 'firewall/cluster.fw', content: text(big) });
    await cd.call('put', { path: 'firewall/100.fw', content: text('[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 80\n') });
  }, 120_000);

  afterAll(async () => {
    await cd?.close();
    await nats?.close();
  });

  it('costs about what a Put costs (reads and writes of a guest, medians of 7, same run)', async () => {
    const fw = cd.client();
    // Warm-up: the first call parses the cluster revision once.
    await fw.fw('getOptions', { scope: guest });
    const put: number[] = [];
    const get: number[] = [];
    const set: number[] = [];
    const list: number[] = [];
    for (let i = 0; i < 7; i++) {
      put.push(await timed(() => cd.call('put', { path: 'firewall/101.fw', content: text(`[RULES]\nIN ACCEPT -p tcp -dport ${1000 + i}\n`) })));
      get.push(await timed(() => fw.fw('getOptions', { scope: guest })));
      set.push(await timed(() => fw.fw('setOptions', { scope: guest, set: { log_level_in: i % 2 ? 'info' : 'nolog' } })));
      list.push(await timed(() => fw.fw('listRules', { scope: guest })));
    }
    const figures = { put: median(put), getOptions: median(get), setOptions: median(set), listRules: median(list) };
    console.log(`1 MiB cluster.fw, guest calls, median ms: ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`);
    // Before the cache a guest getOptions re-parsed the cluster document: 15-40x a Put.
    const bound = 4 * figures.put + 25;
    expect(figures.getOptions).toBeLessThan(bound);
    expect(figures.listRules).toBeLessThan(bound);
    // A write is a read, an edit and a Put.
    expect(figures.setOptions).toBeLessThan(2 * bound);
  }, 120_000);
});
