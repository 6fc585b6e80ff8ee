/**
 * The incremental compiler against a fresh full compile: random sequences of edits to guest
 * documents (rules, options, IP sets, aliases, NICs, placement) and shared documents
 * (cluster.fw options, groups, IP sets, aliases; host.fw; corosync.conf; the facts), each step
 * compared with `compileNode` on a freshly parsed tree — deep-equal, and the same nft text and
 * libnftables JSON. The incremental side loads its tree through fw-lang's parse cache, so
 * unchanged documents are the same objects, as in the agent. Then every golden and verdict tree.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createParseCache, loadTree } from '@palisade/fw-lang';
import { describe, expect, it } from 'vitest';
import { compileNode, type CompileResult, type NodeFacts } from './compile.js';
import { createIncrementalCompiler } from './incremental-compile.js';
import { renderNftJson } from './nft-json.js';
import { renderNftText } from './nft-text.js';
import { GOLDEN_DIR, loadScenario, NFQUEUE_VERDICTS_DIR, VERDICTS_DIR } from './test-trees.js';

const VMIDS = [100, 101, 102, 103, 104, 105];

const pick = <T,>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const some = <T,>(arb: fc.Arbitrary<T>, max: number): fc.Arbitrary<T[]> => fc.array(arb, { maxLength: max });

/** Rule lines that meet the compiler's interesting paths: port lists (shared sets), groups, names, ICMP, logs, errors. */
const guestRule = pick([
  'IN ACCEPT -p tcp -dport 22',
  'IN ACCEPT -p tcp -dport 80,443',
  'OUT ACCEPT -p tcp -dport 80,443',
  'IN DROP -p udp -dport 53,5353 -log info',
  'IN ACCEPT -source dc/net1',
  'IN ACCEPT -source net1',
  'IN ACCEPT -source guestnet',
  'OUT DROP -dest +dc/ipsa',
  'OUT REJECT -dest +guestset',
  'IN ACCEPT -source +ipsa -p tcp -dport 8080',
  'IN ACCEPT -source +nosuchset',
  'GROUP web',
  'GROUP db -iface net0',
  'GROUP missing',
  'IN ACCEPT -iface net1 -p icmp -icmp-type echo-request',
  'IN ACCEPT -p ipv6-icmp -icmp-type 133',
  'IN SSH(ACCEPT)',
  'IN ACCEPT -dport 22',
  '|IN ACCEPT -p tcp -dport 9',
  'OUT ACCEPT -dest 10.0.0.0/8 -p tcp -dport 1:1024',
]);

const guestOption = pick(['enable: 0', 'ips: 1', 'ips_queues: 2:3', 'ipfilter: 1', 'macfilter: 0', 'dhcp: 1', 'ndp: 0', 'radv: 1', 'policy_in: ACCEPT', 'policy_out: DROP', 'log_level_in: info']);

const guestFw = fc.record({ options: some(guestOption, 4), rules: some(guestRule, 6), ipset: fc.boolean(), alias: fc.boolean(), firewalled: fc.boolean() }).map(
  ({ options, rules, ipset, alias, firewalled }) =>
    [
      ...(firewalled ? ['[OPTIONS]', 'enable: 1', ...options, ''] : []),
      ...(alias ? ['[ALIASES]', 'guestnet 192.168.7.0/24', ''] : []),
      ...(ipset ? ['[IPSET guestset]', '10.9.0.0/16', 'dc/net1', '', '[IPSET ipfilter-net0]', '10.1.0.5', ''] : []),
      '[RULES]',
      ...rules,
      '',
    ].join('\n'),
);

const guestConf = fc.record({ lxc: fc.boolean(), nics: fc.array(fc.record({ fw: fc.boolean(), bridge: pick(['vmbr0', 'vmbr1']), mac: fc.boolean() }), { minLength: 1, maxLength: 2 }) }).map(({ lxc, nics }) => ({
  lxc,
  text: nics
    .map((n, i) =>
      lxc
        ? `net${i}: name=eth${i},bridge=${n.bridge},${n.mac ? `hwaddr=BC:24:11:00:00:0${i},` : ''}firewall=${n.fw ? 1 : 0},ip=10.1.0.${i + 5}/24`
        : `net${i}: virtio${n.mac ? `=BC:24:11:00:01:0${i}` : ''},bridge=${n.bridge},firewall=${n.fw ? 1 : 0}`,
    )
    .join('\n')
    .concat('\n'),
}));

