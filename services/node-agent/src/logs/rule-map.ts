/**
 * Which rule a log entry's rule id names: built from the ruleset in force — its compile result,
 * or, after a restore at start, the rule origins saved with the last-known-good state. Kernel
 * comments name a rule `path#<id>` (so that moving lines rewrites no chain) and carry no line,
 * so the saved origins are what names entries before the first compile; a state file written
 * before they were saved falls back to the nft text's `RULE=<id>` prefixes and `path:line`
 * comments of older rulesets. Only rules with a log statement are mapped: no other rule's id
 * reaches an entry. The previous ruleset's map is kept as a fallback, so entries
 * logged just before an apply (still in flight in the kernel queue or the socket) keep their names.
 */
import type { CompileResult } from '@palisade/fw-compile';
import type { LogRuleOrigin } from '@palisade/log-model';
import { createSavedOriginsCollector } from '../state/saved-origins.js';
import type { SavedRuleOrigin } from '../state/state-file.js';

/** A ruleset that came into force: compiled now, or restored from the state file. */
export interface RulesetInForce {
  readonly text: string;
  readonly compiled?: CompileResult;
  readonly savedOrigins?: readonly SavedRuleOrigin[];
}

/**
 * Rule id → rule origin for the log capture (see the file comment); `LogIngest` updates it at
 * every apply and looks each entry's rule up in it.
 */
export class RuleMap {
  #current = new Map<string, LogRuleOrigin>();
  #previous = new Map<string, LogRuleOrigin>();
  /** The logging rules of a compile, chain by chain with unchanged chains' share cached: an apply on a large node does not walk every rule. */
  readonly #originsOf = createSavedOriginsCollector();

  /** The rule of `ruleId`, from the ruleset in force or the one before it. */
  lookup(ruleId: string): LogRuleOrigin | undefined {
    return this.#current.get(ruleId) ?? this.#previous.get(ruleId);
  }

  /** Number of rules in the current map. */
  get size(): number {
    return this.#current.size;
  }

  /** A new ruleset is in force (see the module comment for the sources). */
  update(ruleset: RulesetInForce): void {
    const next = ruleset.compiled ? fromSaved(this.#originsOf(ruleset.compiled)) : ruleset.savedOrigins ? fromSaved(ruleset.savedOrigins) : fromNftText(ruleset.text);
    this.#previous = this.#current;
    this.#current = next;
  }
}

function fromSaved(saved: readonly SavedRuleOrigin[]): Map<string, LogRuleOrigin> {
  const out = new Map<string, LogRuleOrigin>();
  for (const [id, path, line, text] of saved) if (!out.has(id)) out.set(id, { path, line, text });
  return out;
}

const TEXT_RULE = /log prefix "[^"]*RULE=([0-9a-f]{12}) "[^\n]*comment "([^"]+):(\d+)"/g;

/** From nft text: the rule text is not in it (empty until the next compile). */
function fromNftText(text: string): Map<string, LogRuleOrigin> {
  const out = new Map<string, LogRuleOrigin>();
  for (const m of text.matchAll(TEXT_RULE)) {
    if (!out.has(m[1]!)) out.set(m[1]!, { path: m[2]!, line: Number(m[3]), text: '' });
  }
  return out;
}
