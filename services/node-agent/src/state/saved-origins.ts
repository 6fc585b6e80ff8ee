/**
 * The rule origins saved with the last-known-good state (`savedRuleOrigins`), collected chain by
 * chain with each chain's share cached by the chain object: the incremental compiler keeps the
 * chains of unchanged guests, so after a one-guest change this walks two chains' rules and
 * ~2,000 cached lists instead of 45,000 rules on the agent's event loop. Same result, in the
 * same order (first occurrence of an id wins).
 */
import type { Chain, CompileResult } from '@palisade/fw-compile';
import { savedRuleOrigins } from '../logs/rule-map.js';
import type { SavedRuleOrigin } from './state-file.js';

/** `savedRuleOrigins(compiled)`, reusing the share of chain objects seen before. */
export type SavedOriginsCollector = (compiled: CompileResult) => SavedRuleOrigin[];

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
