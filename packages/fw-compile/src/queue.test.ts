/**
 * The NFQUEUE statement of IPS guests (spec §6.3.11): rendering in both syntaxes (shapes
 * checked against nft 1.0.6 `--debug=netlink`: `[ queue num 2-5 bypass ]`) and simulate's
 * reading of it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QueueStmt } from '@palisade/nft-ir';
import { renderNftJson } from './nft-json.js';
import { renderStmt } from './nft-text.js';
import { formatSimResult, simulate } from './simulate.js';
import { loadScenario, NFQUEUE_VERDICTS_DIR } from './test-trees.js';

const q = (from: number, to: number, bypass = true): QueueStmt => ({ kind: 'queue', from, to, bypass });

describe('queue statement', () => {
  it('renders nft text in the documented form', () => {
    expect(renderStmt(q(0, 0))).toBe('queue flags bypass to 0');
    expect(renderStmt(q(2, 5))).toBe('queue flags bypass to 2-5');
    expect(renderStmt(q(7, 7, false))).toBe('queue to 7');
  });

  it('renders libnftables JSON', () => {
    const json = renderNftJson(
      { tables: [{ family: 'inet', name: 't', sets: [], ctHelpers: [], chains: [{ name: 'c', rules: [{ matches: [], stmts: [q(1, 1)] }, { matches: [], stmts: [q(2, 5)] }] }] }] },
      [],
    );
    const exprs = json.nftables.flatMap((c) => (c !== null && typeof c === 'object' && 'add' in c ? [(c.add as { rule?: { expr: unknown } }).rule?.expr] : [])).filter(Boolean);
    expect(exprs).toEqual([[{ queue: { num: 1, flags: 'bypass' } }], [{ queue: { num: { range: [2, 5] }, flags: 'bypass' } }]]);
  });

  it('is ACCEPT in simulate, with a note saying the IPS decides', () => {
    const { compiled } = loadScenario(join(NFQUEUE_VERDICTS_DIR, 'ips'));
    const o = simulate(compiled, { from: 'outside', to: 'vm100', dport: 80 });
    expect(o.ok).toBe(true);
    if (!o.ok) return;
    expect(o.result.verdict).toBe('ACCEPT');
    expect(o.result.kernelVerdict).toBeUndefined();
    expect(o.result.decision?.chain).toBe('GROUP-web-IN-Q2-5');
    expect(o.result.decision?.rule).toContain('queue flags bypass to 2-5');
    expect(o.result.decision?.note).toMatch(/NFQUEUE queues 2-5 .*ACCEPT as far as the firewall is concerned/);
    expect(formatSimResult(o.result)).toContain('queued to NFQUEUE queues 2-5');
  });

  it('queues only the IN direction and keeps DHCP a plain accept', () => {
    const { compiled } = loadScenario(join(NFQUEUE_VERDICTS_DIR, 'ips'));
    const out = simulate(compiled, { from: 'vm100', to: 'outside', dport: 8080 });
    const rules = out.ok ? out.result.hops.map((h) => h.decision?.rule) : [];
    // the kernel comment names the source rule by its stable id (its line is the origin's)
    const accept = out.ok ? out.result.hops.find((h) => h.decision?.rule?.startsWith('tcp dport 8080 accept'))?.decision : undefined;
    expect(accept?.rule).toMatch(/^tcp dport 8080 accept comment "firewall\/cluster\.fw#[0-9a-f]{12}"$/);
    expect(accept?.origin).toMatch(/^firewall\/cluster\.fw:7\b/);
    expect(rules.filter((r) => r?.includes('queue'))).toEqual([]);
    const dhcp = simulate(compiled, { from: 'outside', to: 'vm100', proto: 'udp', sport: 67, dport: 68 });
    expect(dhcp.ok && dhcp.result.decision?.rule).toBe('meta nfproto ipv4 udp sport 67 udp dport 68 accept');
  });
});
