/**
 * The difference between two element lists of an interval set, for the planner (issue #9).
 * Identical lists (the same array, as an incremental compile keeps an unchanged set's) cost
 * nothing; equal lists cost one walk without allocating; changed lists are merged in one pass,
 * as the compiler emits them sorted by start address and disjoint. Lists that are not sorted
 * (never from the compiler) are diffed by key instead, so the result is right for any input.
 * Pure.
 */
import type { AddrInterval } from '@palisade/nft-ir';

/** What changes between two element lists: intervals to delete, then intervals to add. */
export interface IntervalDiff {
  readonly removed: readonly AddrInterval[];
  readonly added: readonly AddrInterval[];
}

const same = (x: AddrInterval, y: AddrInterval): boolean => x.from === y.from && x.to === y.to && x.family === y.family;

/** Whether `a` and `b` hold the same intervals in the same order. */
export function sameIntervals(a: readonly AddrInterval[], b: readonly AddrInterval[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i] as AddrInterval, b[i] as AddrInterval)) return false;
  return true;
}

const sorted = (xs: readonly AddrInterval[]): boolean => {
  for (let i = 1; i < xs.length; i++) {
    const p = xs[i - 1] as AddrInterval;
    const x = xs[i] as AddrInterval;
    if (p.family !== x.family || p.from >= x.from) return false;
  }
  return true;
};

function diffByKey(before: readonly AddrInterval[], after: readonly AddrInterval[]): IntervalDiff {
  const key = (iv: AddrInterval): string => `${iv.family}:${iv.from}-${iv.to}`;
  const b = new Set(before.map(key));
  const a = new Set(after.map(key));
  return { removed: before.filter((iv) => !a.has(key(iv))), added: after.filter((iv) => !b.has(key(iv))) };
}

/**
 * The intervals of `before` that `after` does not hold exactly (same start and end) and those of
 * `after` that `before` does not; undefined when the lists are the same.
 */
export function diffIntervals(before: readonly AddrInterval[], after: readonly AddrInterval[]): IntervalDiff | undefined {
  if (sameIntervals(before, after)) return undefined;
  if (!sorted(before) || !sorted(after)) {
    const d = diffByKey(before, after);
    return d.removed.length === 0 && d.added.length === 0 ? undefined : d;
  }
  const removed: AddrInterval[] = [];
  const added: AddrInterval[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length && j < after.length) {
    const x = before[i] as AddrInterval;
    const y = after[j] as AddrInterval;
    if (x.from === y.from) {
      if (x.to !== y.to) {
        removed.push(x);
        added.push(y);
      }
      i++;
      j++;
    } else if (x.from < y.from) {
      removed.push(x);
      i++;
    } else {
      added.push(y);
      j++;
    }
  }
  for (; i < before.length; i++) removed.push(before[i] as AddrInterval);
  for (; j < after.length; j++) added.push(after[j] as AddrInterval);
  return removed.length === 0 && added.length === 0 ? undefined : { removed, added };
}
