/**
 * The incremental compile of one node (issue #10): the result of `compileNode` for the same
 * inputs, deep-equal and rendering to the same bytes, but a guest whose inputs did not change
 * since the previous call costs a map lookup instead of a compile.
 *
 * A compile splits into a shared part and one part per guest. The shared part is everything
 * `compileNode` does before the guest NICs (topology facts, standard chains, host chains, the
 * security groups the host uses): it is recompiled, and every guest with it, when one of its
 * inputs changes — cluster.fw (options, groups, IP sets, aliases), the node's host.fw,
 * corosync.conf, the facts, the options, the host addresses, local network or bridges the
 * topology derives. A guest's part is what `guestChains` adds for its NICs (its chains, the
 * security group chains it is the first to use, the kernel sets it registers first, its
 * diagnostics, its dispatch and IPS entries), compiled on a copy of the shared state and kept
 * by the identity of its `.fw` document and of its NICs (which the topology builder keeps while
 * the guest's config and document are the same objects).
 *
 * Where `compileNode` lets one guest's compile depend on the guests before it, the merge
 * reproduces it: diagnostics are deduplicated in guest order, the first registration of a
 * kernel set wins in guest order, and a guest that would build a security group an earlier
 * guest already built is compiled again with that group marked as existing (kept as a variant
 * of its part). The whole-table sharing of repeated port and ICMP lists runs over every chain
 * on every call, with its per-chain work cached. Documents are immutable values: a changed
 * document is a new object (as fw-lang's tree cache gives). Pure.
 */
import { clusterOptions, hostOptions, type ClusterOptions, type FwDocument, type HostOptions } from '@palisade/fw-lang';
import { chainFingerprint, type Chain, type NamedSet, type Rule } from '@palisade/nft-ir';
import { buildTables } from './base-chains.js';
import { compileNode } from './compile.js';
import { CompileState } from './compile-state.js';
import type { CompileDiagnostic, CompileOptions, CompileResult, CompileTree, NodeFacts, Topology, TopologyNic } from './compile-types.js';
import { guestChains } from './guest-chains.js';
import { hostChains } from './host-chains.js';
import { registerImplicitSetEntries } from './ip-set-resolution.js';
import { parseRateLimit } from './log-statements.js';
import { rule } from './rule-builders.js';
import { createSharedSetsCache, shareRepeatedSetsCached, type SharedSetsCache } from './shared-sets-cache.js';
import { filterJumps, standardChains } from './standard-chains.js';
import { createTopologyBuilder } from './incremental-topology.js';
import { createKernelSetMemo, type KernelSetMemo } from './kernel-set-memo.js';
import { keptChain } from './chain-identity.js';

/** A dispatch entry of PVEFW-FWBR-IN/-OUT: fwbr name → the NIC's chain. */
type DispatchEntry = readonly [string, { readonly kind: 'jump' | 'goto'; readonly target: string }];

/** The chains guestChains writes for all NICs together; the merge rebuilds them. */
const DISPATCH_CHAINS = new Set(['PVEFW-FWBR-IN', 'PVEFW-FWBR-OUT', 'PVEFW-IPS']);

/** Chains with the dispatch entries and IPS rules that go with them: a guest's share, or all guests' merged. */
interface DispatchParts {
  readonly chains: readonly Chain[];
  readonly inEntries: readonly DispatchEntry[];
  readonly outEntries: readonly DispatchEntry[];
  readonly ipsRules: readonly Rule[];
}

/** What one guest adds to the compile, on top of the shared part. */
interface GuestPart extends DispatchParts {
  readonly sets: readonly NamedSet[];
  readonly diagnostics: readonly CompileDiagnostic[];
  /** Security group chains this part built (a later guest using them must not build them again). */
  readonly groups: readonly string[];
}

/** A guest's cached parts: by the group chains that already existed when it was compiled ("" none). */
interface GuestEntry {
  readonly doc: FwDocument | undefined;
  /** The guest's NICs from the topology builder (the same array while the guest is unchanged). */
  readonly nics: readonly TopologyNic[];
  readonly parts: Map<string, GuestPart>;
}

/** The shared part of a compile and the inputs it was built from. */
interface SharedPart {
  readonly key: string;
  readonly cluster: FwDocument | undefined;
  readonly host: FwDocument | undefined;
  readonly corosync: CompileTree['corosync'];
  readonly st: CompileState;
  readonly topology: Topology;
  readonly copts: ClusterOptions;
  readonly hopts: HostOptions;
  readonly fwbrIn: readonly Rule[];
}

