/**
 * The chains of the firewalled guest NICs (spec §6.3.5-§6.3.11): per NIC `<iface>-IN` and
 * `<iface>-OUT` (DHCP, NDP, router advertisements, MAC and IP filters, the guest's rules and
 * policy), the dispatch chains PVEFW-FWBR-IN/-OUT by fwbr name, and PVEFW-IPS for guests
 * with `ips: 1`.
 */
import { guestOptions, type FwDocument, type HostOptions } from '@palisade/fw-lang';
import type { QueueStmt, Rule, Stmt } from '@palisade/nft-ir';
import type { CompileState, RuleCtx } from './compile-state.js';
import type { Topology } from './compile-types.js';
import { kernelSet } from './ip-set-resolution.js';
import { policyRules } from './log-statements.js';
import { translate } from './rule-lowering.js';
import { ACCEPT, DROP, icmp, nfproto, port, rule, single } from './rule-builders.js';
import { filterJumps } from './standard-chains.js';

/** Default queue when `ips_queues` is absent, as iptables' NFQUEUE without `--queue-num`. */
const DEFAULT_IPS_QUEUE: QueueStmt = { kind: 'queue', from: 0, to: 0, bypass: true };

/** Queue number or balance range of `ips_queues` (`N` or `A:B`); undefined when unusable. */
function parseIpsQueues(text: string | undefined): QueueStmt | undefined {
  if (text === undefined) return DEFAULT_IPS_QUEUE;
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] !== undefined ? Number(m[2]) : from;
  if (from > 65535 || to > 65535 || from > to) return undefined;
  return { kind: 'queue', from, to, bypass: true };
}

/**
 * Adds the chains of every filtered NIC of the topology and the dispatch chains (empty when
 * no NIC is filtered). Returns whether any NIC queues to IPS (PVEFW-IPS exists).
 */
export function guestChains(st: CompileState, topology: Topology, hopts: HostOptions): { readonly ips: boolean } {
  const fwbrIn: Rule[] = filterJumps(st, hopts);
  const inMap: [string, { kind: 'jump'; target: string }][] = [];
  const outMap: [string, { kind: 'jump'; target: string }][] = [];
  const ipsRules: Rule[] = [];
  for (const nic of topology.nics) {
    if (!nic.filtered) continue;
    const doc = st.tree.guests.get(nic.vmid) as FwDocument;
    const gopts = guestOptions(doc);
    if (!gopts) continue;
    const path = doc.path;
    const netKey = `net${nic.index}`;
    const inChain = `${nic.iface}-IN`;
    const outChain = `${nic.iface}-OUT`;
    let queue: QueueStmt | undefined;
    if (gopts.ips) {
      queue = parseIpsQueues(gopts.ipsQueues);
      if (!queue) {
        st.diag('FWC08', `ips_queues '${gopts.ipsQueues ?? ''}' is not a queue number or range of 0-65535: queue 0 used`, path);
        queue = DEFAULT_IPS_QUEUE;
      }
    }
    const acc: Stmt = queue ?? ACCEPT;
    const ctx = (dir: 'in' | 'out'): RuleCtx => ({
      chain: dir === 'in' ? inChain : outChain,
      dir,
      scope: 'guest',
      from: 'guest',
      guestDoc: doc,
      logVmid: nic.vmid,
      guestVmid: nic.vmid,
      path,
      ...(dir === 'in' && queue !== undefined ? { accept: queue } : {}),
    });
    const userRules = (dir: 'in' | 'out'): Rule[] => {
      const out: Rule[] = [];
      for (const r of doc.rules) {
        if (r.type !== dir && r.type !== 'group') continue;
        if (r.iface !== undefined && r.iface !== netKey) continue;
        out.push(...translate(st, r, ctx(dir)));
      }
      return out;
    };
    // IN
    const gin: Rule[] = [rule([], [{ kind: 'ctmark-set', value: nic.vmid }])];
    if (gopts.dhcp) {
      gin.push(rule([nfproto(4), port('udp', 'sport', single(67)), port('udp', 'dport', single(68))], [ACCEPT]));
      gin.push(rule([nfproto(6), port('udp', 'sport', single(547)), port('udp', 'dport', single(546))], [ACCEPT]));
    }
    if (gopts.ndp) gin.push(rule([icmp(6, [133, 134, 135, 136])], [acc]));
    gin.push(...userRules('in'));
    gin.push(...policyRules(st, gopts.policyIn, gopts.logLevelIn, nic.vmid, inChain, acc));
    // Established/related traffic towards this NIC is queued too (PVEFW-IPS, spec §6.3.11).
    if (queue) ipsRules.push(rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: [nic.fwbr] }], [queue], { comment: `ips ${nic.iface}` }));
    st.chains.set(inChain, { name: inChain, rules: gin });
    // OUT
    const gout: Rule[] = [rule([], [{ kind: 'ctmark-set', value: nic.vmid }])];
    if (gopts.dhcp) {
      gout.push(rule([nfproto(4), port('udp', 'sport', single(68)), port('udp', 'dport', single(67))], [ACCEPT]));
      gout.push(rule([nfproto(6), port('udp', 'sport', single(546)), port('udp', 'dport', single(547))], [ACCEPT]));
    }
    if (gopts.macfilter) {
      if (nic.mac !== undefined) gout.push(rule([{ kind: 'ether', op: 'ne', mac: nic.mac.toLowerCase() }], [DROP], { comment: 'macfilter' }));
      else st.diag('FWC05', `${netKey} has no MAC address: no MAC filter`, path);
    }
    if (!gopts.radv) gout.push(rule([icmp(6, [134])], [DROP]));
    const explicit = doc.ipsets.get(`ipfilter-${netKey}`);
    if (gopts.ipfilter || explicit) {
      for (const f of [4, 6] as const) {
        const name = kernelSet(st, nic.vmid, `ipfilter-${netKey}`, f, { set: explicit, from: 'guest', guestDoc: doc }, `guest ${nic.vmid} ipfilter-${netKey}`);
        gout.push(rule([{ kind: 'addr', family: f, field: 'saddr', op: 'ne', value: { set: name } }], [DROP], { comment: 'ipfilter' }));
      }
    }
    if (gopts.ndp) gout.push(rule([icmp(6, gopts.radv ? [133, 134, 135, 136] : [133, 135, 136])], [ACCEPT]));
    gout.push(...userRules('out'));
    gout.push(...policyRules(st, gopts.policyOut, gopts.logLevelOut, nic.vmid, outChain, ACCEPT));
    st.chains.set(outChain, { name: outChain, rules: gout });
    inMap.push([nic.fwbr, { kind: 'jump', target: inChain }]);
    outMap.push([nic.fwbr, { kind: 'jump', target: outChain }]);
  }
  if (inMap.length > 0) fwbrIn.push(rule([], [{ kind: 'vmap', key: 'iifname', entries: inMap }]));
  st.chains.set('PVEFW-FWBR-IN', { name: 'PVEFW-FWBR-IN', rules: fwbrIn });
  st.chains.set('PVEFW-FWBR-OUT', { name: 'PVEFW-FWBR-OUT', rules: outMap.length > 0 ? [rule([], [{ kind: 'vmap', key: 'iifname', entries: outMap }])] : [] });
  if (ipsRules.length > 0) st.chains.set('PVEFW-IPS', { name: 'PVEFW-IPS', rules: ipsRules });
  return { ips: ipsRules.length > 0 };
}
