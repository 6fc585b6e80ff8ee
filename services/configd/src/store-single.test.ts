/**
 * configd against one real JetStream server: document API, CAS, history, diff, rollback,
 * watch with resume, and reads while NATS is down.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { WatchEventType } from '@palisade/api';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { NO_VALIDATION } from './store/document-validator.js';
import { CallError, rejects, collectWatch, sleep, startTestConfigd, text, type TestConfigd } from './test-harness.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, validator: NO_VALIDATION, replicas: 1 });
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('documents on a single JetStream server', () => {
  it('puts, gets, lists and records metadata', async () => {
    const put = await cd.call('put', { path: 'firewall/100.fw', content: text('[OPTIONS]\nenable: 1\n'), message: 'first' });
    expect(put.meta?.revision).toBeGreaterThan(0);
    expect(put.meta?.digest).toBe(sha('[OPTIONS]\nenable: 1\n'));
    expect(put.meta?.author).toBe('anonymous');
    expect(put.meta?.message).toBe('first');
    expect(put.meta?.writerNode).toBe('pve1');
    const got = await cd.call('get', { path: '/etc/pve/firewall/100.fw' });
    expect(got.document?.content.toString()).toBe('[OPTIONS]\nenable: 1\n');
    expect(got.storeRevision).toBeGreaterThanOrEqual(put.meta!.revision);
    const put2 = await cd.call('put', { path: 'nodes/pve1/host.fw', content: text('[OPTIONS]\n') });
    expect(put2.meta!.revision).toBeGreaterThan(put.meta!.revision);
    const list = await cd.call('list', { prefix: 'firewall/' });
    expect(list.documents.map((d) => d.meta?.path)).toEqual(['firewall/100.fw']);
    const all = await cd.call('list', { prefix: '', includeContent: true });
    expect(all.documents.map((d) => d.meta?.path)).toEqual(['firewall/100.fw', 'nodes/pve1/host.fw']);
    expect(all.documents[1]!.content.toString()).toBe('[OPTIONS]\n');
  });

  it('refuses a stale revision and a wrong digest, accepts the right ones', async () => {
    const a = await cd.call('put', { path: 'firewall/101.fw', content: text('a\n') });
    const b = await cd.call('put', { path: 'firewall/101.fw', content: text('b\n'), expectedRevision: a.meta!.revision });
    const stale = await rejects(cd.call('put', { path: 'firewall/101.fw', content: text('c\n'), expectedRevision: a.meta!.revision }));
    expect(stale.grpcCode).toBe(status.ABORTED);
    expect(stale.detail?.code).toBe('conflict');
    expect(stale.detail?.currentRevision).toBe(b.meta!.revision);
    const wrongDigest = await rejects(cd.call('put', { path: 'firewall/101.fw', content: text('c\n'), expectedDigest: sha('a\n') }));
    expect(wrongDigest.detail?.code).toBe('conflict');
    const ok = await cd.call('put', { path: 'firewall/101.fw', content: text('c\n'), expectedDigest: sha('b\n') });
    expect(ok.meta!.revision).toBeGreaterThan(b.meta!.revision);
    const exists = await rejects(cd.call('put', { path: 'firewall/101.fw', content: text('d\n'), createOnly: true }));
    expect(exists.grpcCode).toBe(status.ALREADY_EXISTS);
    expect((await cd.call('get', { path: 'firewall/101.fw' })).document?.content.toString()).toBe('c\n');
  });

  it('loses no update with concurrent CAS writers', async () => {
    const path = 'firewall/102.fw';
    await cd.call('put', { path, content: text('0\n') });
    const writers = 8;
    const perWriter = 15;
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = 0; i < perWriter; ) {
          const cur = await cd.call('get', { path });
          const n = Number(cur.document!.content.toString().trim());
          try {
            await cd.call('put', { path, content: text(`${n + 1}\n`), expectedRevision: cur.document!.meta!.revision });
            i++;
          } catch (err) {
            if (!(err instanceof CallError) || err.detail?.code !== 'conflict') throw err;
            conflicts++;
          }
        }
      }),
    );
    const final = await cd.call('get', { path });
    expect(Number(final.document!.content.toString())).toBe(writers * perWriter);
    expect(conflicts).toBeGreaterThan(0);
  });

  it('deletes with a tombstone, keeps history, diffs and rolls back', async () => {
    const path = 'nodes/pve1/lxc/200.conf';
    const r1 = await cd.call('put', { path, content: text('net0: name=eth0\nmemory: 512\n') });
    const r2 = await cd.call('put', { path, content: text('net0: name=eth0\nmemory: 1024\n'), message: 'more memory' });
    const diff = await cd.call('diff', { path, fromRevision: r1.meta!.revision, toRevision: r2.meta!.revision });
    expect(diff.unified).toContain('-memory: 512\n+memory: 1024');
    expect(diff.identical).toBe(false);
    const del = await cd.call('delete', { path, expectedRevision: r2.meta!.revision });
    expect(del.meta?.deleted).toBe(true);
    expect((await rejects(cd.call('get', { path }))).grpcCode).toBe(status.NOT_FOUND);
    const hist = await cd.call('history', { path, includeContent: true });
    expect(hist.revisions.map((d) => d.meta!.revision)).toEqual([del.meta!.revision, r2.meta!.revision, r1.meta!.revision]);
    expect(hist.revisions[1]!.meta!.message).toBe('more memory');
    const old = await cd.call('get', { path, revision: r1.meta!.revision });
    expect(old.document?.content.toString()).toContain('512');
    const rb = await cd.call('rollback', { path, revision: r1.meta!.revision });
    expect(rb.meta!.message).toBe(`rollback to revision ${r1.meta!.revision}`);
    expect((await cd.call('get', { path })).document?.content.toString()).toContain('memory: 512');
    // create-only works again after a deletion
    await cd.call('delete', { path });
    await cd.call('put', { path, content: text('x\n'), createOnly: true });
  });

  it('keeps at least 64 revisions of history', async () => {
    const path = 'firewall/103.fw';
    for (let i = 0; i < 70; i++) await cd.call('put', { path, content: text(`${i}\n`) });
    const hist = await cd.call('history', { path });
    expect(hist.revisions.length).toBeGreaterThanOrEqual(64);
    expect(hist.revisions[0]!.meta!.revision).toBeGreaterThan(hist.revisions[1]!.meta!.revision);
  });

  it('watches: snapshot, then every change in order; resumes without gaps or repeats', async () => {
    const initial = await cd.call('list', { prefix: 'firewall/' });
    const stream = cd.watch({ prefixes: ['firewall/'] });
    const first = collectWatch(stream, (evs) => evs.filter((e) => e.type === WatchEventType.WATCH_EVENT_TYPE_PUT).length >= 5);
    await sleep(100);
    for (let i = 0; i < 5; i++) {
      await cd.call('put', { path: 'firewall/110.fw', content: text(`${i}\n`) });
      await cd.call('put', { path: 'nodes/pve1/host.fw', content: text(`# ${i}\n`) }); // not watched
    }
    const evs = await first;
    const snap = evs.filter((e) => e.type === WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT);
    expect(snap.map((e) => e.meta!.path)).toEqual(initial.documents.map((d) => d.meta!.path));
    const end = evs.find((e) => e.type === WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END)!;
    const puts = evs.filter((e) => e.type === WatchEventType.WATCH_EVENT_TYPE_PUT);
    expect(puts.map((e) => e.content.toString())).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n']);
    expect(puts[0]!.revision).toBeGreaterThan(end.revision);
    // Disconnect after the 2nd change, write more, resume from last seen + 1.
    const lastSeen = puts[1]!.revision;
    for (let i = 5; i < 8; i++) await cd.call('put', { path: 'firewall/110.fw', content: text(`${i}\n`) });
    const resumed = await collectWatch(
      cd.watch({ prefixes: ['firewall/'], startRevision: lastSeen + 1 }),
      (e) => e.filter((x) => x.type === WatchEventType.WATCH_EVENT_TYPE_PUT).length >= 6,
    );
    const contents = resumed.filter((e) => e.type === WatchEventType.WATCH_EVENT_TYPE_PUT).map((e) => e.content.toString());
    expect(contents).toEqual(['2\n', '3\n', '4\n', '5\n', '6\n', '7\n']);
    expect(resumed.some((e) => e.type === WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT)).toBe(false);
  });

  it('sends progress events while nothing under the prefix changes', async () => {
    const evs = await collectWatch(
      cd.watch({ prefixes: ['sdn/'], progressIntervalMs: 100 }),
      (e) => e.some((x) => x.type === WatchEventType.WATCH_EVENT_TYPE_PROGRESS),
    );
    expect(evs[0]!.type).toBe(WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END);
  });

  it('a restarted configd catches up from its LMDB revision without losing or repeating a revision', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'palisade-restart-'));
    try {
      let a = await startTestConfigd({ natsServers: nats.urls, validator: NO_VALIDATION, node: 'pve7', dataDir });
      await a.call('put', { path: 'firewall/120.fw', content: text('a\n') });
      const seen = a.configd.store.mirror.revision;
      await a.close();
      for (let i = 0; i < 20; i++) await cd.call('put', { path: `firewall/${121 + (i % 3)}.fw`, content: text(`${i}\n`) });
      const target = (await cd.call('status', {})).revision;
      a = await startTestConfigd({ natsServers: nats.urls, validator: NO_VALIDATION, node: 'pve7', dataDir });
      try {
        expect(a.configd.store.mirror.revision).toBeGreaterThanOrEqual(seen);
        const got = await a.call('get', { path: 'firewall/122.fw', minRevision: target });
        expect(got.document?.content.toString()).toBe('19\n');
        // pve7 joined after the stream had trimmed old revisions of firewall/103.fw (history
        // 64): its log is complete from its own oldest revision on, and equal from there.
        const from = a.configd.store.mirror.oldestRevision;
        const mine = a.configd.store.mirror.readLog(from, 100_000).map((r) => `${r.revision}:${r.digest}`);
        const theirs = cd.configd.store.mirror.readLog(from, 100_000).map((r) => `${r.revision}:${r.digest}`);
        expect(mine.length).toBeGreaterThan(20);
        expect(mine).toEqual(theirs);
      } finally {
        await a.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reports status', async () => {
    const s = await cd.call('status', {});
    expect(s.node).toBe('pve1');
    expect(s.quorate).toBe(true);
    expect(s.replicas).toBe(1);
    expect(s.maxDocumentBytes).toBe(1024 * 1024);
    expect(s.revision).toBeGreaterThan(0);
  });

  it('serves reads and watches from the mirror while NATS is down, refuses a write once its deadline is spent, catches up after', async () => {
    const before = await cd.call('get', { path: 'firewall/100.fw' });
    const server = nats.servers[0]!;
    await server.stop();
    await sleep(300);
    const t0 = Date.now();
    // A 1.5 s call deadline: configd answers shortly before it, with the reason.
    const refused = await rejects(cd.callWithin(1500, 'put', { path: 'firewall/100.fw', content: text('down\n') }));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(refused.grpcCode).toBe(status.UNAVAILABLE);
    // The true reason: NATS is unreachable (a single server has no quorum to lose).
    expect(refused.code).toBe('unavailable');
    expect(refused.message).toMatch(/^JetStream did not acknowledge the write within the write deadline \(.* in \d+ ms; last: not connected to NATS\); nothing was written$/);
    const during = await cd.call('get', { path: 'firewall/100.fw' });
    expect(during.document?.content).toEqual(before.document?.content);
    const snap = await collectWatch(cd.watch({ prefixes: ['firewall/'] }), (e) =>
      e.some((x) => x.type === WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END),
    );
    expect(snap.length).toBeGreaterThan(1);
    await server.start();
    await nats.waitHealthy();
    let wrote = false;
    for (let i = 0; i < 100 && !wrote; i++) {
      try {
        await cd.call('put', { path: 'firewall/100.fw', content: text('back\n') });
        wrote = true;
      } catch {
        await sleep(200);
      }
    }
    expect(wrote).toBe(true);
    expect((await cd.call('get', { path: 'firewall/100.fw' })).document?.content.toString()).toBe('back\n');
  }, 60_000);
});