/** What the last {@link IncrementalCompiler.compile} call did. */
export interface IncrementalCompileStats {
  /** The shared part was compiled again (first call, or a shared input changed). */
  readonly sharedCompiled: boolean;
  /** Guests whose part was compiled in this call. */
  readonly guestsCompiled: number;
  /** Guests whose part was taken from the previous calls. */
  readonly guestsReused: number;
}

/** A compiler of one node that keeps the previous compile's parts (see the module comment). */
export interface IncrementalCompiler {
  /** Exactly `compileNode(tree, facts, options)`, reusing what did not change since the last call. */
  compile(tree: CompileTree, facts: NodeFacts, options?: CompileOptions): CompileResult;
  /** What the last call compiled and reused (undefined before the first call). */
  readonly lastStats: IncrementalCompileStats | undefined;
}

const diagKey = (d: CompileDiagnostic): string => `${d.code}\u0000${d.message}\u0000${d.path ?? '\u0001'}\u0000${d.line ?? -1}`;

/**
 * A fresh state over `tree` holding a copy of `base`'s chains, sets, groups, diagnostics and
 * memo (`base` may come from an older tree object with the same shared documents).
 */
function forkState(base: CompileState, tree: CompileTree): CompileState {
  const st = new CompileState(tree, base.facts, base.opts);
  st.limit = base.limit;
  st.setMemo = base.setMemo;
  for (const [k, v] of base.chains) st.chains.set(k, v);
  for (const [k, v] of base.sets) st.sets.set(k, v);
  for (const g of base.groupChains) st.groupChains.add(g);
  for (const [k, v] of base.extraSetEntries) st.extraSetEntries.set(k, v);
  for (const [k, v] of base.ruleIdsByDoc) st.ruleIdsByDoc.set(k, v);
  st.diagnostics.push(...base.diagnostics);
  return st;
}

function sharedKey(tree: CompileTree, facts: NodeFacts, options: CompileOptions, copts: ClusterOptions, topology: Topology): string {
  const { nowSeconds: _now, ...rest } = facts;
  return JSON.stringify([rest, options, copts, topology.hostAddresses, topology.localNetwork ?? null, topology.bridges, tree.hosts.get(facts.node)?.path ?? null]);
}

/** Everything compileNode does before the guest NICs, as compileWith orders it. */
function compileShared(tree: CompileTree, facts: NodeFacts, options: CompileOptions, key: string, topology: Topology, copts: ClusterOptions, setMemo: KernelSetMemo): SharedPart {
  const st = new CompileState(tree, facts, options);
  st.setMemo = setMemo;
  st.limit = parseRateLimit(copts.logRateLimit);
  const hostDoc = tree.hosts.get(facts.node);
  const hopts = hostOptions(hostDoc);
  const hostPath = hostDoc?.path ?? `nodes/${facts.node}/host.fw`;
  const clusterPath = st.cluster?.path ?? 'firewall/cluster.fw';
  if (topology.hostAddresses.length === 0) st.diag('FWC06', 'no host address given and none in corosync.conf');
  // The guests' implicit entries are registered with each guest's part; the shared part reads only vmid 0's.
  registerImplicitSetEntries(st, { ...topology, nics: [] });
  standardChains(st, hopts.logLevelOut, hopts.smurfLogLevel, hopts.tcpFlagsLogLevel, st.cluster?.ipsets.get('blacklist') !== undefined);
  hostChains(st, topology, copts, hopts, { hostDoc, hostPath, clusterPath });
  // guestChains starts with these (they may register the blacklist sets): part of the shared state.
  const fwbrIn = filterJumps(st, hopts);
  return { key, cluster: tree.cluster, host: hostDoc, corosync: tree.corosync, st, topology, copts, hopts, fwbrIn };
}

/** Whether two dispatch lists map the same fwbr names to the same chains, in the same order. */
function sameEntries(a: readonly DispatchEntry[], b: readonly DispatchEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as DispatchEntry;
    const y = b[i] as DispatchEntry;
    if (x[0] !== y[0] || x[1].kind !== y[1].kind || x[1].target !== y[1].target) return false;
  }
  return true;
}

