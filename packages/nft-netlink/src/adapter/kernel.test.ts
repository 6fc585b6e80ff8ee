/**
 * Kernel test: interval-set element updates through the netlink path, checked against what
 * `nft -j list set` reports, in a network namespace this test creates and removes. Skipped
 * (with the reason printed) when not root or `nft` / `ip` are missing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTree } from '@palisade/fw-lang';
import { compileNode, diffSetElements, formatInterval, parseCidr, renderNftText, REQUIRED_SYSCTLS, type AddrInterval } from '@palisade/fw-compile';
import { NftNetlinkError } from '../errors.js';
import { applySetElementChanges, createSetElementApplier, type SetElementApplier } from './applier.js';
import { kernelTestSkipReason } from './test-kernel.js';

const exec = promisify(execFile);
async function run(cmd: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await exec(cmd, args, { maxBuffer: 1 << 26 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 26 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`, { cause: err })) : resolve(stdout)));
    child.stdin?.end(input);
  });
}


const why = await kernelTestSkipReason();
if (why) console.warn(`nft-netlink kernel tests skipped: ${why}`);
const ns = `plnl-${process.pid}`;
const nft = (args: string[], input?: string): Promise<string> => run('ip', ['netns', 'exec', ns, 'nft', ...args], input);

/** The intervals of a kernel set, as `nft -j list set` shows them, sorted. */
async function kernelSet(table: string, set: string): Promise<string[]> {
  const json = JSON.parse(await nft(['-j', 'list', 'set', 'inet', table, set])) as { nftables: { set?: { elem?: unknown[] } }[] };
  const elems = json.nftables.find((x) => x.set)?.set?.elem ?? [];
  const ivs = elems.map((e): AddrInterval => {
    const cidr = (text: string, len?: number): AddrInterval => {
      const c = parseCidr(len === undefined ? text : `${text}/${len}`);
      if (!c) throw new TypeError(`unexpected element ${text}`);
      const host = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
      return { family: c.family, from: c.address, to: c.address | ((1n << host) - 1n) };
    };
    if (typeof e === 'string') return cidr(e);
    const o = e as { prefix?: { addr: string; len: number }; range?: [string, string] };
    if (o.prefix) return cidr(o.prefix.addr, o.prefix.len);
    if (o.range) return { ...cidr(o.range[0]), to: cidr(o.range[1]).to };
    throw new TypeError(`unexpected element ${JSON.stringify(e)}`);
  });
  return ivs.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0)).map(formatInterval);
}

const v4 = (text: string): AddrInterval => {
  const [a, b] = text.split('-') as [string, string | undefined];
  const c = parseCidr(a) as { family: 4 | 6; address: bigint; prefix: number };
  const host = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  const from = c.address;
  const to = b === undefined ? from | ((1n << host) - 1n) : (parseCidr(b) as { address: bigint }).address;
  return { family: c.family, from, to };
};
const change = (set: string, removed: string[], added: string[]) => ({ family: 'inet', table: 'nltest', set, removed: removed.map(v4), added: added.map(v4) });

const BASE = `
table inet nltest {
  set s4 { type ipv4_addr; flags interval; elements = { 10.0.0.1, 10.1.0.0/24, 192.0.2.0-192.0.2.9 } }
  set s6 { type ipv6_addr; flags interval; elements = { 2001:db8::/64 } }
  set big { type ipv4_addr; flags interval; }
  chain input { type filter hook input priority 0; policy accept; ip saddr @s4 counter; ip6 saddr @s6 counter; }
}
`;

