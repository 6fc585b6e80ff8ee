/**
 * The base chains hooked into the kernel and the tables around them: PVEFW-FORWARD (conntrack,
 * REJECT answers, dispatch by the bridge port mark), PVEFW-INPUT/-OUTPUT with the host policy,
 * synflood protection and conntrack helpers in prerouting, and the bridge table that marks
 * the direction of a guest frame from its ingress port.
 */
import { findConntrackHelper, type ClusterOptions, type HostOptions } from '@palisade/fw-lang';
import type { Chain, CtHelper, Match, Rule, Table } from '@palisade/nft-ir';
import type { CompileState } from './compile-state.js';
import { ACCEPT, DROP, jump, nfproto, port, rule, single } from './rule-builders.js';

/**
 * The inet and bridge tables of the ruleset from the chains built so far plus the base chains
 * (regular chains sorted by name, then the base chains; sets sorted by name).
 */
export function buildTables(st: CompileState, copts: ClusterOptions, hopts: HostOptions, ips: boolean): { inet: Table; bridge: Table } {
  const t = st.opts.tableName;
  const { markMask, markIn, markOut } = st.opts;
  const fwbr: Match = { kind: 'ifname', dir: 'iif', op: 'eq', names: ['fwbr*'] };
  const forward: Rule[] = [];
  // pve-firewall's rule 0 (spec §6.3.4): established traffic into IPS NICs goes to the queue.
  if (ips) {
    forward.push(rule([{ kind: 'ctstate', states: ['established', 'related'] }, fwbr, { kind: 'mark', mask: markMask, value: markIn, op: 'eq' }], [jump('PVEFW-IPS')]));
  }
  forward.push(rule([{ kind: 'mark', mask: st.opts.markReject, value: st.opts.markReject, op: 'eq' }], [ACCEPT], { comment: 'REJECT answers' }));
  if (!hopts.allowInvalid) forward.push(rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]));
  forward.push(rule([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT]));
  forward.push(rule([fwbr, { kind: 'mark', mask: markMask, value: markIn, op: 'eq' }], [jump('PVEFW-FWBR-IN')]));
  forward.push(rule([fwbr, { kind: 'mark', mask: markMask, value: markOut, op: 'eq' }], [jump('PVEFW-FWBR-OUT')]));
  const inputPolicy = hopts.enable && copts.policyIn !== 'ACCEPT' ? 'drop' : 'accept';
  const outputPolicy = hopts.enable && copts.policyOut !== 'ACCEPT' ? 'drop' : 'accept';
  const baseChains: Chain[] = [];
  if (hopts.synflood) baseChains.push(synfloodChain(st, hopts.synfloodRate, hopts.synfloodBurst, hopts.tcpTimeoutSynRecv ?? 60));
  const helpers = helperObjects(hopts.conntrackHelpers);
  if (helpers.chain) baseChains.push(helpers.chain);
  baseChains.push(
    { name: 'PVEFW-INPUT', base: { hook: 'input', priority: 0, policy: inputPolicy }, rules: hopts.enable ? [rule([], [jump('PVEFW-HOST-IN')])] : [] },
    { name: 'PVEFW-OUTPUT', base: { hook: 'output', priority: 0, policy: outputPolicy }, rules: hopts.enable ? [rule([], [jump('PVEFW-HOST-OUT')])] : [] },
    { name: 'PVEFW-FORWARD', base: { hook: 'forward', priority: 0, policy: 'accept' }, rules: forward },
  );

  const chainOrder = (c: Chain): string => c.name;
  const regular = [...st.chains.values()].sort((a, b) => (chainOrder(a) < chainOrder(b) ? -1 : chainOrder(a) > chainOrder(b) ? 1 : 0));
  const sets = [...st.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const inet: Table = { family: 'inet', name: t, sets, ctHelpers: helpers.objects, chains: [...regular, ...baseChains] };
  const clear = ~markMask >>> 0;
  const bridge: Table = {
    family: 'bridge',
    name: t,
    sets: [],
    ctHelpers: [],
    chains: [
      {
        name: 'PALISADE-PORT-MARK',
        base: { hook: 'prerouting', priority: -300, policy: 'accept' },
        rules: [
          rule([], [{ kind: 'mark-set', and: clear, or: 0 }]),
          rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['fwln*'] }], [{ kind: 'mark-set', and: clear, or: markIn }]),
          rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['tap*'] }], [{ kind: 'mark-set', and: clear, or: markOut }]),
          rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['veth*'] }], [{ kind: 'mark-set', and: clear, or: markOut }]),
        ],
      },
    ],
  };
  return { inet, bridge };
}

/** PVEFW-PREROUTING: new TCP connections over `rate`/`burst` per source (/32, /64) are dropped. */
function synfloodChain(st: CompileState, rate: number, burst: number, expireS: number): Chain {
  const rules: Rule[] = [];
  for (const f of [4, 6] as const) {
    const name = `PVEFW-synflood-v${f}`;
    st.sets.set(name, { name, family: f, kind: 'meter', elements: [], timeoutS: expireS, size: 65536 });
    rules.push(
      rule(
        [nfproto(f), { kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'eq' }],
        [{ kind: 'meter-over', set: name, family: f, prefix: f === 4 ? 32 : 64, rate, burst }, DROP],
        { comment: 'protection_synflood' },
      ),
    );
  }
  return { name: 'PVEFW-PREROUTING', base: { hook: 'prerouting', priority: -300, policy: 'accept' }, rules };
}

/** The ct helper objects of `nf_conntrack_helpers` and PVEFW-HELPERS assigning them by port. */
function helperObjects(names: readonly string[]): { objects: CtHelper[]; chain?: Chain } {
  const objects: CtHelper[] = [];
  const rules: Rule[] = [];
  for (const n of names) {
    const h = findConntrackHelper(n);
    if (!h) continue;
    const name = `helper-${h.name}-${h.proto}`;
    objects.push({ name, type: h.name, protocol: h.proto, ...(h.v6 ? {} : { l3proto: 'ip' as const }) });
    const fam: Match[] = h.v6 ? [] : [nfproto(4)];
    rules.push(rule([...fam, port(h.proto, 'dport', single(h.dport))], [{ kind: 'ct-helper-set', name }]));
  }
  if (rules.length === 0) return { objects };
  return { objects, chain: { name: 'PVEFW-HELPERS', base: { hook: 'prerouting', priority: -150, policy: 'accept' }, rules } };
}