/** The dispatch chains of the last compile and what they were built from. */
interface DispatchChains extends DispatchParts {
  readonly fwbrIn: readonly Rule[];
}

/**
 * PVEFW-FWBR-IN/-OUT (and PVEFW-IPS) as guestChains ends them, over every guest's entries; the
 * previous compile's chain objects when nothing in them changed (a 1,000-entry map keeps its
 * fingerprint and text).
 */
function dispatchChains(previous: DispatchChains | undefined, fwbrIn: readonly Rule[], inEntries: DispatchEntry[], outEntries: DispatchEntry[], ipsRules: Rule[]): DispatchChains {
  if (
    previous &&
    previous.fwbrIn === fwbrIn &&
    sameEntries(previous.inEntries, inEntries) &&
    sameEntries(previous.outEntries, outEntries) &&
    previous.ipsRules.length === ipsRules.length &&
    previous.ipsRules.every((r, i) => r === ipsRules[i])
  ) {
    return previous;
  }
  const inRules: Rule[] = [...fwbrIn];
  if (inEntries.length > 0) inRules.push(rule([], [{ kind: 'vmap', key: 'iifname', entries: inEntries }]));
  const chains: Chain[] = [
    { name: 'PVEFW-FWBR-IN', rules: inRules },
    { name: 'PVEFW-FWBR-OUT', rules: outEntries.length > 0 ? [rule([], [{ kind: 'vmap', key: 'iifname', entries: outEntries }])] : [] },
  ];
  if (ipsRules.length > 0) chains.push({ name: 'PVEFW-IPS', rules: ipsRules });
  return { fwbrIn, inEntries, outEntries, ipsRules, chains };
}

function vmapEntries(chain: Chain | undefined): readonly DispatchEntry[] {
  for (const r of chain?.rules ?? []) {
    const s = r.stmts[0];
    if (s?.kind === 'vmap') return s.entries;
  }
  return [];
}

/** One guest's NICs compiled on a copy of the shared state, with `existing` group chains marked as built. */
function compileGuest(shared: SharedPart, tree: CompileTree, nics: readonly TopologyNic[], existing: readonly string[], previousChains: ReadonlyMap<string, Chain> | undefined): GuestPart {
  const st = forkState(shared.st, tree);
  const base = shared.st;
  for (const g of existing) st.groupChains.add(g);
  const topology: Topology = { ...shared.topology, nics };
  registerImplicitSetEntries(st, topology);
  guestChains(st, topology, shared.hopts);
  const chains: Chain[] = [];
  for (const [name, c] of st.chains) if (!base.chains.has(name) && !DISPATCH_CHAINS.has(name)) chains.push(keptChain(previousChains, c));
  const sets: NamedSet[] = [];
  for (const [name, s] of st.sets) if (!base.sets.has(name)) sets.push(s);
  const groups = [...st.groupChains].filter((g) => !base.groupChains.has(g) && !existing.includes(g));
  return {
    chains,
    sets,
    diagnostics: st.diagnostics.slice(base.diagnostics.length),
    groups,
    inEntries: vmapEntries(st.chains.get('PVEFW-FWBR-IN')),
    outEntries: vmapEntries(st.chains.get('PVEFW-FWBR-OUT')),
    ipsRules: st.chains.get('PVEFW-IPS')?.rules ?? [],
  };
}

