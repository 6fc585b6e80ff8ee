import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { describe, expect, it } from 'vitest';
import { sha256Hex, type LogRecord } from '../log-record.js';
import { LmdbMirror } from './lmdb-mirror.js';
import { watchMirror } from './watch.js';

function record(revision: number): LogRecord {
  const content = new TextEncoder().encode(`net0: virtio=02:00:00:00:00:01,bridge=vmbr0 # ${revision}\n`);
  return { revision, path: `nodes/pve1/qemu-server/${1000 + revision}.conf`, op: 'put', digest: sha256Hex(content), author: 't', timeMs: 0, message: '', writerNode: 'pve1', size: content.length, content };
}

describe('watchMirror', () => {
  it('delivers every change of a burst larger than one log read (an agent must not miss guests of a big import)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-watch-'));
    const mirror = LmdbMirror.open({ path: dir, historyDepth: 64, maxLogRevisions: 10_000, logger: SILENT_LOGGER });
    const ac = new AbortController();
    try {
      await mirror.apply(Array.from({ length: 1000 }, (_, i) => record(i + 1)));
      const seen: number[] = [];
      for await (const ev of watchMirror(mirror, { prefixes: ['nodes/pve1/'], startRevision: 1, progressIntervalMs: 50 }, ac.signal)) {
        if (ev.type === 'progress') break;
        if ('record' in ev) seen.push(ev.record.revision);
      }
      expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    } finally {
      ac.abort();
      await mirror.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
