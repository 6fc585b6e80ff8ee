/**
 * Ipset-only changes: when two compiled rulesets differ only in the elements of their
 * interval sets, the change can be applied as element updates (one small transaction)
 * instead of replacing the tables. Set elements are disjoint intervals exactly as the
 * compiler emitted them (no auto-merge), so deleting an old interval by its exact bounds works.
 */
import { formatInterval, type AddrInterval } from './ip.js';
import type { NamedSet, Ruleset, Table } from './ir.js';

export interface SetElementChange {
  readonly family: string;
  readonly table: string;
  readonly set: string;
  readonly removed: readonly AddrInterval[];
  readonly added: readonly AddrInterval[];
}

const ivKey = (iv: AddrInterval): string => `${iv.family}:${iv.from.toString(16)}-${iv.to.toString(16)}`;

/**
 * Deep equality of IR values (plain objects, arrays, strings, numbers, bigints), skipping the
 * keys in `ignore`. Walks both sides once without building strings: this runs on every
 * recompile of a large ruleset, so it must stay far below the cost of rendering it.
 */
function sameIr(a: unknown, b: unknown, ignore: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameIr(a[i], b[i], ignore)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const key in ao) {
    if (ignore.has(key) || ao[key] === undefined) continue;
    count += 1;
    if (!sameIr(ao[key], bo[key], ignore)) return false;
  }
  for (const key in bo) if (!ignore.has(key) && bo[key] !== undefined) count -= 1;
  return count === 0;
}

/** Set elements change by element updates; comments carry source lines, which shift. */
const STRUCTURE_ONLY: ReadonlySet<string> = new Set(['elements', 'comment', 'origin']);

function sameElements(a: readonly AddrInterval[], b: readonly AddrInterval[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as AddrInterval;
    const y = b[i] as AddrInterval;
    if (x.from !== y.from || x.to !== y.to || x.family !== y.family) return false;
  }
  return true;
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
    if (!sameIr(a, b, STRUCTURE_ONLY)) return undefined;
    const old = new Map<string, NamedSet>(b.sets.map((s) => [s.name, s]));
    for (const s of a.sets) {
      if (s.kind !== 'interval') continue;
      const o = old.get(s.name) as NamedSet;
      // Elements come out sorted, so an unchanged set is cheap to recognise.
      if (sameElements(o.elements, s.elements)) continue;
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