/** Creates an incremental compiler; it holds the parts of the last compile (one node at a time). */
export function createIncrementalCompiler(): IncrementalCompiler {
  let shared: SharedPart | undefined;
  let guests = new Map<number, GuestEntry>();
  const setsCache: SharedSetsCache = createSharedSetsCache();
  /** The chains of the last compile by name (before the table-wide set sharing), to keep equal ones. */
  let lastChains: ReadonlyMap<string, Chain> | undefined;
  let lastStats: IncrementalCompileStats | undefined;
  const topologies = createTopologyBuilder();
  let dispatch: DispatchChains | undefined;
  // Unchanged IP sets stay the same objects when a cluster.fw change recompiles the shared part.
  const setMemo = createKernelSetMemo();

  const compile = (tree: CompileTree, facts: NodeFacts, options: CompileOptions = {}): CompileResult => {
    const { topology, guests: guestNics } = topologies.build(tree, facts);
    const copts = clusterOptions(tree.cluster, facts.nowSeconds);
    if (!copts.enable) {
      shared = undefined;
      guests = new Map();
      lastStats = { sharedCompiled: true, guestsCompiled: 0, guestsReused: 0 };
      return compileNode(tree, facts, options);
    }
    const key = sharedKey(tree, facts, options, copts, topology);
    const hostDoc = tree.hosts.get(facts.node);
    let sharedCompiled = false;
    if (!shared || shared.key !== key || shared.cluster !== tree.cluster || shared.host !== hostDoc || shared.corosync !== tree.corosync) {
      // every set of the result is registered again below: older ones can be forgotten
      setMemo.nextCompile();
      shared = compileShared(tree, facts, options, key, topology, copts, setMemo);
      // chains that came out as before are the previous objects (the planner skips them by identity)
      for (const [name, c] of shared.st.chains) shared.st.chains.set(name, keptChain(lastChains, c));
      guests = new Map();
      // not reset: it is keyed by chain object, and the kept chains find their rewritten chains in it
      sharedCompiled = true;
    }
    const base = shared.st;
    const merged = new CompileState(tree, facts, options);
    merged.limit = base.limit;
    for (const [k, v] of base.chains) merged.chains.set(k, v);
    for (const [k, v] of base.sets) merged.sets.set(k, v);
    merged.diagnostics.push(...base.diagnostics);
    const seenDiags = new Set(base.diagnostics.map(diagKey));
    const built = new Set(base.groupChains);
    const inMap: DispatchEntry[] = [];
    const outMap: DispatchEntry[] = [];
    const ipsRules: Rule[] = [];
    const nextGuests = new Map<number, GuestEntry>();
    let guestsCompiled = 0;
    let guestsReused = 0;
    for (const [vmid, nics] of guestNics) {
      const doc = tree.guests.get(vmid);
      let entry = guests.get(vmid);
      if (!entry || entry.doc !== doc || entry.nics !== nics) entry = { doc, nics, parts: new Map() };
      nextGuests.set(vmid, entry);
      let existing: string[] = [];
      let part: GuestPart | undefined;
      let compiledNow = false;
      // A part that would build a group an earlier guest built is taken in its variant that does not.
      for (;;) {
        const variant = existing.join(' ');
        part = entry.parts.get(variant);
        if (!part) {
          part = compileGuest(shared, tree, nics, existing, lastChains);
          entry.parts.set(variant, part);
          compiledNow = true;
        }
        const clash = part.groups.filter((g) => built.has(g));
        if (clash.length === 0) break;
        existing = [...new Set([...existing, ...clash])].sort();
      }
      if (compiledNow) guestsCompiled++;
      else guestsReused++;
      for (const c of part.chains) merged.chains.set(c.name, c);
      for (const s of part.sets) if (!merged.sets.has(s.name)) merged.sets.set(s.name, s);
      for (const d of part.diagnostics) {
        const k = diagKey(d);
        if (seenDiags.has(k)) continue;
        seenDiags.add(k);
        merged.diagnostics.push(d);
      }
      for (const g of part.groups) built.add(g);
      inMap.push(...part.inEntries);
      outMap.push(...part.outEntries);
      ipsRules.push(...part.ipsRules);
    }
    guests = nextGuests;
    // The tail of guestChains, over every guest's entries.
    const nextDispatch = dispatchChains(dispatch, shared.fwbrIn, inMap, outMap, ipsRules);
    dispatch = nextDispatch === dispatch ? dispatch : { ...nextDispatch, chains: nextDispatch.chains.map((c) => keptChain(lastChains, c)) };
    for (const c of dispatch.chains) merged.chains.set(c.name, c);
    const { inet, bridge } = buildTables(merged, shared.copts, shared.hopts, ipsRules.length > 0);
    const t = merged.opts.tableName;
    const result: CompileResult = {
      ruleset: { tables: [shareRepeatedSetsCached(inet, setsCache), bridge] },
      ownTables: [
        { family: 'inet', name: t },
        { family: 'bridge', name: t },
      ],
      topology,
      diagnostics: merged.diagnostics,
      enabled: true,
    };
    for (const table of result.ruleset.tables) for (const c of table.chains) chainFingerprint(c);
    lastChains = merged.chains;
    lastStats = { sharedCompiled, guestsCompiled, guestsReused };
    return result;
  };

  return {
    compile,
    get lastStats() {
      return lastStats;
    },
  };
}
