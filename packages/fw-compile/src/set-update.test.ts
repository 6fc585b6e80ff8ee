import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTree } from '@palisade/fw-lang';
import { describe, expect, it } from 'vitest';
import type { Chain, Rule, Ruleset, Table } from '@palisade/nft-ir';
import { compileNode } from './compile.js';
import { GOLDEN_DIR, loadScenario } from './test-trees.js';
import { diffSetElements, renderSetUpdate } from './set-update.js';

const BASE: Record<string, string> = {
  'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.0.0.1\n10.0.1.0/24\n\n[RULES]\nIN SSH(ACCEPT) -source +admins\n',
  'firewall/100.fw': '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 80\n',
  'nodes/pve1/qemu-server/100.conf': 'net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n',
};

function compile(files: Record<string, string>) {
  return compileNode(loadTree(new Map(Object.entries(files))), { node: 'pve1', hostAddresses: ['192.0.2.1/24'] }).ruleset;
}

describe('ipset-only changes', () => {
  it('are element updates, even though the rule lines below the set moved', () => {
    const before = compile(BASE);
    const after = compile({
      ...BASE,
      'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.0.0.1\n10.0.1.0/24\n10.9.9.9\n\n[RULES]\nIN SSH(ACCEPT) -source +admins\n',
    });
    const changes = diffSetElements(before, after);
    expect(changes?.map((c) => [c.set, c.removed.length, c.added.length])).toEqual([['PVEFW-0-admins-v4', 0, 1]]);
    expect(renderSetUpdate(changes ?? [])).toBe('add element inet palisade PVEFW-0-admins-v4 { 10.9.9.9 }\n');
  });

  it('turn into removals and additions when an entry is replaced', () => {
    const after = compile({
      ...BASE,
      'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.0.0.2\n10.0.1.0/24\n\n[RULES]\nIN SSH(ACCEPT) -source +admins\n',
    });
    const update = renderSetUpdate(diffSetElements(compile(BASE), after) ?? []);
    expect(update).toBe('delete element inet palisade PVEFW-0-admins-v4 { 10.0.0.1 }\nadd element inet palisade PVEFW-0-admins-v4 { 10.0.0.2 }\n');
  });

  it('give no change for the same configuration', () => {
    expect(diffSetElements(compile(BASE), compile(BASE))).toEqual([]);
  });

  it('are refused when a rule changed too', () => {
    const after = compile({ ...BASE, 'firewall/100.fw': '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 81\n' });
    expect(diffSetElements(compile(BASE), after)).toBeUndefined();
  });
});

describe('structural comparison', () => {
  // Every field of every match and statement in the golden rulesets, changed one at a time,
  // must make the change structural (the comparison is written out per kind for speed).
  it('sees a change of any field of any match or statement', () => {
    const mutate = (v: unknown): unknown =>
      typeof v === 'string'
        ? `${v}x`
        : typeof v === 'number'
          ? v + 1
          : typeof v === 'bigint'
            ? v + 1n
            : Array.isArray(v)
              ? [...(v as unknown[]), (v as unknown[])[0]]
              : Object.fromEntries(Object.entries(v as object).map(([k, x], i) => [k, i === 0 ? mutate(x) : x]));
    let checked = 0;
    for (const name of readdirSync(GOLDEN_DIR)) {
      const { compiled } = loadScenario(join(GOLDEN_DIR, name));
      const tables = compiled.ruleset.tables;
      tables.forEach((t, ti) =>
        t.chains.forEach((c, ci) =>
          c.rules.forEach((r, ri) => {
            for (const list of ['matches', 'stmts'] as const) {
              r[list].forEach((item, ii) => {
                for (const key of Object.keys(item)) {
                  const changed = { ...item, [key]: mutate((item as unknown as Record<string, unknown>)[key]) };
                  const rule: Rule = { ...r, [list]: r[list].map((x, k) => (k === ii ? changed : x)) };
                  const chain: Chain = { ...c, rules: c.rules.map((x, k) => (k === ri ? rule : x)) };
                  const table: Table = { ...t, chains: t.chains.map((x, k) => (k === ci ? chain : x)) };
                  const after: Ruleset = { tables: tables.map((x, k) => (k === ti ? table : x)) };
                  expect(diffSetElements(compiled.ruleset, after), `${name} ${c.name} #${ri} ${list}[${ii}].${key}`).toBeUndefined();
                  checked += 1;
                }
              });
            }
          }),
        ),
      );
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('ignores rule comments and origins, and set comments', () => {
    const before = compile(BASE);
    const after: Ruleset = {
      tables: before.tables.map((t) => ({
        ...t,
        sets: t.sets.map((s) => ({ ...s, comment: 'moved' })),
        chains: t.chains.map((c) => ({ ...c, rules: c.rules.map((r) => ({ ...r, comment: 'x:1', origin: { path: 'x', line: 1 } })) })),
      })),
    };
    expect(diffSetElements(before, after)).toEqual([]);
  });

  it('sees a changed chain name, base chain or rule count', () => {
    const before = compile(BASE);
    const inet = before.tables[0] as Table;
    const variants: Table[] = [
      { ...inet, chains: inet.chains.map((c, i) => (i === 0 ? { ...c, name: `${c.name}2` } : c)) },
      { ...inet, chains: inet.chains.map((c) => (c.base ? { ...c, base: { ...c.base, priority: c.base.priority + 1 } } : c)) },
      { ...inet, chains: inet.chains.map((c, i) => (i === 0 ? { ...c, rules: c.rules.slice(1) } : c)) },
    ];
    for (const v of variants) expect(diffSetElements(before, { tables: [v, ...before.tables.slice(1)] })).toBeUndefined();
  });
});
