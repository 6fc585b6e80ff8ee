/**
 * Stable rule ids: a short name for every rule of a document that survives edits elsewhere, so
 * that a log entry, a counter or an explanation keeps naming the same rule after other lines
 * were added, removed or moved.
 *
 * The id is a 48-bit hash (12 lower-case hex digits) of
 * - the document path (`firewall/100.fw`),
 * - the section the rule is in (`[RULES]` or `[group <name>]`),
 * - the rule's canonical text: its parsed fields (type, action, macro, iface, proto, ports,
 *   addresses, ICMP type, log level), so whitespace, option order, the comment and a leading
 *   `|` (disabled) do not matter,
 * - its occurrence: how many rules with the same canonical text come before it in the section.
 *
 * So an id changes when the rule itself changes (any field above), when it moves to another
 * section or document, or when an identical rule before it in the same section is added or
 * removed. Moving other lines, or the rule within its section past different rules, does not.
 */
import { canonicalRuleText, type FwDocument, type Rule as FwRule } from '@palisade/fw-lang';
import { cyrb53Pair } from './hash.js';

/** Length of a rule id in hex digits. */
export const RULE_ID_LENGTH = 12;

/** A rule id as the compiler writes it: 12 lower-case hex digits. */
export const RULE_ID_PATTERN = /^[0-9a-f]{12}$/;

/** Canonical text of a rule (the fields that define what it does), one line: fw-lang's, from its rule-field table. */
export { canonicalRuleText };

/** Ids of every rule of `doc` (its `[RULES]` and its security groups), by rule line. */
export function documentRuleIds(doc: FwDocument): ReadonlyMap<number, string> {
  const ids = new Map<number, string>();
  const section = (scope: string, rules: readonly FwRule[]): void => {
    const seen = new Map<string, number>();
    for (const r of rules) {
      const text = canonicalRuleText(r);
      const occurrence = seen.get(text) ?? 0;
      seen.set(text, occurrence + 1);
      ids.set(r.line, ruleId(doc.path, scope, text, occurrence));
    }
  };
  section('rules', doc.rules);
  for (const g of doc.groups.values()) section(`group ${g.name}`, g.rules);
  return ids;
}

/** The id of one rule from its parts (see the module comment). */
export function ruleId(path: string, scope: string, canonicalText: string, occurrence: number): string {
  const [h1, h2] = cyrb53Pair(`${path}\u0000${scope}\u0000${canonicalText}\u0000${occurrence}`);
  // 21 bits of h2 and 32 of h1 form cyrb53's 53-bit value; 48 of them are kept.
  const high = (h2 & 0x1fffff) >>> 5; // 16 bits
  return high.toString(16).padStart(4, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}
