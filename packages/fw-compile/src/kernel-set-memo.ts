/**
 * Kernel sets kept across compiles by what they are built from (issue #9): an incremental
 * compile that recompiles the shared part (any `cluster.fw` change) hands back the previous
 * compile's set object for every IP set whose source did not change, so the planner skips it by
 * identity instead of walking its elements, and the compile skips resolving and flattening it.
 * The source key is cheap (the entries as written, the aliases in scope, the implicit entries),
 * never the flattened elements. Two generations: a set not registered by one compile is
 * forgotten after the next. Pure.
 */
import type { Alias, FwDocument, IpSet } from '@palisade/fw-lang';
import type { NamedSet } from '@palisade/nft-ir';
import type { SetEntryInterval } from './ip.js';

/**
 * What a kernel set is built from, in parts compared one by one: each part is a string cached
 * by the object it describes (the IP set, the documents' aliases), so the key of a set that
 * 1,000 guests register costs pointer comparisons, not 1,000 comparisons of its entries.
 */
export type SetSourceKey = readonly string[];

/** The sets of the previous and the current compile by kernel name, with their source keys. */
export interface KernelSetMemo {
  /** The set registered under `kname` with this source key, by the current or the previous compile. */
  get(kname: string, key: SetSourceKey): NamedSet | undefined;
  put(kname: string, key: SetSourceKey, set: NamedSet): void;
  /** A compile begins: what the one before the last registered is forgotten. */
  nextCompile(): void;
}

const sameKey = (a: SetSourceKey, b: SetSourceKey): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * An empty memo; the incremental compiler keeps one for its lifetime and calls `nextCompile()`
 * before each compile of the shared part, so a set unused for two such compiles is let go.
 */
export function createKernelSetMemo(): KernelSetMemo {
  let previous = new Map<string, { readonly key: SetSourceKey; readonly set: NamedSet }>();
  let current = new Map<string, { readonly key: SetSourceKey; readonly set: NamedSet }>();
  return {
    get(kname, key) {
      const hit = current.get(kname) ?? previous.get(kname);
      if (hit === undefined || !sameKey(hit.key, key)) return undefined;
      // kept with this key's strings: the next comparison with them is by pointer
      current.set(kname, { key, set: hit.set });
      return hit.set;
    },
    put(kname, key, set) {
      current.set(kname, { key, set });
    },
    nextCompile() {
      previous = current;
      current = new Map();
    },
  };
}

const aliasKeys = new WeakMap<ReadonlyMap<string, Alias>, string>();
/** The aliases of a document as one string (computed once per parsed document). */
function aliasesKey(doc: FwDocument | undefined): string {
  if (doc === undefined) return '';
  let k = aliasKeys.get(doc.aliases);
  if (k === undefined) {
    k = [...doc.aliases].map(([name, a]) => `${name}=${a.cidr}`).join(',');
    aliasKeys.set(doc.aliases, k);
  }
  return k;
}

const entryKeys = new WeakMap<IpSet, string>();
/** An IP set's entries as written, with their flags (computed once per parsed set). */
function entriesKey(set: IpSet): string {
  let k = entryKeys.get(set);
  if (k === undefined) {
    const parts: string[] = new Array<string>(set.entries.length);
    for (let i = 0; i < set.entries.length; i++) {
      const e = set.entries[i] as IpSet['entries'][number];
      parts[i] = `${e.error ? '?' : ''}${e.nomatch ? '!' : ''}${e.cidr}`;
    }
    k = parts.join(',');
    entryKeys.set(set, k);
  }
  return k;
}

/**
 * What an IP set's resolved entries depend on: its entries as written (with their flags) and the
 * aliases they may name (the cluster's, and the guest's for a guest set). A changed alias
 * anywhere in scope changes the key of every set in that scope, which is conservative.
 */
export function ipSetSourceKey(set: IpSet | undefined, from: 'cluster' | 'guest', cluster: FwDocument | undefined, guestDoc: FwDocument | undefined): SetSourceKey {
  if (set === undefined) return ['-'];
  return [entriesKey(set), aliasesKey(cluster), from === 'guest' ? aliasesKey(guestDoc) : ''];
}

/** The implicit entries added to a set (few: `local_network`, a NIC's link-local address). */
export function extraEntriesKey(extra: readonly SetEntryInterval[] | undefined): string {
  if (extra === undefined) return '';
  return extra.map((e) => `${e.nomatch ? '!' : ''}${e.cidr.family}:${e.cidr.address.toString(16)}/${e.cidr.prefix}`).join(',');
}
