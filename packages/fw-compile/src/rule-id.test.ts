import { loadTree } from '@palisade/fw-lang';
import { describe, expect, it } from 'vitest';
import type { Rule, Ruleset } from '@palisade/nft-ir';
import { compileNode } from './compile.js';
import { DEFAULT_LOG_GROUP, NFT_LOG_PREFIX_MAX, formatLogPrefix, parseLogPrefix } from './log-prefix.js';
import { RULE_ID_PATTERN } from './rule-id.js';

const compile = (cluster: string) => compileNode(loadTree(new Map([['firewall/cluster.fw', cluster]])), { node: 'pve1', hostAddresses: ['192.0.2.1/24'] });
const rules = (rs: Ruleset): Rule[] => rs.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
/** Rule id by source line of cluster.fw. */
const idsByLine = (cluster: string): Map<number, string> => {
  const out = new Map<number, string>();
  for (const r of rules(compile(cluster).ruleset)) if (r.origin?.id !== undefined) out.set(r.origin.line, r.origin.id);
  return out;
};

const BASE = ['[OPTIONS]', 'enable: 1', '', '[RULES]', 'IN ACCEPT -p tcp -dport 22 -log info', 'IN DROP -source 198.51.100.0/24', 'IN ACCEPT -p tcp -dport 22 -log info', ''];

describe('stable rule ids', () => {
  it('gives every compiled source rule a 12-hex id, the same for all kernel rules of one source rule', () => {
    const all = rules(compile(BASE.join('\n')).ruleset).filter((r) => r.origin);
    expect(all.length).toBeGreaterThan(3);
    const byLine = new Map<number, Set<string>>();
    for (const r of all) {
      expect(r.origin?.id).toMatch(RULE_ID_PATTERN);
      byLine.set(r.origin?.line ?? 0, (byLine.get(r.origin?.line ?? 0) ?? new Set()).add(r.origin?.id ?? ''));
    }
    for (const ids of byLine.values()) expect(ids.size).toBe(1);
    // identical rules twice in a section: told apart by their occurrence
    const ids = idsByLine(BASE.join('\n'));
    expect(ids.get(5)).not.toBe(ids.get(7));
  });

  it('keeps ids when other lines move, a comment or whitespace changes, and changes them when the rule changes', () => {
    const before = idsByLine(BASE.join('\n'));
    const moved = ['# a comment', '[OPTIONS]', 'enable: 1', '', '[RULES]', 'IN   DROP   -source 198.51.100.0/24 # spammers', 'IN ACCEPT -p tcp -dport 22 -log info', 'OUT ACCEPT -p udp -dport 53', 'IN ACCEPT -p tcp -dport 22 -log info', ''];
    const after = idsByLine(moved.join('\n'));
    expect(after.get(6)).toBe(before.get(6)); // the DROP rule, one line lower, reformatted, commented
    expect(after.get(7)).toBe(before.get(5)); // first SSH rule
    expect(after.get(9)).toBe(before.get(7)); // second SSH rule (still the second occurrence)
    const changed = idsByLine(BASE.join('\n').replace('198.51.100.0/24', '198.51.100.0/25'));
    expect(changed.get(6)).not.toBe(before.get(6));
    expect(changed.get(5)).toBe(before.get(5));
  });

  it('writes the id into the log prefix in a form pvefw-logger still parses', () => {
    const out = compile(BASE.join('\n'));
    const logs = rules(out.ruleset).flatMap((r) => r.stmts).filter((s) => s.kind === 'log');
    expect(logs.length).toBeGreaterThan(0);
    const id = idsByLine(BASE.join('\n')).get(5);
    const log = logs.find((s) => s.kind === 'log' && s.prefix.includes(`RULE=${id}`));
    expect(log).toMatchObject({ kind: 'log', group: DEFAULT_LOG_GROUP, prefix: `:0:6:PVEFW-HOST-IN: ACCEPT: RULE=${id} ` });
    expect(parseLogPrefix(`:0:6:PVEFW-HOST-IN: ACCEPT: RULE=${id} `)).toEqual({ palisade: true, vmid: 0, level: 6, chain: 'PVEFW-HOST-IN', message: 'ACCEPT: ', ruleId: id });
  });
});

describe('log prefixes', () => {
  it('parses as pvefw-logger does, foreign prefixes as vmid 0, level 6, chain -', () => {
    expect(parseLogPrefix(':100:4:tap100i0-IN: policy DROP: ')).toEqual({ palisade: true, vmid: 100, level: 4, chain: 'tap100i0-IN', message: 'policy DROP: ' });
    expect(parseLogPrefix(':0:6:GROUP-web-IN: ACCEPT: RULE=0123456789ab ')).toEqual({ palisade: true, vmid: 0, level: 6, chain: 'GROUP-web-IN', message: 'ACCEPT: ', ruleId: '0123456789ab' });
    expect(parseLogPrefix('nft-trace: ')).toEqual({ palisade: false, vmid: 0, level: 6, chain: '-', message: 'nft-trace: ' });
    expect(parseLogPrefix(':1:8:x: DROP: ').palisade).toBe(false); // level out of range
    expect(parseLogPrefix(`:1:6:${'c'.repeat(29)}: DROP: `).palisade).toBe(false); // chain too long
    expect(parseLogPrefix('').chain).toBe('-');
  });

  it('never exceeds the kernel limit: the id is left out of a prefix that would', () => {
    const long = formatLogPrefix(4294967295, 7, 'c'.repeat(28), `${'x'.repeat(80)}: `, '0123456789ab');
    expect(long.length).toBeLessThanOrEqual(NFT_LOG_PREFIX_MAX);
    expect(long).not.toContain('RULE=');
    expect(formatLogPrefix(4294967295, 7, 'c'.repeat(28), 'policy REJECT: ', '0123456789ab').length).toBeLessThanOrEqual(NFT_LOG_PREFIX_MAX);
  });
});
