/**
 * The host's chains PVEFW-HOST-IN and PVEFW-HOST-OUT (spec §6.3.1, §6.3.2): loopback and
 * conntrack, NDP, the standard filters, the rules of host.fw and cluster.fw, the management
 * and local_network openings, corosync between the cluster's nodes, and the policy.
 */
import type { ClusterOptions, FwDocument, HostOptions } from '@palisade/fw-lang';
import type { Match, Rule } from '@palisade/nft-ir';
import type { CompileState, RuleCtx } from './compile-state.js';
import type { Topology } from './compile-types.js';
import { cidrInterval, parseCidr, type Cidr } from './ip.js';
import { managementSet } from './ip-set-resolution.js';
import { policyRules } from './log-statements.js';
import { translate } from './rule-lowering.js';
import { ACCEPT, DROP, icmp, l4, port, rule } from './rule-builders.js';
import { filterJumps } from './standard-chains.js';

const MANAGEMENT_PORTS: readonly (readonly [number, number])[] = [
  [22, 22],
  [3128, 3128],
  [5900, 5999],
  [8006, 8006],
  [60000, 60050],
];
const LOCAL_OUT_PORTS: readonly (readonly [number, number])[] = [
  [22, 22],
  [3128, 3128],
  [5900, 5999],
  [8006, 8006],
];

/** Where the host's rules come from: host.fw and cluster.fw with their paths. */
export interface HostSources {
  readonly hostDoc: FwDocument | undefined;
  readonly hostPath: string;
  readonly clusterPath: string;
}

/**
 * Adds PVEFW-HOST-IN and PVEFW-HOST-OUT when the host firewall is enabled. Corosync's rules
 * are computed (and their diagnostics reported) either way.
 */
export function hostChains(st: CompileState, topology: Topology, copts: ClusterOptions, hopts: HostOptions, sources: HostSources): void {
  const { hostDoc, hostPath, clusterPath } = sources;
  const corosync = corosyncRules(st);
  if (hopts.enable) {
    const hin: Rule[] = [
      rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['lo'] }], [ACCEPT]),
      rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]),
      rule([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT]),
    ];
    if (hopts.ndp) hin.push(rule([icmp(6, [133, 134, 135, 136])], [ACCEPT]));
    hin.push(...filterJumps(st, hopts));
    hin.push(rule([l4(2)], [ACCEPT]));
    const hostCtx = (dir: 'in' | 'out', path: string): RuleCtx => ({
      chain: dir === 'in' ? 'PVEFW-HOST-IN' : 'PVEFW-HOST-OUT',
      dir,
      scope: 'host',
      from: 'cluster',
      logVmid: 0,
      guestVmid: 0,
      path,
    });
    for (const [doc, path] of [
      [hostDoc, hostPath],
      [st.cluster, clusterPath],
    ] as const) {
      for (const r of doc?.rules ?? []) if (r.type === 'in' || r.type === 'group') hin.push(...translate(st, r, hostCtx('in', path)));
    }
    for (const f of [4, 6] as const) {
      hin.push(
        rule([{ kind: 'addr', family: f, field: 'saddr', op: 'eq', value: { set: managementSet(st, f) } }, port('tcp', 'dport', MANAGEMENT_PORTS)], [ACCEPT], {
          comment: 'management',
        }),
      );
    }
    hin.push(...corosync.in);
    hin.push(...policyRules(st, copts.policyIn, hopts.logLevelIn, 0, 'PVEFW-HOST-IN', ACCEPT));
    st.chains.set('PVEFW-HOST-IN', { name: 'PVEFW-HOST-IN', rules: hin });

    const hout: Rule[] = [
      rule([{ kind: 'ifname', dir: 'oif', op: 'eq', names: ['lo'] }], [ACCEPT]),
      rule([{ kind: 'mark', mask: st.opts.markReject, value: st.opts.markReject, op: 'eq' }], [ACCEPT], { comment: 'REJECT answers' }),
      rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]),
      rule([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT]),
    ];
    if (hopts.ndp) hout.push(rule([icmp(6, [133, 135, 136])], [ACCEPT]));
    hout.push(rule([l4(2)], [ACCEPT]));
    for (const [doc, path] of [
      [hostDoc, hostPath],
      [st.cluster, clusterPath],
    ] as const) {
      for (const r of doc?.rules ?? []) if (r.type === 'out' || r.type === 'group') hout.push(...translate(st, r, hostCtx('out', path)));
    }
    const ln = topology.localNetwork !== undefined ? parseCidr(topology.localNetwork) : undefined;
    if (ln) {
      hout.push(
        rule([{ kind: 'addr', family: ln.family, field: 'daddr', op: 'eq', value: { intervals: [cidrInterval(ln)] } }, port('tcp', 'dport', LOCAL_OUT_PORTS)], [ACCEPT], {
          comment: 'local_network management',
        }),
      );
    }
    hout.push(...corosync.out);
    hout.push(...policyRules(st, copts.policyOut, hopts.logLevelOut, 0, 'PVEFW-HOST-OUT', ACCEPT));
    st.chains.set('PVEFW-HOST-OUT', { name: 'PVEFW-HOST-OUT', rules: hout });
  }
}

/** Corosync (UDP 5404-5405) with each peer on each common ring, and multicast for the udp transport. */
function corosyncRules(st: CompileState): { in: Rule[]; out: Rule[] } {
  const cs = st.tree.corosync;
  const res = { in: [] as Rule[], out: [] as Rule[] };
  if (!cs) return res;
  const coro = port('udp', 'dport', [[5404, 5405]]);
  if (cs.transport === 'udp') {
    res.in.push(rule([{ kind: 'fibtype', field: 'daddr', types: ['multicast'] }, coro], [ACCEPT], { comment: 'corosync multicast' }));
    res.out.push(rule([{ kind: 'fibtype', field: 'daddr', types: ['multicast'] }, coro], [ACCEPT], { comment: 'corosync multicast' }));
  }
  const me = cs.nodes.find((n) => n.name === st.facts.node);
  if (!me) return res;
  const peers = cs.nodes.filter((n) => n.name !== st.facts.node).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const peer of peers) {
    for (const ring of [...peer.rings.keys()].sort((a, b) => a - b)) {
      const localAddr = me.rings.get(ring);
      const peerAddr = peer.rings.get(ring) as string;
      if (localAddr === undefined) continue;
      const l = parseCidr(localAddr);
      const p = parseCidr(peerAddr);
      if (!l || !p) {
        st.diag('FWC07', `corosync ring${ring} of ${peer.name}: '${l ? peerAddr : localAddr}' is not an address`, cs.path);
        continue;
      }
      if (l.family !== p.family) continue;
      const a = (field: 'saddr' | 'daddr', c: Cidr): Match => ({ kind: 'addr', family: c.family, field, op: 'eq', value: { intervals: [cidrInterval(c)] } });
      res.in.push(rule([a('saddr', p), a('daddr', l), coro], [ACCEPT], { comment: `corosync ${peer.name} ring${ring}` }));
      res.out.push(rule([a('saddr', l), a('daddr', p), coro], [ACCEPT], { comment: `corosync ${peer.name} ring${ring}` }));
    }
  }
  return res;
}
