/**
 * The applied ruleset, indexed by name (issue #9): a plan looks up the previous chain, set or
 * helper of each name in a map instead of building maps of 2,000 chains and 200 sets on every
 * plan. The index of a ruleset (and of each table) is built once, its maps when first needed, and
 * kept beside the object it was built from, so the next plan, whose `previous` is the ruleset this plan's `next` was,
 * finds it ready. Compiled rulesets are immutable values, which is what makes that sound. Pure.
 */
import type { Chain, CtHelper, NamedSet, Ruleset, Table, ValueSet } from '@palisade/nft-ir';

/** One table's objects by name. */
export interface TableIndex {
  readonly table: Table;
  readonly chains: ReadonlyMap<string, Chain>;
  readonly sets: ReadonlyMap<string, NamedSet>;
  readonly valueSets: ReadonlyMap<string, ValueSet>;
  readonly ctHelpers: ReadonlyMap<string, CtHelper>;
}

/** A ruleset's tables by `family name`. */
export interface RulesetIndex {
  readonly tables: ReadonlyMap<string, TableIndex>;
}

/** The key of a table in the index: `family name`. */
export const tableKey = (t: { readonly family: string; readonly name: string }): string => `${t.family} ${t.name}`;

const byName = <T extends { readonly name: string }>(xs: readonly T[]): Map<string, T> => {
  const m = new Map<string, T>();
  for (const x of xs) m.set(x.name, x);
  return m;
};

const tables = new WeakMap<Table, TableIndex>();
const rulesets = new WeakMap<Ruleset, RulesetIndex>();

/**
 * The index of one table (once per table object). Each map is built when first read: a plan
 * finds most objects at the same position in the previous table's lists (`atOrByName`), so a
 * table of 2,000 chains often needs no map at all.
 */
export function indexTable(t: Table): TableIndex {
  let ix = tables.get(t);
  if (ix === undefined) {
    let chains: Map<string, Chain> | undefined;
    let sets: Map<string, NamedSet> | undefined;
    let valueSets: Map<string, ValueSet> | undefined;
    let ctHelpers: Map<string, CtHelper> | undefined;
    ix = {
      table: t,
      get chains() {
        return (chains ??= byName(t.chains));
      },
      get sets() {
        return (sets ??= byName(t.sets));
      },
      get valueSets() {
        return (valueSets ??= byName(t.valueSets ?? []));
      },
      get ctHelpers() {
        return (ctHelpers ??= byName(t.ctHelpers));
      },
    };
    tables.set(t, ix);
  }
  return ix;
}

/**
 * The object named `name` in `list` (whose index is `ix` of `map`): looked at position `i` first
 * (the compiler sorts chains and sets by name, so an unchanged list lines up), by name otherwise.
 */
export function atOrByName<T extends { readonly name: string }>(list: readonly T[], i: number, name: string, byName: () => ReadonlyMap<string, T>): T | undefined {
  const at = list[i];
  return at !== undefined && at.name === name ? at : byName().get(name);
}

/** The index of a ruleset (built once per ruleset object; tables shared with another ruleset reuse theirs). */
export function indexRuleset(r: Ruleset): RulesetIndex {
  let ix = rulesets.get(r);
  if (ix === undefined) {
    ix = { tables: new Map(r.tables.map((t) => [tableKey(t), indexTable(t)])) };
    rulesets.set(r, ix);
  }
  return ix;
}
