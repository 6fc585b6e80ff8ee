import { describe, expect, it } from 'vitest';
import { QuorumVerdict } from './quorum.js';

describe('QuorumVerdict', () => {
  it('a single-replica stream never loses its quorum to failed probes', () => {
    const v = new QuorumVerdict(true);
    for (let i = 0; i < 10; i++) expect(v.failed({ elapsedMs: 750, timeoutMs: 750, replicas: 1 })).toBe(true);
  });

  it('a probe delayed by an event-loop stall is ignored', () => {
    const v = new QuorumVerdict(true);
    for (let i = 0; i < 10; i++) expect(v.failed({ elapsedMs: 3000, timeoutMs: 750, replicas: 3 })).toBe(true);
    expect(v.consecutiveFailures).toBe(0);
  });

  it('three failures in a row of a replicated stream are a loss; an answer decides at once', () => {
    const v = new QuorumVerdict(true);
    expect(v.failed({ elapsedMs: 760, timeoutMs: 750, replicas: 3 })).toBe(true);
    expect(v.failed({ elapsedMs: 5, timeoutMs: 750, replicas: 3 })).toBe(true);
    expect(v.failed({ elapsedMs: 760, timeoutMs: 750, replicas: 3 })).toBe(false);
    expect(v.answered(true)).toBe(true);
    expect(v.consecutiveFailures).toBe(0);
    expect(v.answered(false)).toBe(false);
  });
});
