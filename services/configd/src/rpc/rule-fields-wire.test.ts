/**
 * The gRPC rule messages carry exactly the fields of fw-lang's rule-field table, under the same
 * names: FirewallService's mapping is derived from the table, so a field added to one side only
 * would silently not travel.
 */
import { describe, expect, it } from 'vitest';
import { Rule, RuleFields } from '@palisade/api';
import { RULE_FIELDS } from '@palisade/fw-lang';

describe('rule fields on the wire', () => {
  it('RuleFields has every table field and nothing else; Rule adds only id, pos, line, ipversion, errors', () => {
    const table = RULE_FIELDS.map((d) => d.key).sort();
    expect(Object.keys(RuleFields.fromPartial({})).sort()).toEqual(table);
    expect(Object.keys(Rule.fromPartial({})).sort()).toEqual([...table, 'errors', 'id', 'ipversion', 'line', 'pos'].sort());
  });
});
