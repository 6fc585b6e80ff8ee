import { describe, expect, it } from 'vitest';
import type { AddrInterval } from '@palisade/fw-compile';
import { diffIntervals, sameIntervals } from './interval-diff.js';

/** Deterministic pseudo-random numbers (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Sorted disjoint intervals over a small space, so that random lists overlap a lot. */
function randomList(r: () => number, family: 4 | 6): AddrInterval[] {
  const out: AddrInterval[] = [];
  let at = 0n;
  while (out.length < 40 && r() < 0.97) {
    at += BigInt(1 + Math.floor(r() * 3));
    const from = at;
    at += BigInt(Math.floor(r() * 3));
    out.push({ family, from, to: at });
    at += 1n;
  }
  return out;
}

const key = (iv: AddrInterval): string => `${iv.family}:${iv.from}-${iv.to}`;
/** What a set holds after deleting `removed` from `before` and adding `added`, as keys. */
const applied = (before: readonly AddrInterval[], d: { removed: readonly AddrInterval[]; added: readonly AddrInterval[] }): string[] => {
  const gone = new Set(d.removed.map(key));
  return [...before.filter((iv) => !gone.has(key(iv))).map(key), ...d.added.map(key)].sort();
};

describe('diffIntervals', () => {
  it('the same array or equal lists: nothing to change', () => {
    const a: AddrInterval[] = [{ family: 4, from: 1n, to: 2n }, { family: 4, from: 5n, to: 5n }];
    expect(diffIntervals(a, a)).toBeUndefined();
    expect(diffIntervals(a, a.map((iv) => ({ ...iv })))).toBeUndefined();
    expect(sameIntervals([], [])).toBe(true);
  });

  it('an interval whose end moved is deleted and added again (the kernel keys intervals by both ends)', () => {
    const before: AddrInterval[] = [{ family: 4, from: 10n, to: 20n }];
    const after: AddrInterval[] = [{ family: 4, from: 10n, to: 25n }];
    expect(diffIntervals(before, after)).toEqual({ removed: before, added: after });
  });

  it('for random sorted lists: deleting and adding the diff turns one list into the other, and touches nothing both hold', () => {
    const r = rng(9);
    for (let round = 0; round < 500; round++) {
      const family = round % 2 === 0 ? 4 : 6;
      const before = randomList(r, family);
      const after = randomList(r, family);
      const d = diffIntervals(before, after) ?? { removed: [], added: [] };
      expect(applied(before, d)).toEqual(after.map(key).sort());
      const both = new Set(before.map(key).filter((k) => after.some((iv) => key(iv) === k)));
      expect([...d.removed, ...d.added].filter((iv) => both.has(key(iv)))).toEqual([]);
    }
  });

  it('unsorted input (never from the compiler) is still diffed right', () => {
    const before: AddrInterval[] = [{ family: 4, from: 9n, to: 9n }, { family: 4, from: 1n, to: 1n }];
    const after: AddrInterval[] = [{ family: 4, from: 1n, to: 1n }, { family: 4, from: 3n, to: 3n }];
    expect(diffIntervals(before, after)).toEqual({ removed: [before[0]], added: [after[1]] });
    expect(diffIntervals(before, [...before].reverse())).toBeUndefined();
  });
});
