import { describe, expect, it } from 'vitest';
import { ruleToSpec } from './edit.js';
import { parseFwDocument } from './parse-fw.js';
import { RULE_FIELDS, RULE_ID_FIELDS, RULE_OPTION_PATTERNS, canonicalRuleText, formatRule, ruleFieldByName } from './rule-fields.js';

const rulesOf = (lines: readonly string[]) =>
  parseFwDocument(`[IPSET mgmt]\n\n10.0.0.1\n\n[RULES]\n\n${lines.join('\n')}\n`, { path: 'firewall/cluster.fw', kind: 'cluster' }).rules;

describe('the rule-field table', () => {
  it('reads and writes every option of a canonical line back to the same line', () => {
    const lines = [
      'IN ACCEPT -i net0 -source 10.0.0.0/8 -dest +mgmt -p tcp -dport 22 -sport 1024:65535 -log info # all of them',
      '|OUT SSH(DROP) -dest 192.0.2.1 -log nolog',
      'IN ACCEPT -p icmp -log debug -icmp-type echo-request',
      'GROUP web -i net1 # a group reference takes only -i',
    ];
    const rules = rulesOf(lines);
    expect(rules.map((r) => r.errors)).toEqual(lines.map(() => []));
    expect(rules.map((r) => formatRule(ruleToSpec(r)))).toEqual(lines);
  });

  it('tokenises the long spellings, and writes the reference writer`s order (-log before -icmp-type)', () => {
    const [rule] = rulesOf(['IN ACCEPT --icmp-type echo-reply --proto icmp --log warning']);
    expect(rule).toMatchObject({ proto: 'icmp', icmpType: 'echo-reply', log: 'warning', errors: [] });
    expect(formatRule(ruleToSpec(rule!))).toBe('IN ACCEPT -p icmp -log warning -icmp-type echo-reply');
  });

  it('gives each option flag to exactly one field', () => {
    for (const d of RULE_FIELDS) {
      if (d.kind !== 'option') continue;
      const value = d.key === 'log' ? 'info' : 'x';
      const matching = RULE_OPTION_PATTERNS.filter((p) => p.pattern.test(`${d.flag} ${value}`)).map((p) => p.key);
      expect(matching).toEqual([d.key]);
    }
  });

  it('names fields by property, Proxmox name and its underscore spelling; ids hash every matching field', () => {
    expect([ruleFieldByName('icmpType')?.api, ruleFieldByName('icmp-type')?.key, ruleFieldByName('icmp_type')?.key]).toEqual(['icmp-type', 'icmpType', 'icmpType']);
    expect(ruleFieldByName('nope')).toBeUndefined();
    const matching = RULE_FIELDS.filter((d) => d.kind !== 'comment' && d.kind !== 'enable').map((d) => d.key);
    expect([...RULE_ID_FIELDS].sort()).toEqual([...matching].sort());
  });

  it('gives the compiler ids` canonical text: id order, no comment, no | (unchanged since the ids were introduced)', () => {
    const [a, b] = rulesOf(['|IN SSH(ACCEPT) -log info  -icmp-type 8 -p icmp -i net0 # c', 'IN SSH(ACCEPT) -i net0 -p icmp -icmp-type 8 -log info']);
    expect(canonicalRuleText(a!)).toBe('IN SSH(ACCEPT) -i net0 -p icmp -icmp-type 8 -log info');
    expect(canonicalRuleText(b!)).toBe(canonicalRuleText(a!));
  });
});
