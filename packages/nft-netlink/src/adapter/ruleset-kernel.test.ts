/**
 * Kernel test: whole rulesets through netlink. For every compiler golden, applying the
 * codec's messages in a namespace gives the same `nft -j list ruleset` as `nft -f` of the
 * rendered text, and (with strace) the batch equals nft's byte for byte. Runs in one network
 * namespace this test creates and removes. Skipped (reason printed) when not root or `nft` /
 * `ip` are missing. With CAPTURE_NFT=1 it rewrites `codec/test-probe-batch.ts` from nft.
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderNftText, REQUIRED_SYSCTLS, type Ruleset } from '@palisade/fw-compile';
import { GOLDEN_DIR, loadScenario } from '@palisade/fw-compile/test-support';
import { toHex } from '../codec/bytes.js';
import { decodeNetlinkMessages } from '../codec/decode.js';
import { createSetIdAllocator, lowerFullReplace, lowerRule } from '../codec/nft-lower.js';
import { planFullReplace, planRuleset } from '../codec/ruleset-plan.js';
import { NftNetlinkError } from '../errors.js';
import { createRulesetApplier, ERESTART, type RulesetApplier } from './ruleset-applier.js';
import { encodeNftBatch } from '../codec/nft-messages.js';
import { PROBE_OWN_TABLES, PROBE_RULESET } from '../codec/test-probe.js';
import { openNftSession, type NftSession } from './nft-session.js';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const CAPTURE_TOOL = join(here, '..', '..', 'tools', 'capture-nft-batch.mjs');

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 28 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`, { cause: err })) : resolve(stdout)));
    child.stdin?.on('error', () => undefined); // a command that does not read its input
    child.stdin?.end(input ?? '');
  });
}

async function has(cmd: string, args: string[]): Promise<boolean> {
  try {
    await exec(cmd, args);
    return true;
  } catch {
    return false;
  }
}

async function prerequisites(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  if (!(await has('nft', ['--version']))) return '`nft` is not installed';
  if (!(await has('ip', ['-V']))) return '`ip` is not installed';
  return undefined;
}

const why = await prerequisites();
if (why) console.warn(`nft-netlink ruleset kernel tests skipped: ${why}`);
const withStrace = why === undefined && (await has('strace', ['-V']));
const ns = `plrs-${process.pid}`;
const nft = (args: string[], input?: string): Promise<string> => run('ip', ['netns', 'exec', ns, 'nft', ...args], input);

/** `nft -j list ruleset` without what differs between two equal rulesets: handles and the version banner. */
async function listRuleset(): Promise<unknown[]> {
  const json = JSON.parse(await nft(['-j', 'list', 'ruleset'])) as { nftables: Record<string, unknown>[] };
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return json.nftables.filter((o) => !('metainfo' in o)).map(strip);
}

/** This kernel has no `nft_queue` (CONFIG_NFT_QUEUE unset): rules with `queue` are left out on both sides. */
function withoutQueue(r: Ruleset): Ruleset {
  return { tables: r.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.filter((x) => !x.stmts.some((s) => s.kind === 'queue')) })) })) };
}

/** The messages of a batch as hex, one per message. */
function messageHex(bytes: Uint8Array): string[] {
  const d = decodeNetlinkMessages(bytes);
  if (!d.ok) throw new TypeError(d.error);
  const out: string[] = [];
  let at = 0;
  for (const m of d.value) {
    const len = 16 + m.payload.length;
    out.push(toHex(bytes.subarray(at, at + len)));
    at += (len + 3) & ~3;
  }
  return out;
}

async function nftBatchHex(text: string): Promise<string[]> {
  const file = join(here, `.probe-${process.pid}.nft`);
  writeFileSync(file, text);
  try {
    await nft(['flush', 'ruleset']);
    return (await run(process.execPath, [CAPTURE_TOOL, ns, file])).trim().split('\n');
  } finally {
    await run('rm', ['-f', file]);
  }
}

const goldens = readdirSync(GOLDEN_DIR)
  .filter((d) => statSync(join(GOLDEN_DIR, d)).isDirectory())
  .sort();