describe.skipIf(why !== undefined)('set element updates in the kernel', () => {
  let applier: SetElementApplier | undefined;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await nft(['-f', '-'], BASE);
    applier = await createSetElementApplier({ netns: ns });
  });
  afterAll(async () => {
    await applier?.close();
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });
  const apply = (...changes: ReturnType<typeof change>[]) => (applier as SetElementApplier).apply(changes);

  it('adds and removes ipv4 intervals (single addresses, prefixes, ranges, up to 255.255.255.255)', async () => {
    const r = await apply(change('s4', ['10.1.0.0/24', '192.0.2.0-192.0.2.9'], ['10.1.0.0/25', '198.51.100.7', '203.0.113.0/24', '255.255.255.0/24', '0.0.0.0/8']));
    expect(r).toMatchObject({ messages: 2 });
    expect(await kernelSet('nltest', 's4')).toEqual(['0.0.0.0/8', '10.0.0.1', '10.1.0.0/25', '198.51.100.7', '203.0.113.0/24', '255.255.255.0/24']);
    await apply(change('s4', ['255.255.255.0/24', '0.0.0.0/8'], []));
    expect(await kernelSet('nltest', 's4')).toEqual(['10.0.0.1', '10.1.0.0/25', '198.51.100.7', '203.0.113.0/24']);
  });

  it('adds and removes ipv6 intervals, in the same batch as ipv4 changes', async () => {
    await apply(change('s6', ['2001:db8::/64'], ['2001:db8:1::/48', 'fe80::1', 'ffff::/16']), change('s4', ['198.51.100.7'], []));
    expect(await kernelSet('nltest', 's6')).toEqual(['2001:db8:1::/48', 'fe80::1', 'ffff::/16']);
    expect(await kernelSet('nltest', 's4')).toEqual(['10.0.0.1', '10.1.0.0/25', '203.0.113.0/24']);
  });

  it('a failing batch changes nothing and says which message failed and why', async () => {
    const before = await nft(['list', 'table', 'inet', 'nltest']);
    const err = await apply(change('s4', ['10.0.0.1'], ['10.77.0.0/16']), change('nosuch', [], ['10.88.0.1'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftNetlinkError);
    expect(err).toMatchObject({ code: 'KERNEL_ERROR', errno: 2, errnoName: 'ENOENT', failed: { op: 'add', table: 'nltest', set: 'nosuch' } });
    // deleting an interval that is not there fails the same way
    await expect(apply(change('s4', ['10.0.0.1', '10.99.0.0/16'], []))).rejects.toMatchObject({ code: 'KERNEL_ERROR', errno: 2, failed: { op: 'delete', set: 's4' } });
    // a wrong key length (ipv6 interval into an ipv4 set)
    await expect(apply(change('s4', [], ['2001:db8::1']))).rejects.toMatchObject({ code: 'KERNEL_ERROR', failed: { set: 's4' } });
    expect(await nft(['list', 'table', 'inet', 'nltest'])).toBe(before);
    // the socket is still good afterwards
    await apply(change('s4', [], ['10.5.5.5']));
    expect(await kernelSet('nltest', 's4')).toContain('10.5.5.5');
  });

  it('applies a large change split over several messages atomically', async () => {
    const added = Array.from({ length: 5000 }, (_, i) => `172.${16 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * 16}/28`);
    const r = await apply(change('big', [], added));
    expect(r.messages).toBeGreaterThan(1);
    expect(await kernelSet('nltest', 'big')).toHaveLength(5000);
    // removing all of them plus one that is missing: none goes
    await expect(apply(change('big', [...added, '9.9.9.9'], []))).rejects.toMatchObject({ code: 'KERNEL_ERROR' });
    expect(await kernelSet('nltest', 'big')).toHaveLength(5000);
    await apply(change('big', added, []));
    expect(await kernelSet('nltest', 'big')).toEqual([]);
  });

  it('applies what diffSetElements finds between two compiles, giving the set of the new compile', async () => {
    const tree = (extra: string[]) =>
      loadTree(
        new Map([
          ['firewall/cluster.fw', ['[OPTIONS]', 'enable: 1', '', '[IPSET office]', '192.0.2.0/24', '!192.0.2.128/25', '10.0.0.0/8', ...extra, '', '[RULES]', 'IN SSH(ACCEPT) -source +office', ''].join('\n')],
          ['nodes/n1/host.fw', '[OPTIONS]\nenable: 1\n'],
        ]),
      );
    const facts = { node: 'n1', hostAddresses: ['192.0.2.11/24'], nowSeconds: 0 };
    const a = compileNode(tree([]), facts);
    const b = compileNode(tree(['198.51.100.0/24', '!10.1.0.0/16', '2001:db8::/32']), facts);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`)]);
    await nft(['-f', '-'], renderNftText(a.ruleset, a.ownTables));
    const changes = diffSetElements(a.ruleset, b.ruleset);
    expect(changes?.length).toBeGreaterThan(0);
    await applySetElementChanges(changes ?? [], { netns: ns });
    for (const t of b.ruleset.tables.filter((x) => x.family === 'inet')) {
      for (const s of t.sets.filter((x) => x.kind === 'interval')) {
        const want = [...s.elements].sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : 0)).map(formatInterval);
        expect({ set: s.name, elems: await kernelSet(t.name, s.name) }).toEqual({ set: s.name, elems: want });
      }
    }
  });

  it('reports a namespace that does not exist', async () => {
    await expect(createSetElementApplier({ netns: `plnl-missing-${process.pid}`, startTimeoutMs: 5000 })).rejects.toMatchObject({ code: 'RELAY_ERROR' });
  });
});