const clusterFw = fc
  .record({
    options: some(pick(['policy_in: ACCEPT', 'policy_out: REJECT', 'log_ratelimit: enable=1,rate=5/second,burst=10']), 2),
    groups: some(pick(['web', 'db']), 2),
    groupRules: some(pick(['IN ACCEPT -p tcp -dport 80,443', 'OUT ACCEPT -p udp -dport 53', 'IN DROP -source +ipsa', 'IN ACCEPT -source net1 -log warning', 'IN ACCEPT -source nosuch']), 3),
    ipsa: fc.boolean(),
    blacklist: fc.boolean(),
    management: fc.boolean(),
    localNetwork: fc.boolean(),
    rules: some(pick(['IN ACCEPT -p tcp -dport 8006', 'GROUP web', 'IN ACCEPT -p tcp -dport 80,443']), 2),
  })
  .map((c) =>
    [
      '[OPTIONS]',
      'enable: 1',
      ...c.options,
      '',
      '[ALIASES]',
      'net1 10.0.0.0/24',
      ...(c.localNetwork ? ['local_network 172.16.0.0/16'] : []),
      '',
      ...(c.ipsa ? ['[IPSET ipsa]', '10.2.0.0/16', 'net1', ''] : []),
      ...(c.blacklist ? ['[IPSET blacklist]', '203.0.113.0/24', ''] : []),
      ...(c.management ? ['[IPSET management]', '172.16.9.0/24', ''] : []),
      ...[...new Set(c.groups)].flatMap((g) => [`[group ${g}]`, ...c.groupRules, '']),
      '[RULES]',
      ...c.rules,
      '',
    ].join('\n'),
  );

const hostFw = some(pick(['nosmurfs: 1', 'tcpflags: 1', 'ndp: 0', 'protection_synflood: 1', 'log_level_in: info', 'enable: 0', 'nf_conntrack_helpers: ftp']), 3).chain((opts) =>
  some(pick(['IN ACCEPT -p tcp -dport 22', 'GROUP db', 'IN ACCEPT -source +ipsa', 'OUT ACCEPT -p tcp -dport 80,443']), 3).map((rules) => ['[OPTIONS]', ...opts, '', '[RULES]', ...rules, ''].join('\n')),
);

const corosync = pick(['pve2', 'pve3']).map((other) =>
  ['totem {', '  cluster_name: test', '}', 'nodelist {', '  node {', '    name: pve1', '    nodeid: 1', '    ring0_addr: 172.16.1.2', '  }', '  node {', `    name: ${other}`, '    nodeid: 2', '    ring0_addr: 172.16.1.3', '  }', '}', ''].join('\n'),
);

/** One edit of the tree or the facts. */
type Edit =
  | { readonly kind: 'put'; readonly path: string; readonly content: string }
  | { readonly kind: 'delete'; readonly path: string }
  | { readonly kind: 'move'; readonly vmid: number; readonly node: string }
  | { readonly kind: 'facts'; readonly hostAddresses: readonly string[] };

const vmid = pick(VMIDS);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(vmid, guestFw).map(([v, content]): Edit => ({ kind: 'put', path: `firewall/${v}.fw`, content })) },
  { weight: 3, arbitrary: fc.tuple(vmid, guestConf).map(([v, c]): Edit => ({ kind: 'put', path: `nodes/pve1/${c.lxc ? 'lxc' : 'qemu-server'}/${v}.conf`, content: c.text })) },
  { weight: 1, arbitrary: fc.tuple(vmid, pick(['pve1', 'pve2'])).map(([v, node]): Edit => ({ kind: 'move', vmid: v, node })) },
  { weight: 1, arbitrary: vmid.map((v): Edit => ({ kind: 'delete', path: `firewall/${v}.fw` })) },
  { weight: 2, arbitrary: clusterFw.map((content): Edit => ({ kind: 'put', path: 'firewall/cluster.fw', content })) },
  { weight: 1, arbitrary: hostFw.map((content): Edit => ({ kind: 'put', path: 'nodes/pve1/host.fw', content })) },
  { weight: 1, arbitrary: corosync.map((content): Edit => ({ kind: 'put', path: 'corosync.conf', content })) },
  { weight: 1, arbitrary: pick([[], ['172.16.1.2/24'], ['172.16.1.2/24', '2001:db8::2/64']]).map((hostAddresses): Edit => ({ kind: 'facts', hostAddresses })) },
);

