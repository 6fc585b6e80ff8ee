/**
 * Kernel test of the agent's netlink applier, in a network namespace it creates and removes:
 * only what changed is sent (nothing for the same compile), the read-back digest is stable while
 * nobody else touches the tables and changes when someone does, the same digest without IR
 * repairs the drift through netlink, and a text without IR goes through `nft -f` (the fallback).
 * Skipped (reason printed) when not root or without `ip`/`nft`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNode, renderNftText, type CompileResult } from '@palisade/fw-compile';
import { loadTree } from '@palisade/fw-lang';
import { createNetlinkApplier, type NetlinkApplier } from './netlink-applier.js';
import type { ApplyInput } from './ruleset-applier.js';

const why = process.getuid?.() !== 0 ? 'needs root' : spawnSync('nft', ['--version']).status !== 0 ? 'nft is not installed' : spawnSync('ip', ['-V']).status !== 0 ? 'ip is not installed' : undefined;
if (why) console.warn(`netlink applier kernel test skipped: ${why}`);
const NS = `plag-nl-${process.pid}`;
const nft = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8' });

/** A small node configuration; `variant` changes one set entry and one port. */
function configFiles(variant: number): Map<string, string> {
  return new Map([
    ['firewall/cluster.fw', `[OPTIONS]\nenable: 1\n\n[IPSET trusted]\n10.0.0.${variant}\n10.1.0.0/16\n\n[RULES]\nIN SSH(ACCEPT) -source +trusted\nIN ACCEPT -p tcp -dport ${8000 + variant}\n`],
    ['nodes/proxself/host.fw', '[OPTIONS]\nenable: 1\n'],
    ['nodes/proxself/qemu-server/100.conf', 'net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n'],
    ['firewall/100.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p udp -dport 2000,3000\nOUT ACCEPT -p tcp -dport 443\n'],
  ]);
}
const SCENARIOS: Readonly<Record<string, number>> = { first: 1, second: 2, third: 3 };

function input(name: string, withIr = true): ApplyInput {
  const compiled = compileNode(loadTree(configFiles(SCENARIOS[name] ?? 0)), { node: 'proxself', hostAddresses: ['172.16.1.2/24'], nowSeconds: 0 });
  const text = renderNftText(compiled.ruleset, compiled.ownTables);
  return { text, digest: createHash('sha256').update(text).digest('hex'), ownTables: compiled.ownTables, ...(withIr ? { compiled } : {}) };
}

describe.skipIf(why !== undefined)('netlink applier', () => {
  let applier: NetlinkApplier | undefined;
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    applier = createNetlinkApplier({ netns: NS });
  });
  afterAll(async () => {
    await applier?.close();
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('sends only what changed, nothing for the same compile; the read-back digest follows the kernel', async () => {
    const a = applier as NetlinkApplier;
    const guests = input('first');
    await a.apply(guests);
    expect(a.lastResult).toMatchObject({ via: 'netlink', plan: 'full', result: 'applied' });
    const digest = (await a.readCurrent(guests.ownTables)).digest;
    await a.apply(guests);
    expect(a.lastResult).toMatchObject({ via: 'netlink', result: 'unchanged', messages: 0 });
    expect((await a.readCurrent(guests.ownTables)).digest).toBe(digest);

    const ipsets = input('second');
    await a.apply(ipsets);
    expect(a.lastResult).toMatchObject({ via: 'netlink', plan: 'incremental', result: 'applied' });
    const inSync = await a.readCurrent(ipsets.ownTables);
    expect(inSync.digest).not.toBe(digest);
    // the kernel holds what nft -f of the same text gives
    expect(nft('list', 'table', 'inet', 'palisade')).toContain('table inet palisade {');

    // another table changing is no drift; our table changing is
    nft('add', 'table', 'inet', 'someone-else');
    expect((await a.readCurrent(ipsets.ownTables)).digest).toBe(inSync.digest);
    nft('flush', 'chain', 'inet', 'palisade', 'PVEFW-HOST-IN');
    const drifted = await a.readCurrent(ipsets.ownTables);
    expect(drifted.digest).not.toBe(inSync.digest);
    expect(drifted.text).toMatch(/chain inet palisade PVEFW-HOST-IN has 0 rule/);

    // the reconciler repairs with the text and digest in force (no IR): replaced through netlink
    await a.apply({ text: ipsets.text, digest: ipsets.digest, ownTables: ipsets.ownTables });
    expect(a.lastResult).toMatchObject({ via: 'netlink', plan: 'full', result: 'applied' });
    expect((await a.readCurrent(ipsets.ownTables)).digest).toBe(inSync.digest);
    expect(nft('list', 'table', 'inet', 'someone-else')).toContain('someone-else');
    nft('delete', 'table', 'inet', 'someone-else');
  });

  it('a text without IR it did not apply (restored after a restart) goes through nft -f', async () => {
    const a = applier as NetlinkApplier;
    const defaults = input('third', false);
    await a.apply(defaults);
    expect(a.lastResult).toMatchObject({ via: 'nft' });
    // then the next compile goes through netlink again, replacing what nft put there
    await a.apply(input('third'));
    expect(a.lastResult).toMatchObject({ via: 'netlink', result: 'applied' });
    await a.apply(input('third'));
    expect(a.lastResult).toMatchObject({ via: 'netlink', result: 'unchanged' });
  });

  it('a ruleset the kernel refuses is an apply-failed error naming it; the previous ruleset stays', async () => {
    const a = applier as NetlinkApplier;
    const good = input('first');
    await a.apply(good);
    const before = nft('list', 'table', 'inet', 'palisade');
    const compiled = good.compiled as CompileResult;
    const [inet, ...rest] = compiled.ruleset.tables;
    if (!inet) throw new TypeError('no inet table');
    const broken: CompileResult = {
      ...compiled,
      ruleset: { tables: [{ ...inet, chains: inet.chains.map((c) => (c.name === 'PVEFW-HOST-IN' ? { ...c, rules: [...c.rules, { matches: [], stmts: [{ kind: 'jump', target: 'NO-SUCH-CHAIN' }], origin: { path: 'firewall/cluster.fw', line: 12 } }] } : c)) }, ...rest] },
    };
    await expect(a.apply({ ...good, digest: 'other', compiled: broken })).rejects.toMatchObject({ code: 'apply-failed', message: expect.stringMatching(/firewall\/cluster\.fw:12.*previous ruleset stays in force/) as unknown });
    expect(nft('list', 'table', 'inet', 'palisade')).toBe(before);
  });
});
