import { describe, expect, it } from 'vitest';
import { compileNodeDocuments } from '../compile/node-compiler.js';
import { countersFromListing } from './rule-counters.js';

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function compileHost(rules: string) {
  const out = compileNodeDocuments({
    node: 'pve1',
    documents: new Map([
      ['firewall/cluster.fw', text('[OPTIONS]\nenable: 1\n')],
      ['nodes/pve1/host.fw', text(`[RULES]\n${rules}`)],
    ]),
    facts: { addresses: ['10.0.0.1/24'], interfaces: ['eth0'] },
    nowMs: 0,
    logGroup: 7401,
  });
  if (!out.ok) throw new Error(out.refusal.message);
  return out;
}

describe('rule counters', () => {
  it('every rule with a document:line gets a counter between its matches and statements, and nothing else changes', () => {
    const out = compileHost('IN ACCEPT -p tcp -dport 22\nIN DROP -p udp -dport 53\n');
    const counted = out.text.split('\n').filter((l) => l.includes(' counter '));
    expect(counted.some((l) => /tcp dport 22 counter accept/.test(l))).toBe(true);
    expect(counted.some((l) => /udp dport 53 counter drop/.test(l))).toBe(true);
    const withOrigin = out.compiled.ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.filter((r) => r.origin)));
    expect(counted).toHaveLength(withOrigin.length);
    expect(out.text.replace(/ counter /g, ' ')).not.toContain(' counter');
  });

  it("pairs the kernel's rules with the compiled ones by chain and position", () => {
    const out = compileHost('IN ACCEPT -p tcp -dport 22\n');
    const t = out.compiled.ruleset.tables.find((x) => x.chains.some((c) => c.rules.some((r) => r.origin)))!;
    const chain = t.chains.find((c) => c.rules.some((r) => r.origin))!;
    const index = chain.rules.findIndex((r) => r.origin);
    const rules = chain.rules.map((_, i) => ({
      rule: { family: t.family, table: t.name, chain: chain.name, handle: i + 1, expr: i === index ? [{ match: {} }, { counter: { packets: 7, bytes: 420 } }, { accept: null }] : [{ accept: null }] },
    }));
    const listing = JSON.stringify({ nftables: [{ metainfo: {} }, { table: { family: t.family, name: t.name } }, ...rules] });
    const counters = countersFromListing(listing, { ...out.compiled, ruleset: { ...out.compiled.ruleset, tables: [t] } });
    expect(counters).toEqual([
      expect.objectContaining({ path: 'nodes/pve1/host.fw', line: 2, chain: chain.name, index, packets: 7, bytes: 420, ruleText: 'IN ACCEPT -p tcp -dport 22' }),
    ]);
  });

  it('refuses a listing that is not JSON with a clear error', () => {
    const out = compileHost('IN ACCEPT -p tcp -dport 22\n');
    expect(() => countersFromListing('Error: no such table', out.compiled)).toThrow(/nft printed no JSON/);
  });
});
