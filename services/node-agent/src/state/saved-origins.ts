/**
 * The rule origins saved with the last-known-good state (`savedRuleOrigins`), collected chain by
 * chain with each chain's share cached by the chain object: the incremental compiler keeps the
 * chains of unchanged guests, so after a one-guest change this walks two chains' rules and
 * ~2,000 cached lists instead of 45,000 rules on the agent's event loop. Same result, in the
 * same order (first occurrence of an id wins).
 */
import type { Chain, CompileResult } from '@palisade/fw-compile';
import type { SavedRuleOrigin } from './state-file.js';

/**
 * The rules of a compile result that log (only their ids reach log entries), by stable id, in
 * the state file's form (first occurrence wins): small next to the ruleset text.
 */
export function savedRuleOrigins(c: CompileResult): SavedRuleOrigin[] {
  const out: SavedRuleOrigin[] = [];
  const seen = new Set<string>();
  for (const t of c.ruleset.tables) {
    for (const ch of t.chains) {
      for (const r of ch.rules) {
        const o = r.origin;
        if (o?.id === undefined || seen.has(o.id) || !r.stmts.some((st) => st.kind === 'log')) continue;
        seen.add(o.id);
        out.push([o.id, o.path, o.line, o.text ?? '']);
      }
    }
  }
  return out;
}

/** `savedRuleOrigins(compiled)`, reusing the share of chain objects seen before. */
export type SavedOriginsCollector = (compiled: CompileResult) => SavedRuleOrigin[];

/**
 * A collector with an empty cache, kept across compiles by each user (reconciler, rule map):
 * it pays off when the next compile reuses chain objects, and holds them only weakly.
 */
export function createSavedOriginsCollector(): SavedOriginsCollector {
  const byChain = new WeakMap<Chain, readonly SavedRuleOrigin[]>();
  return (compiled) => {
    const out: SavedRuleOrigin[] = [];
    const seen = new Set<string>();
    for (const t of compiled.ruleset.tables) {
      for (const ch of t.chains) {
        let mine = byChain.get(ch);
        if (mine === undefined) {
          mine = savedRuleOrigins({ ...compiled, ruleset: { tables: [{ ...t, chains: [ch] }] } });
          byChain.set(ch, mine);
        }
        for (const o of mine) {
          if (seen.has(o[0])) continue;
          seen.add(o[0]);
          out.push(o);
        }
      }
    }
    return out;
  };
}
