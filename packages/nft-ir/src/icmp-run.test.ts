import { describe, expect, it } from 'vitest';
import { icmpRun } from './icmp-run.js';

describe('icmpRun', () => {
  it('finds a sorted run of two or more consecutive types', () => {
    expect(icmpRun([3, 4, 5])).toEqual([3, 5]);
    expect(icmpRun([128, 129])).toEqual([128, 129]);
  });

  it('is undefined for one type, a gap or an unsorted list', () => {
    expect(icmpRun([8])).toBeUndefined();
    expect(icmpRun([])).toBeUndefined();
    expect(icmpRun([0, 8])).toBeUndefined();
    expect(icmpRun([5, 4])).toBeUndefined();
  });
});
