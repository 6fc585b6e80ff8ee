/**
 * `buildTopology` for the incremental compiler: the same topology, but each guest's NICs are
 * built by `buildTopology` itself on a tree of that guest alone and kept while its config and
 * `.fw` document are the same objects, so an unchanged guest keeps the same NIC objects (the
 * compiler then recognises its part by identity instead of comparing content). Pure.
 */
import type { FwDocument, GuestConfig } from '@palisade/fw-lang';
import type { CompileTree, NodeFacts, Topology, TopologyNic } from './compile-types.js';
import { buildTopology } from './topology.js';

/** One guest's NICs and bridges, and the documents they came from. */
interface GuestTopology {
  readonly config: GuestConfig;
  readonly doc: FwDocument | undefined;
  readonly nics: readonly TopologyNic[];
  readonly bridges: readonly string[];
}

/** The topology and each guest's NIC list (the same array object while the guest is unchanged). */
export interface TopologyWithGuests {
  readonly topology: Topology;
  /** vmid → its NICs, in vmid order; guests without NICs are left out. */
  readonly guests: readonly (readonly [number, readonly TopologyNic[]])[];
}

/** Builds topologies, keeping each guest's part between calls. */
export interface TopologyBuilder {
  /** Equal to `buildTopology(tree, facts)`, with the guests split out. */
  build(tree: CompileTree, facts: NodeFacts): TopologyWithGuests;
}

const NO_GUESTS = new Map<number, never>();

/** A topology builder with an empty cache. */
export function createTopologyBuilder(): TopologyBuilder {
  let cache = new Map<number, GuestTopology>();
  return {
    build(tree, facts) {
      // The host part: addresses and local network do not depend on the guests.
      const host = buildTopology({ ...tree, guestConfigs: NO_GUESTS }, facts);
      const vmids = [...tree.guestConfigs.entries()]
        .filter(([, g]) => g.node === facts.node)
        .map(([vmid]) => vmid)
        .sort((a, b) => a - b);
      const next = new Map<number, GuestTopology>();
      const bridges = new Set<string>(host.bridges);
      const nics: TopologyNic[] = [];
      const guests: (readonly [number, readonly TopologyNic[]])[] = [];
      for (const vmid of vmids) {
        const placed = tree.guestConfigs.get(vmid) as { readonly node: string; readonly config: GuestConfig };
        const doc = tree.guests.get(vmid);
        let g = cache.get(vmid);
        if (!g || g.config !== placed.config || g.doc !== doc) {
          const alone = buildTopology({ ...tree, guestConfigs: new Map([[vmid, placed]]), guests: doc ? new Map([[vmid, doc]]) : NO_GUESTS }, facts);
          g = { config: placed.config, doc, nics: alone.nics, bridges: alone.bridges };
        }
        next.set(vmid, g);
        for (const b of g.bridges) bridges.add(b);
        nics.push(...g.nics);
        if (g.nics.length > 0) guests.push([vmid, g.nics]);
      }
      cache = next;
      return { topology: { ...host, bridges: [...bridges].sort(), nics }, guests };
    },
  };
}
