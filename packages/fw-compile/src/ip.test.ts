import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidrInterval, flattenLongestPrefix, formatInterval, parseCidr, type Cidr } from './ip.js';

const c = (t: string): Cidr => parseCidr(t) as Cidr;

/** Reference semantics by brute force: the most specific covering entry decides. */
function member(entries: { cidr: Cidr; nomatch: boolean }[], a: bigint): boolean {
  let best: { prefix: number; nomatch: boolean } | undefined;
  for (const e of entries) {
    const iv = cidrInterval(e.cidr);
    if (iv.from <= a && a <= iv.to && (!best || e.cidr.prefix > best.prefix || (e.cidr.prefix === best.prefix && e.nomatch))) best = { prefix: e.cidr.prefix, nomatch: e.nomatch };
  }
  return best !== undefined && !best.nomatch;
}

describe('flattenLongestPrefix', () => {
  it('implements hash:net nomatch semantics (design example)', () => {
    const r = flattenLongestPrefix(
      [
        { cidr: c('10.0.0.0/8'), nomatch: false },
        { cidr: c('10.1.0.0/16'), nomatch: true },
        { cidr: c('10.1.2.0/24'), nomatch: false },
      ],
      4,
    );
    expect(r.map(formatInterval)).toEqual(['10.0.0.0/16', '10.1.2.0/24', '10.2.0.0-10.255.255.255']);
  });
  it('agrees with brute force on random nested sets', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 24, max: 32 }), nomatch: fc.boolean() }), { maxLength: 12 }), fc.integer({ min: 0, max: 255 }), (raw, probe) => {
        const entries = raw.map((r) => ({ cidr: c(`10.0.0.${r.a}/${r.len}`), nomatch: r.nomatch }));
        const ivs = flattenLongestPrefix(entries, 4);
        const a = (10n << 24n) | BigInt(probe);
        const inSet = ivs.some((iv) => iv.from <= a && a <= iv.to);
        expect(inSet).toBe(member(entries, a));
      }),
      { numRuns: 500 },
    );
  });
});
