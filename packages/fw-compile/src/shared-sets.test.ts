import { describe, expect, it } from 'vitest';
import { chainFingerprint, type Chain, type Match, type Rule, type Table } from '@palisade/nft-ir';
import { renderNftText } from './nft-text.js';
import { shareRepeatedSets } from './shared-sets.js';

const ports = (ranges: [number, number][], op: 'eq' | 'ne' = 'eq'): Match => ({ kind: 'port', proto: 'udp', field: 'dport', op, ranges });
const nd: Match = { kind: 'icmp', family: 6, types: [133, 135, 136] };
const rule = (...matches: Match[]): Rule => ({ matches, stmts: [{ kind: 'accept' }] });
const table = (chains: Chain[]): Table => ({ family: 'inet', name: 't', sets: [], ctHelpers: [], chains });

describe('shareRepeatedSets', () => {
  it('a list used by two or more rules becomes one named set; a list used once stays anonymous', () => {
    const t = table([
      { name: 'a', rules: [rule(ports([[2001, 2001], [3001, 3001]])), rule(nd), rule(ports([[7, 7], [9, 9]]))] },
      { name: 'b', rules: [rule(ports([[2001, 2001], [3001, 3001]], 'ne')), rule(nd), rule(ports([[80, 80]]))] },
    ]);
    const shared = shareRepeatedSets(t);
    expect(shared.valueSets).toEqual([
      { name: 'icmpv6-types_133_135_136', type: 'icmpv6_type', ranges: [[133, 133], [135, 135], [136, 136]] },
      { name: 'ports_2001_3001', type: 'inet_service', ranges: [[2001, 2001], [3001, 3001]] },
    ]);
    const text = renderNftText({ tables: [shared] }, []);
    expect(text).toContain('udp dport @ports_2001_3001 accept');
    expect(text).toContain('udp dport != @ports_2001_3001 accept');
    expect(text).toContain('icmpv6 type @icmpv6-types_133_135_136 accept');
    expect(text).toContain('udp dport { 7, 9 } accept');
    expect(text).toContain('udp dport 80 accept');
    // the matches keep their values (the simulator reads them)
    expect(shared.chains[0]?.rules[0]?.matches[0]).toMatchObject({ ranges: [[2001, 2001], [3001, 3001]], set: 'ports_2001_3001' });
  });

  it('a range makes an interval set; a long list is named by a hash of its content; nothing repeated: the same table', () => {
    const long: [number, number][] = Array.from({ length: 20 }, (_, i) => [1000 + i * 10, 1000 + i * 10 + (i % 2)]);
    const t = table([{ name: 'a', rules: [rule(ports([[22, 22], [5900, 5999]])), rule(ports([[22, 22], [5900, 5999]])), rule(ports(long)), rule(ports(long))] }]);
    const shared = shareRepeatedSets(t);
    expect(shared.valueSets?.map((s) => s.name)).toEqual(['ports_22_5900-5999', expect.stringMatching(/^ports_h[0-9a-f]+$/) as unknown]);
    expect(renderNftText({ tables: [shared] }, [])).toMatch(/set ports_22_5900-5999 \{\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = \{ 22, 5900-5999 \}/);
    const once = table([{ name: 'a', rules: [rule(ports([[1, 1], [2, 2]]))] }]);
    expect(shareRepeatedSets(once)).toBe(once);
  });
});

describe('chainFingerprint', () => {
  it('changes with any rule field, not with the origin; cached per chain object', () => {
    const c: Chain = { name: 'a', rules: [{ ...rule(ports([[1, 1]])), origin: { path: 'x.fw', line: 1 } }] };
    const f = chainFingerprint(c);
    expect(chainFingerprint({ ...c, rules: [{ ...rule(ports([[1, 1]])), origin: { path: 'y.fw', line: 9 } }] })).toBe(f);
    expect(chainFingerprint({ ...c, rules: [rule(ports([[1, 2]]))] })).not.toBe(f);
    expect(chainFingerprint({ ...c, rules: [{ ...rule(ports([[1, 1]])), comment: 'c' }] })).not.toBe(f);
    expect(chainFingerprint({ ...c, rules: [rule({ ...(ports([[1, 1]]) as Extract<Match, { kind: 'port' }>), set: 's' })] })).not.toBe(f);
    expect(chainFingerprint({ ...c, name: 'b' })).not.toBe(f);
    expect(chainFingerprint({ name: 'a', rules: [rule({ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [{ family: 4, from: 1n, to: 2n }] } })] })).not.toBe(
      chainFingerprint({ name: 'a', rules: [rule({ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [{ family: 4, from: 1n, to: 3n }] } })] }),
    );
  });
});