function applyEdit(files: Map<string, string>, e: Edit): void {
  if (e.kind === 'put') {
    // A guest config lives in one place: a new one replaces the guest's config wherever it was.
    const m = /^nodes\/[^/]+\/(qemu-server|lxc)\/(\d+)\.conf$/.exec(e.path);
    if (m) for (const p of [...files.keys()]) if (p.endsWith(`/${m[2]}.conf`)) files.delete(p);
    files.set(e.path, e.content);
  } else if (e.kind === 'delete') {
    files.delete(e.path);
  } else if (e.kind === 'move') {
    for (const [p, content] of [...files]) {
      const m = /^nodes\/[^/]+\/(qemu-server|lxc)\/(\d+)\.conf$/.exec(p);
      if (m && Number(m[2]) === e.vmid) {
        files.delete(p);
        files.set(`nodes/${e.node}/${m[1]}/${e.vmid}.conf`, content);
      }
    }
  }
}

function initialFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set('firewall/cluster.fw', '[OPTIONS]\nenable: 1\n\n[ALIASES]\nnet1 10.0.0.0/24\n\n[IPSET ipsa]\n10.2.0.0/16\n\n[group web]\nIN ACCEPT -p tcp -dport 80,443\n');
  files.set('nodes/pve1/host.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nGROUP web\n');
  for (const v of VMIDS) {
    files.set(`nodes/pve1/qemu-server/${v}.conf`, `net0: virtio=BC:24:11:00:00:${v - 90},bridge=vmbr0,firewall=1\n`);
    files.set(`firewall/${v}.fw`, '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 22\nGROUP web\n');
  }
  return files;
}

function expectSame(actual: CompileResult, expected: CompileResult): void {
  expect(renderNftText(actual.ruleset, actual.ownTables)).toBe(renderNftText(expected.ruleset, expected.ownTables));
  expect(JSON.stringify(renderNftJson(actual.ruleset, actual.ownTables))).toBe(JSON.stringify(renderNftJson(expected.ruleset, expected.ownTables)));
  expect(actual).toStrictEqual(expected);
}

