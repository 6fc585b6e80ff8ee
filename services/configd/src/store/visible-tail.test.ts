import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigdError } from '../errors.js';
import { sha256Hex, type LogRecord } from '../log-record.js';
import { DocumentStore, type DocumentLog } from './document-store.js';
import { NO_VALIDATION } from './document-validator.js';
import { LmdbMirror } from './lmdb-mirror.js';
import { watchMirror, type WatchEvent } from './watch.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function openMirror(): LmdbMirror {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-tail-'));
  dirs.push(dir);
  return LmdbMirror.open({ path: dir, historyDepth: 64, maxLogRevisions: 10_000, logger: SILENT_LOGGER });
}

function put(revision: number, path = 'firewall/cluster.fw'): LogRecord {
  const content = new TextEncoder().encode(`[RULES]\nIN ACCEPT -p tcp -dport ${10_000 + revision}\n`);
  return { revision, path, op: 'put', digest: sha256Hex(content), author: 't', timeMs: 0, message: '', writerNode: 'pve1', size: content.length, content };
}

/** The store over `mirror` with a log that is never written to (the mirror is fed directly, as the follower does). */
function storeOver(mirror: LmdbMirror): DocumentStore {
  const log: DocumentLog = {
    append: () => Promise.reject(new ConfigdError('unavailable', 'no log in this test')),
    connected: true,
    quorate: true,
    replicas: 1,
    maxPayload: 1 << 20,
  };
  return new DocumentStore({ node: 'pve1', mirror, log, validator: NO_VALIDATION, maxDocumentBytes: 1 << 20, applyWaitMs: 10_000, readWaitMs: 10_000, logger: SILENT_LOGGER });
}

/** Pulls the next put/delete of a watch, skipping progress. */
async function nextChange(it: AsyncGenerator<WatchEvent>): Promise<LogRecord> {
  for (;;) {
    const next: IteratorResult<WatchEvent> = await it.next();
    if (next.done === true) throw new ConfigdError('internal', 'watch ended');
    const ev = next.value;
    if (ev.type === 'put' || ev.type === 'delete') return ev.record;
  }
}

describe('watchers fed before the LMDB commit', () => {
  it('sends a revision before its commit, and a read of the same configd right after the event returns it', async () => {
    const mirror = openMirror();
    const store = storeOver(mirror);
    const ac = new AbortController();
    const watch = store.watch({ prefixes: ['firewall/'], startRevision: 1, progressIntervalMs: 1000 }, ac.signal);
    let beforeCommit = 0;
    try {
      for (let rev = 1; rev <= 20; rev++) {
        const committed = mirror.apply([put(rev)]);
        const seen = await nextChange(watch);
        expect(seen.revision).toBe(rev);
        if (mirror.revision < rev) beforeCommit++;
        // Read-your-watch: the read waits for the commit the watcher ran ahead of.
        const read = await store.get('firewall/cluster.fw');
        expect(read.record.revision).toBe(rev);
        expect(read.record.digest).toBe(seen.digest);
        expect((await store.list('firewall/')).records.map((r) => r.revision)).toEqual([rev]);
        await committed;
      }
      // Fed from the plan, not the commit: most events arrive while LMDB is still committing.
      expect(beforeCommit).toBeGreaterThan(0);
    } finally {
      ac.abort();
      await watch.return(undefined);
      await mirror.close();
    }
  });

  it('passes revisions consumed without a record in an uncommitted batch without reporting a gap, in order, once', async () => {
    const mirror = openMirror();
    const ac = new AbortController();
    const watch = watchMirror(mirror, { prefixes: [''], startRevision: 1, progressIntervalMs: 1000 }, ac.signal);
    try {
      const bad = { ...put(2), path: '/not/a/document' };
      const committed = mirror.apply([put(1, 'firewall/100.fw'), bad, put(3, 'firewall/101.fw')]);
      expect((await nextChange(watch)).revision).toBe(1);
      expect((await nextChange(watch)).revision).toBe(3);
      await committed;
      const more = mirror.apply([put(4, 'firewall/100.fw')]);
      expect((await nextChange(watch)).revision).toBe(4);
      await more;
    } finally {
      ac.abort();
      await watch.return(undefined);
      await mirror.close();
    }
  });

  it('a write waits for the pending revision of its own document, so a CAS on a digest a watcher saw holds', async () => {
    const mirror = openMirror();
    const store = storeOver(mirror);
    const ac = new AbortController();
    const watch = store.watch({ prefixes: ['firewall/'], startRevision: 1, progressIntervalMs: 1000 }, ac.signal);
    try {
      await mirror.apply([put(1)]);
      await nextChange(watch);
      const committed = mirror.apply([put(2)]);
      const seen = await nextChange(watch);
      // The log refuses every append: reaching it (unavailable) means the digest check passed.
      const write = store.put({ path: 'firewall/cluster.fw', content: new TextEncoder().encode('[RULES]\n'), expectedDigest: seen.digest }, { author: 't' });
      await expect(write).rejects.toMatchObject({ code: 'unavailable' });
      await committed;
    } finally {
      ac.abort();
      await watch.return(undefined);
      await mirror.close();
    }
  });
});
