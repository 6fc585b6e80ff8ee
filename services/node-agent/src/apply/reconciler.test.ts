import { ManualClock, SILENT_LOGGER } from '@palisade/service-kit';
import { describe, expect, it } from 'vitest';
import { NodeDocuments } from '../follow/node-documents.js';
import { createReconciler } from './reconciler.js';
import type { ApplyInput, RulesetApplier } from './ruleset-applier.js';

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function setup(startMs: number) {
  const clock = new ManualClock(startMs);
  const docs = new NodeDocuments('pve1');
  const applied: ApplyInput[] = [];
  const applier: RulesetApplier = {
    kind: 'fake',
    apply(input) {
      applied.push(input);
      return Promise.resolve({ durationMs: 1 });
    },
    readCurrent: () => Promise.resolve({ text: '', digest: '' }),
  };
  const r = createReconciler({
    node: 'pve1',
    documents: docs,
    facts: () => ({ addresses: ['192.0.2.1/24'], interfaces: ['eth0', 'lo'] }),
    applier,
    dryRun: true,
    logGroup: 0,
    clock,
    logger: SILENT_LOGGER,
    quietMs: 5,
    maxDelayMs: 100,
    retryInitialMs: 100,
    retryMaxMs: 1000,
  });
  const step = async (ms: number): Promise<void> => {
    clock.advance(ms);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await r.idle();
  };
  return { clock, docs, applied, r, step };
}

describe('reconciler', () => {
  it('compiles nothing before the snapshot, then applies once per change and skips identical output', async () => {
    const { docs, applied, r, step } = setup(1_700_000_000_000);
    docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n'), 1);
    r.changed();
    await step(50);
    expect(r.status().counters.compiles).toBe(0);
    r.setStoreRevision(1);
    r.synced();
    await step(5);
    expect(applied.length).toBe(1);
    expect(r.status()).toMatchObject({ appliedRevision: 1, enabled: true });
    // Another node's guest rules: no input, no work.
    expect(docs.put('firewall/200.fw', text('[RULES]\nIN ACCEPT -p tcp -dport 22\n'), 2)).toBe(false);
    // The same content again: no change.
    expect(docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n'), 3)).toBe(false);
    // A comment: recompiled, identical, not sent.
    expect(docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n# note\n'), 4)).toBe(true);
    r.setStoreRevision(4);
    r.changed();
    await step(5);
    expect(applied.length).toBe(1);
    expect(r.status().counters).toMatchObject({ compiles: 2, applies: 1, skippedIdentical: 1 });
    expect(r.status().appliedRevision).toBe(4);
  });

  it("honours the dead-man switch: enable: <timestamp> turns the firewall off 60 s later unless 'enable: 1' is written", async () => {
    const start = 1_700_000_000_000;
    const { docs, applied, r, step } = setup(start);
    const stamp = start / 1000;
    docs.put('firewall/cluster.fw', text(`[OPTIONS]\nenable: ${stamp}\n`), 1);
    r.synced();
    await step(5);
    expect(applied.length).toBe(1);
    expect(r.status()).toMatchObject({ enabled: true, deadmanAtMs: (stamp + 61) * 1000 });
    await step(60_000);
    expect(applied.length).toBe(1);
    await step(1_000);
    await step(5);
    expect(applied.length).toBe(2);
    expect(r.status().enabled).toBe(false);
    expect(applied[1]!.text).not.toContain('chain');
    // Confirmed later with enable: 1: back on, no timer.
    docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n'), 2);
    r.changed();
    await step(5);
    expect(applied.length).toBe(3);
    expect(r.status().enabled).toBe(true);
    expect(r.status().deadmanAtMs).toBeUndefined();
    await r.close();
  });

  it('migration: a guest config arriving makes its .fw an input; leaving removes it', async () => {
    const { docs, applied, r, step } = setup(1_700_000_000_000);
    docs.reset([
      { path: 'firewall/cluster.fw', content: text('[OPTIONS]\nenable: 1\n'), revision: 1 },
      { path: 'firewall/100.fw', content: text('[OPTIONS]\nenable: 1\n[RULES]\nIN ACCEPT -p tcp -dport 8443\n'), revision: 2 },
      { path: 'nodes/pve2/qemu-server/100.conf', content: text('net0: virtio=02:00:00:00:01:00,bridge=vmbr0,firewall=1\n'), revision: 3 },
    ]);
    r.synced();
    await step(5);
    expect(applied.at(-1)!.text).not.toContain('8443');
    expect(docs.put('nodes/pve1/qemu-server/100.conf', text('net0: virtio=02:00:00:00:01:00,bridge=vmbr0,firewall=1\n'), 4)).toBe(true);
    r.changed();
    await step(5);
    expect(applied.at(-1)!.text).toContain('8443');
    expect(docs.delete('nodes/pve1/qemu-server/100.conf')).toBe(true);
    r.changed();
    await step(5);
    expect(applied.at(-1)!.text).not.toContain('8443');
  });

  it('a refused configuration keeps the previous ruleset and is compiled again with backoff; flush holds until a document changes', async () => {
    const { clock, docs, applied, r, step } = setup(1_700_000_000_000);
    // A refusal leaves a retry pending, so idle() would wait for ever: advance and let the run finish.
    const tick = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let k = 0; k < 50; k++) await new Promise((res) => setImmediate(res));
    };
    docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n'), 1);
    r.setStoreRevision(1);
    r.synced();
    await step(5);
    expect(applied.length).toBe(1);
    // FW0204 (a fatal option) refuses the whole configuration.
    docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\nlog_ratelimit: rate=1/week\n'), 2);
    r.setStoreRevision(2);
    r.changed();
    await tick(5);
    const compiles = r.status().counters.compiles;
    expect(r.status().refusal).toMatchObject({ code: 'fatal-configuration', retryInMs: 100 });
    await tick(100); // the retry pokes the coalescer, which runs 5 ms later
    await tick(5);
    expect(r.status().counters.compiles).toBe(compiles + 1);
    expect(r.status().refusal?.retryInMs).toBe(200);
    expect(applied.length).toBe(1);
    expect(r.status().appliedRevision).toBe(1);
    // Fixed: applied, the refusal is gone.
    docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n# fixed\n'), 3);
    r.setStoreRevision(3);
    r.changed();
    await tick(5);
    expect(r.status().refusal).toBeUndefined();
    expect(r.status().appliedRevision).toBe(3);
    // Flush: no tables, nothing applied until a document changes.
    await r.flush();
    expect(r.status()).toMatchObject({ flushed: true, rulesetDigest: '' });
    r.changed();
    await tick(200);
    expect(r.status().flushed).toBe(true);
    docs.put('firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n# after flush\n'), 4);
    r.setStoreRevision(4);
    r.changed();
    await tick(5);
    expect(r.status()).toMatchObject({ flushed: false, appliedRevision: 4 });
    expect(r.status().rulesetDigest).toMatch(/^[0-9a-f]{64}$/);
  });
});
