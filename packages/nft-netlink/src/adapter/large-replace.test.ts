/**
 * Kernel test: a replace larger than one datagram of `net.core.wmem_max` x 2 is still one
 * transaction (SO_SNDBUFFORCE through `native/sndbuf.node`, in the namespace relay), and a bad
 * message at its very end leaves the previous ruleset whole. One namespace, created and removed
 * here. Skipped (reason printed) when not root, without `ip`/`nft`, or without the addon.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chain, Ruleset } from '@palisade/fw-compile';
import { createSetIdAllocator, lowerRule } from '../codec/nft-lower.js';
import { planFullReplace } from '../codec/ruleset-plan.js';
import { messageBytes } from '../codec/nft-messages.js';
import { createRulesetApplier, type RulesetApplier } from './ruleset-applier.js';

const here = dirname(fileURLToPath(import.meta.url));
const run = (cmd: string, args: string[]): Promise<string> =>
  new Promise((resolve, reject) => execFile(cmd, args, { maxBuffer: 1 << 28 }, (err, out, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve(out))));
const wmemMax = (): number => Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8').trim());

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(join(here, '..', '..', 'native', 'build', 'sndbuf.node'))) return 'native/sndbuf.node is not built (npm run build -w @palisade/nft-netlink)';
  return undefined;
}
const skip = why();
if (skip) console.warn(`nft-netlink large replace test skipped: ${skip}`);

/** One table whose batch exceeds `bytes`: chains of rules with ports and comments. */
function bigRuleset(bytes: number, port: number): Ruleset {
  const chains: Chain[] = [];
  const perChain = 100;
  const count = Math.ceil(bytes / (perChain * 190));
  for (let c = 0; c < count; c++) {
    chains.push({
      name: `c${c}`,
      rules: Array.from({ length: perChain }, (_, i) => ({
        matches: [{ kind: 'port', proto: 'tcp', field: 'dport', op: 'eq', ranges: [[port + i, port + i]] }],
        stmts: [{ kind: 'accept' }],
        comment: `firewall/${1000 + c}.fw:${i + 1}`,
      })),
    });
  }
  chains.push({ name: 'INPUT', base: { hook: 'input', priority: 0, policy: 'accept' }, rules: [{ matches: [], stmts: [{ kind: 'jump', target: 'c0' }] }] });
  return { tables: [{ family: 'inet', name: 'palisade', sets: [], ctHelpers: [], chains }] };
}
const own = [{ family: 'inet', name: 'palisade' }];

describe.skipIf(skip !== undefined)('a replace larger than one wmem_max datagram', () => {
  const ns = `pllr-${process.pid}`;
  let applier: RulesetApplier | undefined;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    applier = await createRulesetApplier({ netns: ns, timeoutMs: 120_000 });
  });
  afterAll(async () => {
    await applier?.close();
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('is one transaction: applied whole, and refused whole when its last message is bad', async () => {
    const a = applier as RulesetApplier;
    const limit = wmemMax() * 2;
    const first = bigRuleset(limit + (1 << 20), 1000);
    expect(await a.apply(first, own)).toMatchObject({ result: 'applied', batches: 1 });
    const second = bigRuleset(limit + (1 << 20), 20000);
    const r = await a.apply(second, own, { replace: true });
    expect(r).toMatchObject({ result: 'applied', plan: 'full', batches: 1 });
    expect(r.bytes).toBeGreaterThan(limit);
    expect(await a.drift()).toEqual([]);
    const listed = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 'palisade', 'c0']);
    expect(listed).toContain('tcp dport 20000 accept comment "firewall/1000.fw:1"');

    // the same size again with one bad rule at the end: nothing of it is applied
    const plan = planFullReplace(first, own, 'test');
    const bad = lowerRule('inet', 'palisade', 'INPUT', { matches: [], stmts: [{ kind: 'jump', target: 'no-such-chain' }], origin: { path: 'firewall/1.fw', line: 3 } }, { ids: createSetIdAllocator(1 << 20), newSets: new Map() });
    const messages = [...plan.messages, ...bad];
    expect(messages.reduce((n, m) => n + messageBytes(m), 0)).toBeGreaterThan(limit);
    await expect(a.session.send(messages, { genId: await a.session.generation() })).rejects.toMatchObject({ code: 'KERNEL_ERROR', errnoName: 'ENOENT', failed: { origin: { path: 'firewall/1.fw', line: 3 } } });
    expect(await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 'palisade', 'c0'])).toContain('tcp dport 20000 accept');
    expect(await a.drift()).toEqual([]);
  }, 180_000);
});
