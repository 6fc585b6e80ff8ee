import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../log-record.js';
import { LmdbMirror } from './lmdb-mirror.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function record(revision: number): LogRecord {
  const content = new TextEncoder().encode(`# ${revision}\n`);
  return { revision, path: `firewall/${100 + (revision % 3)}.fw`, op: 'put', digest: 'x', author: 't', timeMs: 0, message: '', writerNode: 'pve1', size: content.length, content };
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
