/**
 * Ipset-only changes: when two compiled rulesets differ only in the elements of their
 * interval sets, the change can be applied as element updates (one small transaction)
 * instead of replacing the tables. Set elements are disjoint intervals exactly as the
 * compiler emitted them (no auto-merge), so deleting an old interval by its exact bounds works.
 */
import { formatInterval, type AddrInterval } from './ip.js';
import type { NamedSet, Ruleset, Table } from './ir.js';
import { renderTableBody } from './nft-text.js';

export interface SetElementChange {
  readonly family: string;
  readonly table: string;
  readonly set: string;
  readonly removed: readonly AddrInterval[];
  readonly added: readonly AddrInterval[];
}

const ivKey = (iv: AddrInterval): string => `${iv.family}:${iv.from.toString(16)}-${iv.to.toString(16)}`;

/** The table without set elements and rule comments (comments carry source lines, which shift). */
function withoutElements(t: Table): string {
  return renderTableBody({
    ...t,
    sets: t.sets.map((s) => ({ ...s, elements: [] })),
    chains: t.chains.map((c) => ({ ...c, rules: c.rules.map((r) => ({ matches: r.matches, stmts: r.stmts })) })),
  }).join('\n');
}

/**
 * The element changes that turn `before` into `after`, or `undefined` when anything but set
 * elements differs (then the whole ruleset must be applied).
 */
export function diffSetElements(before: Ruleset, after: Ruleset): SetElementChange[] | undefined {
  if (before.tables.length !== after.tables.length) return undefined;
  const changes: SetElementChange[] = [];
  for (const [i, a] of after.tables.entries()) {
    const b = before.tables[i] as Table;
    if (a.family !== b.family || a.name !== b.name) return undefined;
    if (withoutElements(a) !== withoutElements(b)) return undefined;
    const old = new Map<string, NamedSet>(b.sets.map((s) => [s.name, s]));
    for (const s of a.sets) {
      if (s.kind !== 'interval') continue;
      const o = old.get(s.name) as NamedSet;
      const oldKeys = new Set(o.elements.map(ivKey));
      const newKeys = new Set(s.elements.map(ivKey));
      const removed = o.elements.filter((e) => !newKeys.has(ivKey(e)));
      const added = s.elements.filter((e) => !oldKeys.has(ivKey(e)));
      if (removed.length > 0 || added.length > 0) changes.push({ family: a.family, table: a.name, set: s.name, removed, added });
    }
  }
  return changes;
}

/** Renders element changes as one nft transaction (deletions before additions). */
export function renderSetUpdate(changes: readonly SetElementChange[]): string {
  const out: string[] = [];
  for (const c of changes) if (c.removed.length > 0) out.push(`delete element ${c.family} ${c.table} ${c.set} { ${c.removed.map(formatInterval).join(', ')} }`);
  for (const c of changes) if (c.added.length > 0) out.push(`add element ${c.family} ${c.table} ${c.set} { ${c.added.map(formatInterval).join(', ')} }`);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
