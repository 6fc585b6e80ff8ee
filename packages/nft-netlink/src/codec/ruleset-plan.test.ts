import { describe, expect, it } from 'vitest';
import { compileNode, type Chain, type Ruleset, type Table } from '@palisade/fw-compile';
import { loadTree } from '@palisade/fw-lang';
import { NftObjMsg } from './nft-constants.js';
import { planRuleset } from './ruleset-plan.js';
import { PROBE_OWN_TABLES, PROBE_RULESET } from './test-probe.js';

const inet = PROBE_RULESET.tables[0] as Table;
const withInet = (f: (t: Table) => Table): Ruleset => ({ tables: [f(inet), ...PROBE_RULESET.tables.slice(1)] });
const kinds = (p: ReturnType<typeof planRuleset>): string[] => p.messages.map((m) => m.what.split(' ').slice(0, 2).join(' '));

describe('planRuleset', () => {
  it('first apply: a full replace of the own tables', () => {
    const p = planRuleset(undefined, PROBE_RULESET, PROBE_OWN_TABLES);
    expect(p).toMatchObject({ kind: 'full', reason: 'first apply' });
    expect(p.messages.slice(0, 4).map((m) => m.what)).toEqual(['add table inet palisade', 'delete table inet palisade', 'add table bridge palisade', 'delete table bridge palisade']);
  });

  it('the same ruleset: nothing to send', () => {
    expect(planRuleset(PROBE_RULESET, PROBE_RULESET, PROBE_OWN_TABLES)).toMatchObject({ kind: 'unchanged', messages: [] });
  });

  it('one set entry: only element messages', () => {
    const next = withInet((t) => ({ ...t, sets: t.sets.map((s) => (s.name === 's4' ? { ...s, elements: [...s.elements.slice(1), { family: 4, from: 0x0a000009n, to: 0x0a000009n }] } : s)) }));
    const p = planRuleset(PROBE_RULESET, next, PROBE_OWN_TABLES);
    expect(p.kind).toBe('incremental');
    expect(p.messages.map((m) => m.msg)).toEqual([NftObjMsg.DELSETELEM, NftObjMsg.NEWSETELEM]);
    expect(p.summary).toMatchObject({ setsChanged: ['inet palisade s4'], chainsChanged: [], rules: 0 });
  });

  it('the same chains and sets in another order (nothing at its old position): nothing to send', () => {
    const next = withInet((t) => ({ ...t, chains: [...t.chains].reverse().map((c) => ({ ...c })), sets: [...t.sets].reverse() }));
    expect(inet.chains.length).toBeGreaterThan(2);
    expect(planRuleset(PROBE_RULESET, next, PROBE_OWN_TABLES)).toMatchObject({ kind: 'unchanged', messages: [] });
  });

  it('one rule changed: that chain is flushed and refilled, nothing else', () => {
    const next = withInet((t) => ({ ...t, chains: t.chains.map((c): Chain => (c.name === 'INPUT' ? { ...c, rules: [...c.rules, { matches: [], stmts: [{ kind: 'accept' }] }] } : c)) }));
    const p = planRuleset(PROBE_RULESET, next, PROBE_OWN_TABLES);
    expect(kinds(p)).toEqual(['flush chain', 'add rule', 'add rule']);
    expect(p.summary).toMatchObject({ chainsChanged: ['inet palisade INPUT'], rules: 2 });
  });

  it('chains and sets added and removed; removals after the flushes that drop their references', () => {
    const next = withInet((t) => ({
      ...t,
      sets: [...t.sets.filter((s) => s.name !== 's6'), { name: 'n4', family: 4, kind: 'interval', elements: [{ family: 4, from: 1n, to: 1n }] }],
      chains: [...t.chains.filter((c) => c.name !== 'c2').map((c) => ({ ...c, rules: c.rules.filter((r) => !r.stmts.some((s) => (s.kind === 'jump' || s.kind === 'goto') && s.target === 'c2') && !r.stmts.some((s) => s.kind === 'vmap')) })), { name: 'c3', rules: [{ matches: [], stmts: [{ kind: 'drop' }] }] }],
    }));
    const p = planRuleset(PROBE_RULESET, next, PROBE_OWN_TABLES);
    expect(p.kind).toBe('incremental');
    const w = p.messages.map((m) => m.what);
    expect(w[0]).toBe('add chain inet palisade c3');
    expect(w.slice(-2)).toEqual(['delete chain inet palisade c2', 'delete set inet palisade s6']);
    expect(w.indexOf('flush chain inet palisade c2')).toBeLessThan(w.indexOf('delete chain inet palisade c2'));
    expect(p.summary).toMatchObject({ chainsAdded: ['inet palisade c3'], chainsRemoved: ['inet palisade c2'], setsAdded: ['inet palisade n4'], setsRemoved: ['inet palisade s6'] });
  });

  it('a hook or priority change, or a set redeclared: full replace, saying why', () => {
    const hook = withInet((t) => ({ ...t, chains: t.chains.map((c) => (c.name === 'INPUT' ? { ...c, base: { hook: 'input' as const, priority: 10, policy: 'drop' as const } } : c)) }));
    expect(planRuleset(PROBE_RULESET, hook, PROBE_OWN_TABLES)).toMatchObject({ kind: 'full', reason: expect.stringMatching(/INPUT changed its hook or priority/) as unknown });
    const policy = withInet((t) => ({ ...t, chains: t.chains.map((c) => (c.name === 'INPUT' ? { ...c, base: { hook: 'input' as const, priority: 0, policy: 'accept' as const } } : c)) }));
    expect(kinds(planRuleset(PROBE_RULESET, policy, PROBE_OWN_TABLES))).toEqual(['add chain']);
    const set = withInet((t) => ({ ...t, sets: t.sets.map((s) => (s.name === 's4' ? { ...s, comment: 'other' } : s)) }));
    expect(planRuleset(PROBE_RULESET, set, PROBE_OWN_TABLES)).toMatchObject({ kind: 'full' });
  });

  it('a shared port set: added before the rules that look it up (by set ID), removed after the flushes', () => {
    const shared = (rules: Chain['rules']): Chain['rules'] => [...rules, { matches: [{ kind: 'port', proto: 'udp', field: 'dport', op: 'eq', ranges: [[2001, 2001], [3001, 3001]], set: 'ports_2001_3001' }], stmts: [{ kind: 'accept' }] }];
    const next = withInet((t) => ({ ...t, valueSets: [{ name: 'ports_2001_3001', type: 'inet_service', ranges: [[2001, 2001], [3001, 3001]] }], chains: t.chains.map((c) => (c.name === 'INPUT' ? { ...c, rules: shared(c.rules) } : c)) }));
    const p = planRuleset(PROBE_RULESET, next, PROBE_OWN_TABLES);
    const w = p.messages.map((m) => m.what);
    expect(w.slice(0, 2)).toEqual(['add set inet palisade ports_2001_3001', 'add elements to set inet palisade ports_2001_3001']);
    expect(p.summary).toMatchObject({ setsAdded: ['inet palisade ports_2001_3001'], chainsChanged: ['inet palisade INPUT'] });
    expect(planRuleset(next, next, PROBE_OWN_TABLES).kind).toBe('unchanged');
    const back = planRuleset(next, PROBE_RULESET, PROBE_OWN_TABLES);
    const b = back.messages.map((m) => m.what);
    expect(b.at(-1)).toBe('delete set inet palisade ports_2001_3001');
    expect(b.indexOf('flush chain inet palisade INPUT')).toBeLessThan(b.length - 1);
    // the same name with other content cannot be changed in place
    const other = withInet((t) => ({ ...t, valueSets: [{ name: 'ports_2001_3001', type: 'inet_service', ranges: [[2001, 2001]] }] }));
    expect(planRuleset(next, other, PROBE_OWN_TABLES)).toMatchObject({ kind: 'full', reason: expect.stringMatching(/ports_2001_3001 changed its content/) as unknown });
  });

  it('an IP set entry inserted above the rules: only that set changes, no chain is rewritten (comments name rules by id, not line)', () => {
    const compile = (extra: string[]) =>
      compileNode(
        loadTree(
          new Map([
            ['firewall/cluster.fw', ['[OPTIONS]', 'enable: 1', '', '[IPSET office]', '192.0.2.0/24', ...extra, '', '[group web]', 'IN HTTP(ACCEPT) -log info', '', '[RULES]', 'IN SSH(ACCEPT) -source +office', 'GROUP web', ''].join('\n')],
            ['nodes/n1/host.fw', '[OPTIONS]\nenable: 1\n'],
          ]),
        ),
        { node: 'n1', hostAddresses: ['192.0.2.11/24'], nowSeconds: 0 },
      );
    const a = compile([]);
    const b = compile(['198.51.100.7', '198.51.100.9']);
    const ssh = (c: typeof a) => c.ruleset.tables.flatMap((t) => t.chains.flatMap((ch) => ch.rules)).find((r) => r.origin?.text?.startsWith('IN SSH'));
    expect(ssh(b)?.origin?.line).toBe((ssh(a)?.origin?.line ?? 0) + 2); // the line moved
    expect(ssh(b)?.comment).toBe(ssh(a)?.comment);
    const p = planRuleset(a.ruleset, b.ruleset, b.ownTables);
    expect(p.summary).toMatchObject({ chainsChanged: [], chainsAdded: [], setsChanged: [expect.stringMatching(/office/) as unknown], rules: 0 });
    expect(p.messages.map((m) => m.msg)).toEqual([NftObjMsg.NEWSETELEM]);
  });

  it('objects shared with the applied ruleset (an incremental compile keeps them) are skipped without a walk', () => {
    const sets = inet.sets.map((x) => ({ ...x, elements: x.elements }));
    // same element arrays: even an element list that could not be compared is never read
    const poisoned = sets.map((x) => ({ ...x, elements: new Proxy(x.elements, { get: () => { throw new TypeError('elements read'); } }) }));
    const before: Ruleset = withInet((t) => ({ ...t, sets: poisoned }));
    const after: Ruleset = { tables: before.tables.map((t) => ({ ...t })) };
    expect(planRuleset(before, after, PROBE_OWN_TABLES).kind).toBe('unchanged');
  });
});
