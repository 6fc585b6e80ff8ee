import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex, type LogRecord } from '../log-record.js';
import { LmdbMirror } from './lmdb-mirror.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function record(revision: number): LogRecord {
  const content = new TextEncoder().encode(`# ${revision}\n`);
  return { revision, path: `firewall/${100 + (revision % 3)}.fw`, op: 'put', digest: sha256Hex(content), author: 't', timeMs: 0, message: '', writerNode: 'pve1', size: content.length, content };
}

describe('LmdbMirror.apply', () => {
  it('waits for room in a full queue (back-pressure) and commits every record in order, dropping none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-mirror-'));
    dirs.push(dir);
    const mirror = LmdbMirror.open({ path: dir, historyDepth: 64, maxLogRevisions: 1000, maxQueuedRecords: 2, logger: SILENT_LOGGER });
    try {
      const batches = [1, 2, 3].map((b) => Array.from({ length: 5 }, (_, i) => record((b - 1) * 5 + i + 1)));
      await Promise.all(batches.map((b) => mirror.apply(b)));
      expect(mirror.revision).toBe(15);
      expect(mirror.readLog(1, 100).map((r) => r.revision)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(mirror.queueStats).toMatchObject({ pending: 0, accepted: 15, dropped: 0 });
      await mirror.apply([record(3), record(16)]);
      expect(mirror.revision).toBe(16);
    } finally {
      await mirror.close();
    }
  });
});

describe('LmdbMirror accepts only what configd writes', () => {
  it('skips and counts records with a bad key, binary content or a wrong digest; the revision moves on without a gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-mirror-'));
    dirs.push(dir);
    const mirror = LmdbMirror.open({ path: dir, historyDepth: 64, maxLogRevisions: 1000, logger: SILENT_LOGGER });
    try {
      const put = (revision: number, path: string, content: Uint8Array, digest = sha256Hex(content)): LogRecord => ({
        revision, path, op: 'put', digest, author: 'nats', timeMs: 0, message: '', writerNode: '', size: content.length, content,
      });
      const ok = new TextEncoder().encode('[RULES]\n');
      const binary = Uint8Array.from([0x5b, 0x00, 0xff, 0x10]);
      await mirror.apply([
        put(1, 'firewall/100.fw', ok),
        put(2, '/abs/pwned', ok),
        put(3, 'firewall/979.fw', binary),
        put(4, 'firewall/cluster.fw', ok, sha256Hex(new TextEncoder().encode('something else'))),
        put(5, 'firewall/cluster.fw', ok, ''),
        put(6, 'firewall/101.fw', ok),
      ]);
      expect(mirror.revision).toBe(6);
      expect(mirror.list('').map((r) => r.path)).toEqual(['firewall/100.fw', 'firewall/101.fw']);
      expect(mirror.getCurrent('firewall/979.fw')).toBeUndefined();
      expect(mirror.readLog(1, 100).map((r) => r.revision)).toEqual([1, 6]);
      // No gap: a watch can still resume from revision 1.
      expect(mirror.oldestRevision).toBe(1);
      expect(Object.fromEntries(mirror.skippedRecords)).toEqual({ 'invalid-path': 1, 'binary-content': 1, 'digest-mismatch': 2 });
    } finally {
      await mirror.close();
    }
  });
});
