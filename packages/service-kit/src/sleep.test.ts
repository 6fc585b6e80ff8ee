import { describe, expect, it } from 'vitest';
import { sleep } from './index.js';

describe('sleep', () => {
  it('resolves after the time, or at once when aborted (also when aborted before)', async () => {
    const start = performance.now();
    await sleep(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
    const ac = new AbortController();
    const waiting = sleep(60_000, ac.signal);
    ac.abort();
    await waiting;
    await sleep(60_000, AbortSignal.abort());
  });
});
