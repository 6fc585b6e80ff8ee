import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePorts, startInProcess } from './index.js';

describe('startInProcess', () => {
  it('owns the service and its temporary directory: stop() closes once and removes the directory', async () => {
    let closes = 0;
    const h = await startInProcess((dir) => Promise.resolve({ dir, close: () => Promise.resolve(void closes++) }));
    expect(existsSync(h.dataDir)).toBe(true);
    await Promise.all([h.stop(), h.stop()]);
    expect(closes).toBe(1);
    expect(existsSync(h.dataDir)).toBe(false);
  });

  it('removes the directory when the start fails', async () => {
    let seen = '';
    await expect(
      startInProcess((dir) => {
        seen = dir;
        return Promise.reject(new Error('no'));
      }),
    ).rejects.toThrow('no');
    expect(existsSync(seen)).toBe(false);
  });
});

describe('freePorts', () => {
  it('returns distinct ports', async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
  });
});
