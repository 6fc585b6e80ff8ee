import { describe, expect, it } from 'vitest';
import type { Chain } from '@palisade/nft-ir';
import { keptChain, sameIrValue } from './chain-identity.js';

describe('chain identity across compiles', () => {
  it('sameIrValue is exact: values, bigints, array lengths, key sets and key order', () => {
    expect(sameIrValue({ a: 1, b: [1n, 'x'] }, { a: 1, b: [1n, 'x'] })).toBe(true);
    expect(sameIrValue({ a: 1, b: [1n, 'x'] }, { a: 1, b: [2n, 'x'] })).toBe(false);
    expect(sameIrValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameIrValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameIrValue({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameIrValue([], {})).toBe(false);
    expect(sameIrValue(null, {})).toBe(false);
  });

  it('keeps the previous chain of the same name only when it is equal, origins included', () => {
    const rule = { matches: [], stmts: [{ kind: 'accept' as const }], origin: { path: 'firewall/100.fw', line: 3 } };
    const old: Chain = { name: 'c', rules: [rule] };
    const previous = new Map([['c', old]]);
    expect(keptChain(previous, { name: 'c', rules: [{ ...rule, origin: { ...rule.origin } }] })).toBe(old);
    const moved: Chain = { name: 'c', rules: [{ ...rule, origin: { ...rule.origin, line: 4 } }] };
    expect(keptChain(previous, moved)).toBe(moved);
    const other: Chain = { name: 'd', rules: [rule] };
    expect(keptChain(previous, other)).toBe(other);
    expect(keptChain(undefined, other)).toBe(other);
  });
});
