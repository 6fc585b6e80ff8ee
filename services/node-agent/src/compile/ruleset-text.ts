/**
 * The transaction text the agent keeps and shows (`nft -f` input with a `counter` in every rule
 * that has an origin), rendered piece by piece with each chain's and set's text cached by the
 * IR object: the incremental compiler hands back the same chain objects for guests that did
 * not change, so a one-guest change renders two chains instead of 2,000 (the whole text of a
 * 1,000-guest node is 4.6 MB). The pieces are rendered by `renderNftText` and
 * `withRuleCounters` themselves, so the text is theirs byte for byte.
 */
import { renderNftText, type Chain, type CompileResult, type NamedSet, type Table } from '@palisade/fw-compile';
import { withRuleCounters } from '../inspect/rule-counters.js';

/** Renders whole transactions, reusing the text of chain and set objects seen before. */
export interface RulesetTextRenderer {
  /** `withRuleCounters(renderNftText(compiled.ruleset, compiled.ownTables), compiled)`. */
  render(compiled: CompileResult): string;
}

/** The lines `renderNftText` writes for a table holding only `body`, without the table's own first and last line. */
function bodyOf(table: Table, body: Partial<Pick<Table, 'sets' | 'chains' | 'valueSets' | 'ctHelpers'>>): string {
  const alone: Table = { family: table.family, name: table.name, sets: body.sets ?? [], ctHelpers: body.ctHelpers ?? [], chains: body.chains ?? [], ...(body.valueSets ? { valueSets: body.valueSets } : {}) };
  const text = renderNftText({ tables: [alone] }, []);
  // "\ntable F N {\n" … "}\n"
  const start = text.indexOf('{\n') + 2;
  return text.slice(start, text.length - 2);
}

/** A renderer with its own caches (one per agent). */
export function createRulesetTextRenderer(): RulesetTextRenderer {
  // By table: a chain's text does not name its table, but a chain object could sit in two.
  const chainsByTable = new Map<string, WeakMap<Chain, string>>();
  const sets = new WeakMap<NamedSet, string>();

  const chainText = (t: Table, c: Chain): string => {
    const key = `${t.family} ${t.name}`;
    let chains = chainsByTable.get(key);
    if (!chains) chainsByTable.set(key, (chains = new WeakMap()));
    let s = chains.get(c);
    if (s !== undefined) return s;
    const alone: CompileResult = { ruleset: { tables: [{ ...t, sets: [], ctHelpers: [], chains: [c] }] }, ownTables: [], topology: { node: '', hostAddresses: [], bridges: [], nics: [] }, diagnostics: [], enabled: true };
    s = withRuleCounters(bodyOf(t, { chains: [c] }), alone);
    chains.set(c, s);
    return s;
  };
  const setText = (t: Table, set: NamedSet): string => {
    let s = sets.get(set);
    if (s === undefined) {
      s = bodyOf(t, { sets: [set] });
      sets.set(set, s);
    }
    return s;
  };

  return {
    render(compiled) {
      const out: string[] = [];
      for (const t of compiled.ownTables) out.push(`table ${t.family} ${t.name}\n`, `delete table ${t.family} ${t.name}\n`);
      for (const t of compiled.ruleset.tables) {
        out.push(`\ntable ${t.family} ${t.name} {\n`);
        for (const s of t.sets) out.push(setText(t, s));
        if ((t.valueSets?.length ?? 0) > 0 || t.ctHelpers.length > 0) out.push(bodyOf(t, { ...(t.valueSets ? { valueSets: t.valueSets } : {}), ctHelpers: t.ctHelpers }));
        for (const c of t.chains) out.push(chainText(t, c));
        out.push('}\n');
      }
      // renderNftText's text of nothing at all is one newline.
      return out.length > 0 ? out.join('') : '\n';
    },
  };
}
