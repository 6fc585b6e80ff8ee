/**
 * Compiles the firewall configuration of one node into the intermediate ruleset, with the
 * semantics of pve-firewall (spec pve-semantics §6) expressed in nftables.
 *
 * Layout (see docs/design/guest-filtering.md for why):
 * - `table inet <name>` holds every filtering chain, named as pve-firewall names them
 *   (`PVEFW-HOST-IN`, `tap100i0-IN`, `GROUP-web-OUT`, …) so that log prefixes and traces read
 *   like the reference. Base chains `PVEFW-INPUT`, `PVEFW-OUTPUT`, `PVEFW-FORWARD` (filter
 *   priority), plus `PVEFW-PREROUTING` (raw, synflood) and `PVEFW-HELPERS` (conntrack helpers)
 *   when configured.
 * - Guests sit behind their per-NIC bridge `fwbr<V>i<N>` (as pve-firewall requires); with
 *   br_netfilter every guest frame is bridged on that fwbr and passes the inet forward hook
 *   with full conntrack. `table bridge <name>` marks the direction from the ingress port
 *   (`fwln*` = towards the guest, `tap*`/`veth*` = from the guest), and `PVEFW-FORWARD`
 *   dispatches on that mark to `PVEFW-FWBR-IN`/`PVEFW-FWBR-OUT`, then by fwbr name to the
 *   NIC's chain.
 */
import { clusterOptions, hostOptions } from '@palisade/fw-lang';
import { chainFingerprint } from '@palisade/nft-ir';
import { buildTables } from './base-chains.js';
import { CompileState } from './compile-state.js';
import type { CompileOptions, CompileResult, CompileTree, NodeFacts } from './compile-types.js';
import { guestChains } from './guest-chains.js';
import { hostChains } from './host-chains.js';
import { registerImplicitSetEntries } from './ip-set-resolution.js';
import { parseRateLimit } from './log-statements.js';
import { shareRepeatedSets } from './shared-sets.js';
import { standardChains } from './standard-chains.js';
import { buildTopology } from './topology.js';

// The public types live in compile-types.ts; this module stays the place index.ts names them from.
export * from './compile-types.js';

/**
 * The whole compile of one node, in pve-firewall's order: topology, implicit set entries,
 * standard chains, host chains, guest chains, then the base chains and tables. The order
 * matters: kernel sets keep the comment of their first registration and diagnostics keep
 * the order they were found in.
 */
function compileWith(st: CompileState): CompileResult {
  const t = st.opts.tableName;
  const ownTables = [
    { family: 'inet' as const, name: t },
    { family: 'bridge' as const, name: t },
  ];
  const topology = buildTopology(st.tree, st.facts);
  const copts = clusterOptions(st.cluster, st.facts.nowSeconds);
  if (!copts.enable) {
    return { ruleset: { tables: [] }, ownTables, topology, diagnostics: st.diagnostics, enabled: false };
  }
  st.limit = parseRateLimit(copts.logRateLimit);
  const hostDoc = st.tree.hosts.get(st.facts.node);
  const hopts = hostOptions(hostDoc);
  const hostPath = hostDoc?.path ?? `nodes/${st.facts.node}/host.fw`;
  const clusterPath = st.cluster?.path ?? 'firewall/cluster.fw';
  if (topology.hostAddresses.length === 0) st.diag('FWC06', 'no host address given and none in corosync.conf');
  registerImplicitSetEntries(st, topology);
  standardChains(st, hopts.logLevelOut, hopts.smurfLogLevel, hopts.tcpFlagsLogLevel, st.cluster?.ipsets.get('blacklist') !== undefined);
  hostChains(st, topology, copts, hopts, { hostDoc, hostPath, clusterPath });
  const { ips } = guestChains(st, topology, hopts);
  const { inet, bridge } = buildTables(st, copts, hopts, ips);
  return { ruleset: { tables: [shareRepeatedSets(inet), bridge] }, ownTables, topology, diagnostics: st.diagnostics, enabled: true };
}

/**
 * Compiles one node. Pure and deterministic: the same tree, facts and options give the same
 * ruleset. Problems that skip a rule are returned as diagnostics, never thrown.
 */
export function compileNode(tree: CompileTree, facts: NodeFacts, options: CompileOptions = {}): CompileResult {
  const result = compileWith(new CompileState(tree, facts, options));
  // the netlink planner compares compiles per chain by fingerprint: computed here, once
  for (const t of result.ruleset.tables) for (const c of t.chains) chainFingerprint(c);
  return result;
}