describe('incremental compile', () => {
  it('equals a fresh full compile after every step of random edit sequences', () => {
    let reused = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 25 }), (edits) => {
        const files = initialFiles();
        const cache = createParseCache();
        const compiler = createIncrementalCompiler();
        let facts: NodeFacts = { node: 'pve1', hostAddresses: ['172.16.1.2/24'], nowSeconds: 0 };
        for (const e of [{ kind: 'facts', hostAddresses: ['172.16.1.2/24'] } as Edit, ...edits]) {
          if (e.kind === 'facts') facts = { node: 'pve1', ...(e.hostAddresses.length > 0 ? { hostAddresses: e.hostAddresses } : {}), nowSeconds: 0 };
          else applyEdit(files, e);
          const incremental = compiler.compile(loadTree(files, { cache }), facts);
          reused += compiler.lastStats?.guestsReused ?? 0;
          expectSame(incremental, compileNode(loadTree(new Map(files)), facts));
        }
      }),
      { numRuns: 120, seed: 20261202 },
    );
    // The property is about reuse as much as equality: most steps must not recompile every guest.
    expect(reused).toBeGreaterThan(1000);
    // Generous: 3,000 compile pairs on two cores shared with other suites.
  }, 300_000);

  it('recompiles only the changed guest and parses only its document', () => {
    const files = initialFiles();
    const cache = createParseCache();
    const compiler = createIncrementalCompiler();
    const facts: NodeFacts = { node: 'pve1', hostAddresses: ['172.16.1.2/24'] };
    compiler.compile(loadTree(files, { cache }), facts);
    expect(compiler.lastStats).toEqual({ sharedCompiled: true, guestsCompiled: VMIDS.length, guestsReused: 0 });
    files.set('firewall/102.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 2222\n');
    const tree = loadTree(files, { cache });
    expect(cache.parsedLastLoad).toBe(1);
    const out = compiler.compile(tree, facts);
    expect(compiler.lastStats).toEqual({ sharedCompiled: false, guestsCompiled: 1, guestsReused: VMIDS.length - 1 });
    expectSame(out, compileNode(loadTree(new Map(files)), facts));
    // A shared input recompiles everything.
    files.set('firewall/cluster.fw', `${files.get('firewall/cluster.fw') ?? ''}\n[RULES]\nIN ACCEPT -p tcp -dport 8006\n`);
    const again = compiler.compile(loadTree(files, { cache }), facts);
    expect(compiler.lastStats).toEqual({ sharedCompiled: true, guestsCompiled: VMIDS.length, guestsReused: 0 });
    expectSame(again, compileNode(loadTree(new Map(files)), facts));
  });

  it('keeps the IP sets whose source did not change as the same objects when cluster.fw changes', () => {
    const files = initialFiles();
    const withSets = (extra: string): string =>
      `[OPTIONS]\nenable: 1\n\n[ALIASES]\nnet1 10.0.0.0/24\n\n[IPSET ipsa]\n10.2.0.0/16\n\n[IPSET ipsb]\n10.3.0.0/16\n${extra}\n[RULES]\nIN ACCEPT -source +ipsa\nIN ACCEPT -source +ipsb\n`;
    files.set('firewall/cluster.fw', withSets(''));
    const cache = createParseCache();
    const compiler = createIncrementalCompiler();
    const facts: NodeFacts = { node: 'pve1', hostAddresses: ['172.16.1.2/24'] };
    const setsOf = (r: CompileResult) => new Map(r.ruleset.tables.flatMap((t) => t.sets).map((x) => [x.name, x]));
    const first = compiler.compile(loadTree(files, { cache }), facts);
    const before = setsOf(first);
    files.set('firewall/cluster.fw', withSets('10.4.0.1\n'));
    const out = compiler.compile(loadTree(files, { cache }), facts);
    expect(compiler.lastStats?.sharedCompiled).toBe(true);
    expectSame(out, compileNode(loadTree(new Map(files)), facts));
    const after = setsOf(out);
    const changed = [...after].filter(([name, x]) => before.get(name) !== x).map(([name]) => name);
    // only ipsb's two kernel sets (one per family, from the same source) are new; ipsa, management and the guests' sets are the previous objects
    expect(changed.sort()).toEqual(['PVEFW-0-ipsb-v4', 'PVEFW-0-ipsb-v6']);
    expect(after.size).toBeGreaterThan(3);
    // the chains that came out as before are the previous objects (the base chains are built anew);
    // the host's input chain is new: the cluster rules in it moved one line down (origins count)
    const chainsOf = (r: CompileResult) => new Map(r.ruleset.tables.flatMap((t) => t.chains.filter((c) => c.base === undefined)).map((c) => [c.name, c]));
    const chainsBefore = chainsOf(first);
    const newChains = [...chainsOf(out)].filter(([name, c]) => chainsBefore.get(name) !== c).map(([name]) => name);
    expect(chainsBefore.size).toBeGreaterThan(10);
    expect(newChains).toEqual(['PVEFW-HOST-IN']);
    // An alias change rebuilds the sets that could name it.
    files.set('firewall/cluster.fw', withSets('10.4.0.1\n').replace('net1 10.0.0.0/24', 'net1 10.0.1.0/24'));
    const aliased = setsOf(compiler.compile(loadTree(files, { cache }), facts));
    expect([...aliased].filter(([name, x]) => after.get(name) === x && name.startsWith('PVEFW-0-ips')).map(([name]) => name)).toEqual([]);
  });

  it('equals the full compile on every golden and verdict tree, also when compiled twice', () => {
    const dirs = [GOLDEN_DIR, VERDICTS_DIR, NFQUEUE_VERDICTS_DIR].filter((d) => existsSync(d));
    let n = 0;
    for (const root of dirs) {
      for (const name of readdirSync(root).sort()) {
        const dir = join(root, name);
        if (name.startsWith('_') || !statSync(dir).isDirectory()) continue;
        const { tree, compiled, meta } = loadScenario(dir);
        const facts: NodeFacts = {
          node: meta.node ?? 'proxself',
          hostAddresses: meta.hostIp ?? ['172.16.1.2/24'],
          ...(meta.localNetwork !== undefined ? { localNetwork: meta.localNetwork } : {}),
          nowSeconds: 0,
        };
        const compiler = createIncrementalCompiler();
        expectSame(compiler.compile(tree, facts), compiled);
        expectSame(compiler.compile(tree, facts), compiled);
        n++;
      }
    }
    expect(n).toBeGreaterThan(10);
  });
});
