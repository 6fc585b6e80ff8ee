/**
 * IP sets and aliases as kernel sets: resolving set entries (aliases inside sets included),
 * the implicit entries pve-firewall adds (management gets `local_network`, a NIC's ipfilter
 * set gets its link-local and container addresses), and one named interval set per family.
 */
import { ipsetKernelName, resolveAlias, resolveIpSet, type FwDocument, type IpSet } from '@palisade/fw-lang';
import type { IpFamily, NamedSet } from '@palisade/nft-ir';
import type { CompileState, RuleCtx } from './compile-state.js';
import type { Topology } from './compile-types.js';
import { flattenLongestPrefix, macLinkLocal, parseCidr, type Cidr, type SetEntryInterval } from './ip.js';
import { extraEntriesKey, ipSetSourceKey } from './kernel-set-memo.js';

/** Where a kernel set's entries come from: the IP set (absent = none), its scope and the guest document it resolves aliases in. */
export interface SetSource {
  readonly set: IpSet | undefined;
  readonly from: 'cluster' | 'guest';
  readonly guestDoc: FwDocument | undefined;
}

/** The entries of an IP set as CIDRs, alias entries resolved in the set's scope; bad or unresolved entries are left out. */
export function resolveSetEntries(st: CompileState, set: IpSet, from: 'cluster' | 'guest', guestDoc: FwDocument | undefined): SetEntryInterval[] {
  const out: SetEntryInterval[] = [];
  for (const e of set.entries) {
    if (e.error) continue;
    let cidr: Cidr | undefined = parseCidr(e.cidr);
    if (!cidr) {
      const alias = resolveAlias(e.cidr, from, st.cluster, guestDoc);
      if (!alias) continue;
      cidr = parseCidr(alias.cidr);
    }
    if (cidr) out.push({ cidr, nomatch: e.nomatch });
  }
  return out;
}

/**
 * Registers (once) the kernel set of one family and returns its name. With a set memo (the
 * incremental compiler's), a set whose source is the one of a previous compile is that
 * compile's object, neither resolved nor flattened again.
 */
export function kernelSet(st: CompileState, vmid: number, name: string, family: IpFamily, source: SetSource, comment: string): string {
  const kname = ipsetKernelName(vmid, name, family);
  if (st.sets.has(kname)) return kname;
  const extra = st.extraSetEntries.get(`${vmid}/${name}`);
  const key = st.setMemo ? [comment, extraEntriesKey(extra), ...ipSetSourceKey(source.set, source.from, st.cluster, source.guestDoc)] : [];
  const kept = st.setMemo?.get(kname, key);
  if (kept !== undefined) {
    st.sets.set(kname, kept);
    return kname;
  }
  const entries = source.set ? resolveSetEntries(st, source.set, source.from, source.guestDoc) : [];
  const set: NamedSet = { name: kname, family, kind: 'interval', elements: flattenLongestPrefix([...entries, ...(extra ?? [])], family), comment };
  st.sets.set(kname, set);
  st.setMemo?.put(kname, key, set);
  return kname;
}

/** The kernel set of an `+name` reference for one family, registered at first use; undefined when the name does not resolve. */
export function ipsetRef(st: CompileState, ref: string, family: IpFamily, ctx: RuleCtx): string | undefined {
  const r = resolveIpSet(ref, ctx.from, st.cluster, ctx.guestDoc);
  if (!r) return undefined;
  const vmid = r.owner === 'guest' ? ctx.guestVmid : 0;
  const from = r.owner === 'guest' ? 'guest' : 'cluster';
  return kernelSet(st, vmid, r.set.name, family, { set: r.set, from, guestDoc: ctx.guestDoc }, r.owner === 'guest' ? `guest ${vmid} ${r.set.name}` : `cluster ${r.set.name}`);
}

/**
 * Registers the implicit IP set entries: the management set gets `local_network` (spec §6.1
 * step 3), and the ipfilter set of every firewalled NIC gets the NIC's link-local address,
 * excludes the rest of fe80::/10 and, for containers, gets the configured addresses (spec §6.8).
 */
export function registerImplicitSetEntries(st: CompileState, topology: Topology): void {
  if (topology.localNetwork !== undefined) {
    const ln = parseCidr(topology.localNetwork);
    if (ln) st.extraSetEntries.set('0/management', [{ cidr: ln, nomatch: false }]);
  }
  for (const nic of topology.nics) {
    if (!nic.firewall) continue;
    const extra: SetEntryInterval[] = [];
    const ll = nic.mac !== undefined ? macLinkLocal(nic.mac) : undefined;
    if (ll !== undefined) extra.push({ cidr: { family: 6, address: ll, prefix: 128 }, nomatch: false });
    extra.push({ cidr: parseCidr('fe80::/10') as Cidr, nomatch: true });
    if (nic.guestType === 'lxc') {
      for (const ip of [nic.ip, nic.ip6]) {
        if (ip === undefined) continue;
        const c = parseCidr(ip.split('/')[0] ?? '');
        if (c) extra.push({ cidr: c, nomatch: false });
      }
    }
    st.extraSetEntries.set(`${nic.vmid}/ipfilter-net${nic.index}`, extra);
  }
}

/** The kernel set of the cluster's `management` IP set (plus `local_network`) for one family. */
export function managementSet(st: CompileState, family: IpFamily): string {
  const set = st.cluster?.ipsets.get('management');
  return kernelSet(st, 0, 'management', family, { set, from: 'cluster', guestDoc: undefined }, 'cluster management');
}

/** The kernel set of the cluster's `blacklist` IP set for one family (the set must exist). */
export function blacklistSet(st: CompileState, family: IpFamily): string {
  const blacklist = st.cluster?.ipsets.get('blacklist');
  return kernelSet(st, 0, 'blacklist', family, { set: blacklist, from: 'cluster', guestDoc: undefined }, 'cluster blacklist');
}