describe.skipIf(why !== undefined)('whole rulesets through netlink', () => {
  let session: NftSession | undefined;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`)]).catch(() => undefined);
    session = await openNftSession({ netns: ns });
  });
  afterAll(async () => {
    await session?.close();
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it.skipIf(process.env.CAPTURE_NFT !== '1' || !withStrace)('captures the probe batch from nft (CAPTURE_NFT=1)', async () => {
    const hex = await nftBatchHex(renderNftText(PROBE_RULESET, PROBE_OWN_TABLES));
    const body = hex.map((h) => `  '${h}',`).join('\n');
    writeFileSync(
      join(here, '..', 'codec', 'test-probe-batch.ts'),
      `/**\n * Golden bytes: the batch nft 1.0.6 sent for the rendered text of \`test-probe.ts\` (Linux 6.18), one\n * message per entry, captured by \`ruleset-kernel.test.ts\` with CAPTURE_NFT=1 (strace of \`nft -f\`).\n * Regenerate only on purpose; the queue rules fail in a kernel without nft_queue, the bytes are still nft's.\n */\nexport const PROBE_BATCH_HEX: readonly string[] = [\n${body}\n];\n`,
    );
  });

  for (const name of goldens) {
    it(`golden ${name}: same kernel ruleset as nft -f${withStrace ? ', same bytes as nft' : ''}`, async () => {
      const { compiled } = loadScenario(join(GOLDEN_DIR, name));
      if (withStrace) {
        // every golden, queue rules included: nft's batch is captured even when the kernel refuses it
        const theirs = await nftBatchHex(renderNftText(compiled.ruleset, compiled.ownTables));
        const ours = encodeNftBatch(lowerFullReplace(compiled.ruleset.tables, compiled.ownTables), { ack: 'none' });
        if (!ours.ok) throw new TypeError(ours.error);
        expect(messageHex(ours.value.bytes)).toEqual(theirs);
      }
      const ruleset = withoutQueue(compiled.ruleset);
      await nft(['flush', 'ruleset']);
      await nft(['-f', '-'], renderNftText(ruleset, compiled.ownTables));
      const viaText = await listRuleset();
      await nft(['flush', 'ruleset']);
      const s = session as NftSession;
      const r = await s.send(lowerFullReplace(ruleset.tables, compiled.ownTables, createSetIdAllocator()));
      expect(r.messages).toBeGreaterThan(0);
      expect(await listRuleset()).toEqual(viaText);
      // applied again (the replace path: declare, delete, recreate), still the same
      await s.send(lowerFullReplace(ruleset.tables, compiled.ownTables));
      expect(await listRuleset()).toEqual(viaText);
    });
  }
});

/** Listing order follows creation order; an incremental apply appends chains and sets. Rules keep their order (stable sort). */
function sorted(list: unknown[]): unknown[] {
  const key = (o: unknown): string => {
    const [kind, v] = Object.entries(o as Record<string, Record<string, unknown>>)[0] ?? ['', {}];
    return `${kind} ${String(v.family)} ${String(v.table ?? v.name)} ${String(v.chain ?? v.name)}`;
  };
  return [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe.skipIf(why !== undefined)('planner, generation guard and atomicity in the kernel', () => {
  const pns = `plpl-${process.pid}`;
  const scratch = `plsc-${process.pid}`;
  const pnft = (args: string[], input?: string): Promise<string> => run('ip', ['netns', 'exec', pns, 'nft', ...args], input);
  const snft = (args: string[], input?: string): Promise<string> => run('ip', ['netns', 'exec', scratch, 'nft', ...args], input);
  const list = async (nftIn = pnft): Promise<unknown[]> => {
    const json = JSON.parse(await nftIn(['-j', 'list', 'ruleset'])) as { nftables: Record<string, unknown>[] };
    const strip = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(strip) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, strip(x)])) : v;
    return sorted(json.nftables.filter((o) => !('metainfo' in o)).map(strip));
  };
  let applier: RulesetApplier | undefined;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', pns]);
    await run('ip', ['netns', 'add', scratch]);
    applier = await createRulesetApplier({ netns: pns });
  });
  afterAll(async () => {
    await applier?.close();
    await run('ip', ['netns', 'del', pns]).catch(() => undefined);
    await run('ip', ['netns', 'del', scratch]).catch(() => undefined);
  });
  const golden = (name: string) => {
    const { compiled } = loadScenario(join(GOLDEN_DIR, name));
    return { ruleset: withoutQueue(compiled.ruleset), ownTables: compiled.ownTables };
  };
  /** What `nft -f` of the rendered text leaves, in a scratch namespace of the same test. */
  const viaText = async (g: ReturnType<typeof golden>): Promise<unknown[]> => {
    await snft(['flush', 'ruleset']);
    await snft(['-f', '-'], renderNftText(g.ruleset, g.ownTables));
    return list(snft);
  };

  it('first apply replaces whole, then only what changed; the result equals nft -f of the new text; the same input sends nothing', async () => {
    const a = applier as RulesetApplier;
    const steps = ['verdict-defaults', 'verdict-guests', 'verdict-ipsets', 'features', 'verdict-guests', 'verdict-disabled', 'verdict-ipfilter'];
    let first = true;
    for (const name of steps) {
      const g = golden(name);
      const r = await a.apply(g.ruleset, g.ownTables);
      expect({ name, plan: r.plan, reason: r.reason }).toEqual({ name, plan: first ? 'full' : 'incremental', reason: first ? 'first apply' : undefined });
      first = false;
      expect({ name, list: await list() }).toEqual({ name, list: await viaText(g) });
      // the generation after our batch is the one we recorded; read back, operands and set elements match
      expect(await a.session.generation()).toBe(r.state.generation);
      expect({ name, drift: await a.drift() }).toEqual({ name, drift: [] });
      const again = await a.apply(g.ruleset, g.ownTables);
      expect(again).toMatchObject({ result: 'unchanged', messages: 0, applyMs: 0 });
    }
  });

  it('a stale generation is refused whole (ERESTART); another table changing is no drift; our table changed is drift, repaired by a full replace', async () => {
    const a = applier as RulesetApplier;
    const g = golden('verdict-guests');
    await a.apply(g.ruleset, g.ownTables);
    expect(await a.drift()).toEqual([]);
    const gen = await a.session.generation();
    await pnft(['add', 'table', 'inet', 'someone-else']);
    const before = await list();
    const stale = planFullReplace(g.ruleset, g.ownTables, 'test');
    await expect(a.session.send(stale.messages, { genId: gen })).rejects.toMatchObject({ code: 'KERNEL_ERROR', errno: ERESTART });
    expect(await list()).toEqual(before);
    // someone else's table: the generation moved on, our tables did not drift -> incremental
    expect(await a.drift()).toEqual([]);
    const next = golden('verdict-ipsets');
    const r = await a.apply(next.ruleset, next.ownTables);
    // sent first with the generation of our last apply (no GETGEN before), refused, re-read, re-planned
    expect(r).toMatchObject({ plan: 'incremental', attempts: 2 });
    const back = await a.apply(g.ruleset, g.ownTables);
    expect(back).toMatchObject({ plan: 'incremental', attempts: 1 });
    expect(await a.apply(next.ruleset, next.ownTables)).toMatchObject({ plan: 'incremental', attempts: 1 });
    // our table changed behind our back: drift is reported and repaired by a full replace
    await pnft(['flush', 'chain', 'inet', 'palisade', 'PVEFW-HOST-IN']);
    await pnft(['add', 'chain', 'inet', 'palisade', 'intruder']);
    const d = await a.drift();
    expect(d).toEqual(expect.arrayContaining([expect.stringMatching(/chain inet palisade PVEFW-HOST-IN has 0 rule/) as unknown, 'chain inet palisade intruder was added by someone else']));
    const repaired = await a.apply(next.ruleset, next.ownTables);
    expect(repaired).toMatchObject({ plan: 'full', reason: expect.stringMatching(/^drift: /) as unknown });
    expect(await list()).toEqual(sorted([...(await viaText(next)), { table: { family: 'inet', name: 'someone-else' } }]));
    expect(await a.drift()).toEqual([]);
    // nothing outside Palisade's tables was touched
    expect(await pnft(['list', 'table', 'inet', 'someone-else'])).toContain('someone-else');
    await pnft(['delete', 'table', 'inet', 'someone-else']);
  });

  it('drift compares operands and set elements: a rule edited in place with the same expressions, an element added', async () => {
    const a = applier as RulesetApplier;
    const g = golden('verdict-ipsets');
    await a.apply(g.ruleset, g.ownTables, { replace: true });
    expect(await a.drift()).toEqual([]);
    // one rule of the golden, edited in place: same expression kinds and comment, another port
    const listing = await pnft(['-a', 'list', 'table', 'inet', 'palisade']);
    let chain = '';
    let edited: { chain: string; handle: string; text: string } | undefined;
    for (const line of listing.split('\n')) {
      const c = /^\tchain (\S+) \{/.exec(line);
      if (c) chain = c[1] as string;
      const m = /^\t\t(.*\btcp dport )(\d+)( .*) # handle (\d+)$/.exec(line);
      if (m && !edited) edited = { chain, handle: m[4] as string, text: `${m[1] as string}${Number(m[2]) + 1}${m[3] as string}` };
    }
    if (!edited) throw new TypeError('the golden has no rule with a single tcp port');
    await pnft(['replace', 'rule', 'inet', 'palisade', edited.chain, 'handle', edited.handle, edited.text]);
    expect(await a.drift()).toEqual([expect.stringMatching(new RegExp(`^chain inet palisade ${edited.chain} has \\d+ rule\\(s\\) that differ`)) as unknown]);
    await a.apply(g.ruleset, g.ownTables);
    expect(await a.drift()).toEqual([]);
    // an element added to one of our address sets
    const set = (g.ruleset.tables[0]?.sets ?? []).find((x) => x.kind === 'interval' && x.family === 4);
    if (!set) throw new TypeError('the golden has no IPv4 set');
    await pnft(['add', 'element', 'inet', 'palisade', set.name, '{ 203.0.113.99 }']);
    expect(await a.drift()).toEqual([expect.stringMatching(new RegExp(`^set inet palisade ${set.name} holds`)) as unknown]);
    const repaired = await a.apply(g.ruleset, g.ownTables);
    expect(repaired).toMatchObject({ plan: 'full', reason: expect.stringMatching(/^drift: set/) as unknown });
    expect(await a.drift()).toEqual([]);
  });

  it('a batch with one bad message leaves the previous ruleset untouched and names the rule', async () => {
    const a = applier as RulesetApplier;
    const g = golden('verdict-guests');
    await a.apply(g.ruleset, g.ownTables);
    const before = await list();
    const next = golden('verdict-ipsets');
    const plan = planRuleset(g.ruleset, next.ruleset, g.ownTables);
    expect(plan.kind).toBe('incremental');
    const bad = lowerRule('inet', 'palisade', 'PVEFW-HOST-IN', { matches: [], stmts: [{ kind: 'jump', target: 'no-such-chain' }], origin: { path: 'firewall/100.fw', line: 7 } }, { ids: createSetIdAllocator(900), newSets: new Map() });
    const messages = [...plan.messages.slice(0, 3), ...bad, ...plan.messages.slice(3)];
    const err = await a.session.send(messages, { genId: await a.session.generation() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftNetlinkError);
    expect(err).toMatchObject({ code: 'KERNEL_ERROR', errnoName: 'ENOENT', failed: { op: 'object', origin: { path: 'firewall/100.fw', line: 7 } } });
    expect((err as Error).message).toMatch(/add rule to inet palisade PVEFW-HOST-IN \(firewall\/100\.fw:7\).*nothing was applied/);
    expect(await list()).toEqual(before);
  });
});
