/**
 * Import all or nothing, on a real JetStream server and configd's real mirror: a failure on the
 * third of three documents (a real CAS conflict: another writer changed it after validation)
 * leaves none of them written, on this node and on a second mirror rebuilt from the stream; a
 * batch whose importer vanished is aborted at its deadline; a good import writes every document
 * at once and says which; the message is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { ConfigdError } from '../errors.js';
import type { LogWrite } from '../log-record.js';
import { JetStreamLog } from '../replication/jetstream-log.js';
import { rejects, startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { DocumentStore, type DocumentLog } from './document-store.js';
import { FwLangValidator } from './document-validator.js';
import { LmdbMirror } from './lmdb-mirror.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;
const BUCKET = 'atomic';

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: BUCKET });
  await cd.call('put', { path: 'firewall/100.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 1\n') });
  await cd.call('put', { path: 'firewall/102.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 3\n') });
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

/** A store on configd's own mirror and log whose `beforeAppend` runs before every append. */
function storeWithHook(beforeAppend: (w: LogWrite, n: number) => Promise<void>): DocumentStore {
  const real = cd.configd.replication;
  let n = 0;
  const log: DocumentLog = {
    append: async (w, o) => {
      await beforeAppend(w, ++n);
      return real.append(w, o);
    },
    get connected() {
      return real.connected;
    },
    get quorate() {
      return real.quorate;
    },
    get replicas() {
      return real.replicas;
    },
    get maxPayload() {
      return real.maxPayload;
    },
  };
  return new DocumentStore({
    node: 'pve1',
    mirror: cd.configd.store.mirror,
    log,
    validator: new FwLangValidator(),
    maxDocumentBytes: 1024 * 1024,
    applyWaitMs: 2000,
    readWaitMs: 5000,
    logger: SILENT_LOGGER,
  });
}

const content = async (path: string): Promise<string | undefined> => {
  try {
    return (await cd.call('get', { path })).document!.content.toString();
  } catch {
    return undefined;
  }
};

describe('import', () => {
  it('writes nothing when the third of three documents fails (a concurrent write to it)', async () => {
    const before = { a: await content('firewall/100.fw'), b: await content('firewall/101.fw'), c: await content('firewall/102.fw') };
    const store = storeWithHook(async (w, n) => {
      // Right before the import writes the third document, another client changes it.
      if (n === 3 && w.path === 'firewall/102.fw') await cd.call('put', { path: 'firewall/102.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 33\n') });
    });
    const docs = [100, 101, 102].map((vmid) => ({ path: `firewall/${vmid}.fw`, content: text(`[RULES]\nIN DROP -p tcp -dport ${vmid}\n`) }));
    const err = await store.import(docs, { message: 'three at once' }, { author: 'admin', deadlineMs: Date.now() + 20_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigdError);
    expect((err as ConfigdError).code).toBe('conflict');
    expect((err as ConfigdError).message).toMatch(/^import aborted, nothing was written: 'firewall\/102\.fw' \(3 of 3\) failed/);

    // Let the mirror take the abort record, then read through configd.
    await cd.call('put', { path: 'firewall/200.fw', content: text('[RULES]\n') });
    expect(await content('firewall/100.fw')).toBe(before.a);
    expect(await content('firewall/101.fw')).toBe(before.b);
    expect(await content('firewall/102.fw')).toBe('[RULES]\nIN ACCEPT -p tcp -dport 33\n');
    expect(before.b).toBeUndefined();
    // The staged revisions exist (the stream has them) but keep the previous content.
    const h = await cd.call('history', { path: 'firewall/100.fw', limit: 2 });
    expect(h.revisions[0]!.meta!.message).toMatch(/^import \S+ aborted: the content of revision \d+ stays$/);

    // A second mirror built from the same stream decides the same.
    const dir = mkdtempSync(join(tmpdir(), 'palisade-mirror2-'));
    const mirror = LmdbMirror.open({ path: dir, historyDepth: 64, maxLogRevisions: 10_000, logger: SILENT_LOGGER });
    const log = new JetStreamLog({ servers: nats.urls, bucket: BUCKET, replicas: 1, history: 64, node: 'pve2', writeTimeoutMs: 1500, writeDeadlineMs: 5000, probeIntervalMs: 500, logger: SILENT_LOGGER });
    try {
      log.start(mirror);
      await log.whenReady(20_000);
      expect(await mirror.waitForRevision(cd.configd.store.mirror.revision, 20_000)).toBe(true);
      for (const path of ['firewall/100.fw', 'firewall/101.fw', 'firewall/102.fw']) {
        expect(mirror.getCurrent(path)?.digest, path).toBe(cd.configd.store.mirror.getCurrent(path)?.digest);
      }
    } finally {
      await log.close();
      await mirror.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('aborts at its deadline a batch whose importer vanished before the commit', async () => {
    const log = cd.configd.replication;
    const mirror = cd.configd.store.mirror;
    const batch = (index: number) => ({ id: 'vanished', index, count: 3, deadlineMs: Date.now() + 400 });
    const a = await log.append({ path: 'firewall/300.fw', op: 'put', content: text('[RULES]\n# staged\n'), author: 't', message: '', batch: batch(1) });
    await log.append({ path: 'firewall/301.fw', op: 'put', content: text('[RULES]\n# staged\n'), author: 't', message: '', batch: batch(2) });
    // Held: the mirror does not pass the batch's first record while it is open.
    await new Promise((r) => setTimeout(r, 200));
    expect(mirror.revision).toBeLessThan(a.revision);
    await new Promise((r) => setTimeout(r, 400));
    const after = await cd.call('put', { path: 'firewall/302.fw', content: text('[RULES]\n') });
    expect(await mirror.waitForRevision(after.meta!.revision, 5000)).toBe(true);
    expect(mirror.batchOutcome('vanished')).toBe('aborted');
    expect(mirror.getCurrent('firewall/300.fw')).toBeUndefined();
    expect(mirror.getCurrent('firewall/301.fw')).toBeUndefined();
    expect(mirror.getCurrent('firewall/302.fw')).toBeDefined();
  });

  it('writes every changed document in one batch and names them; unchanged ones are skipped', async () => {
    const r = await cd.call('import', {
      documents: [
        { path: 'firewall/400.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 4\n') },
        { path: 'firewall/401.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 5\n') },
        { path: 'firewall/302.fw', content: text('[RULES]\n') },
      ],
      message: 'tree',
    });
    expect(r.written.map((m) => m.path).sort()).toEqual(['firewall/400.fw', 'firewall/401.fw']);
    expect(r.unchanged).toEqual(['firewall/302.fw']);
    for (const m of r.written) expect((await cd.call('get', { path: m.path })).document!.meta!.revision).toBe(m.revision);
  });

  it('bounds the message', async () => {
    const err = await rejects(cd.call('import', { documents: [{ path: 'firewall/500.fw', content: text('[RULES]\n') }], message: 'm'.repeat(1025) }));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toMatch(/messages are limited to 1024 bytes/);
    expect((await rejects(cd.call('put', { path: 'firewall/500.fw', content: text('[RULES]\n'), message: 'm'.repeat(2000) }))).code).toBe('invalid-argument');
  });
});
