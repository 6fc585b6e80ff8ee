/**
 * Rules as the firewall API shows them: the rule-field table's values plus a stable id, the
 * position, the line, `ipversion` and the errors; and the digest of a rule list.
 *
 * Rule identifiers: `r` + 10 hex digits of SHA-256 over what the rule matches and does
 * (`RULE_ID_FIELDS`: type, action, macro, iface, source, dest, proto, ports, icmp-type, log
 * level), plus `-N` for the N-th identical rule of the same list. They survive moves, inserts
 * and deletes of other rules, enable/disable and comment edits.
 */
import { createHash } from 'node:crypto';
import { RULE_FIELDS, RULE_ID_FIELDS, ruleFieldByName, ruleToSpec, type Rule, type RuleSpec, type RuleSpecField } from '@palisade/fw-lang';
import { ConfigdError } from '../errors.js';
import { listDigest } from './list-digest.js';

/** A rule as the API shows it: its fields (absent when not written), `enable` always. */
export type RuleView = RuleSpec & {
  readonly id: string;
  readonly pos: number;
  readonly line: number;
  readonly enable: boolean;
  /** 4 or 6 when the rule applies to one IP version only, 0 for both. */
  readonly ipversion: number;
  readonly errors: readonly { field: string; code: string; message: string }[];
};

/** Address of a rule: its id (preferred) or its 0-based position. */
export type RuleRef = { readonly id: string } | { readonly pos: number };

function ruleIdentity(r: Rule): string {
  return RULE_ID_FIELDS.map((k) => (k === 'type' ? r.type.toLowerCase() : (r[k] ?? ''))).join('\u001f');
}

/** Views of a rule list with stable ids. */
export function ruleViews(rules: readonly Rule[]): RuleView[] {
  const seen = new Map<string, number>();
  return rules.map((r, pos) => {
    const key = ruleIdentity(r);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const id = `r${createHash('sha256').update(key).digest('hex').slice(0, 10)}${n > 0 ? `-${n}` : ''}`;
    return {
      id,
      pos,
      line: r.line,
      ...ruleToSpec(r),
      enable: r.enabled,
      ipversion: r.ipVersion ?? 0,
      errors: r.errors.map((e) => ({ field: e.field, code: e.code, message: e.message })),
    };
  });
}

/**
 * Digest of a rule list exactly as Proxmox computes it (`copy_list_with_digest` over the parsed
 * rules): Proxmox key names, `enable` 0/1, no `pos` (added after the digest), `ipversion` when known.
 */
export function rulesDigest(views: readonly RuleView[]): string {
  return listDigest(
    views.map((v) => {
      const entry: Record<string, string | number | undefined> = {};
      for (const d of RULE_FIELDS) entry[d.api] = d.kind === 'enable' ? (v.enable ? 1 : 0) : v[d.key];
      entry.ipversion = v.ipversion || undefined;
      return entry;
    }),
  );
}

/** The rule of a list a reference names; `not-found` naming it otherwise. */
export function resolveRule(views: readonly RuleView[], ref: RuleRef, path: string): RuleView {
  const v = 'id' in ref ? views.find((r) => r.id === ref.id) : views[ref.pos];
  if (!v) throw new ConfigdError('not-found', 'id' in ref ? `no rule with id '${ref.id}'` : `no rule at position ${ref.pos}`, { path });
  return v;
}

/**
 * The optional rule fields named for removal (Proxmox names, `icmp_type` or property names);
 * `invalid-argument` naming the first that is not one.
 */
export function deletableRuleFields(names: readonly string[]): RuleSpecField[] {
  return names.map((name) => {
    const d = ruleFieldByName(name);
    if (!d || d.required || d.kind === 'enable') throw new ConfigdError('invalid-argument', `cannot delete rule property '${name}'`);
    return d.key as RuleSpecField;
  });
}
