/**
 * `shareRepeatedSets` for a compile that reuses most of its chains from the previous one (the
 * incremental compiler): the same result, byte for byte, but each chain's candidate lists are
 * found once per chain object, and a chain whose shared-set names did not change keeps the
 * rewritten chain object of the previous compile (so its fingerprint and rendering stay cached
 * too). Which lists are shared is a whole-table question (a list used twice anywhere), so the
 * use counts are summed over every chain on every call; that walk covers only the candidate
 * matches. Pure.
 */
import { icmpRun, type Chain, type IcmpMatch, type Match, type PortMatch, type Rule, type Table, type ValueSet } from '@palisade/nft-ir';
import { cyrb53Hex } from './hash.js';

/** Longest content-derived name; longer lists are named by a hash of their content (as shareRepeatedSets). */
const MAX_NAME = 60;

const rangeText = ([a, b]: readonly [number, number]): string => (a === b ? String(a) : `${a}-${b}`);

/** One match of a chain that would need an anonymous set. */
interface Candidate {
  readonly rule: number;
  readonly match: number;
  readonly key: string;
  readonly type: ValueSet['type'];
  readonly ranges: readonly (readonly [number, number])[];
  readonly prefix: string;
}

function candidateOf(m: Match, rule: number, match: number): Candidate | undefined {
  if (m.kind === 'port' && m.ranges.length > 1) {
    return { rule, match, key: `inet_service ${m.ranges.map(rangeText).join(',')}`, type: 'inet_service', ranges: m.ranges, prefix: 'ports' };
  }
  if (m.kind === 'icmp' && m.types.length > 1 && icmpRun(m.types) === undefined) {
    const type = m.family === 4 ? 'icmp_type' : 'icmpv6_type';
    const ranges = m.types.map((t) => [t, t] as const);
    return { rule, match, key: `${type} ${ranges.map(rangeText).join(',')}`, type, ranges, prefix: m.family === 4 ? 'icmp-types' : 'icmpv6-types' };
  }
  return undefined;
}

/** What the cache keeps between calls; one per incremental compiler. */
export interface SharedSetsCache {
  /** The candidate matches of a chain object, in rule and match order. */
  readonly candidates: WeakMap<Chain, readonly Candidate[]>;
  /** The rewritten chain of a chain object and the set names it was rewritten with. */
  readonly rewritten: WeakMap<Chain, { readonly names: string; readonly chain: Chain }>;
}

/** An empty cache for {@link shareRepeatedSetsCached}. */
export function createSharedSetsCache(): SharedSetsCache {
  return { candidates: new WeakMap(), rewritten: new WeakMap() };
}

function candidatesOf(cache: SharedSetsCache, c: Chain): readonly Candidate[] {
  let list = cache.candidates.get(c);
  if (list) return list;
  const found: Candidate[] = [];
  c.rules.forEach((r, ri) => {
    r.matches.forEach((m, mi) => {
      const k = candidateOf(m, ri, mi);
      if (k) found.push(k);
    });
  });
  list = found;
  cache.candidates.set(c, list);
  return list;
}

/**
 * Exactly `shareRepeatedSets(t)` (the same names, the same value sets, the same rules; `t` itself
 * when nothing repeats), with the per-chain work cached in `cache` across calls.
 */
export function shareRepeatedSetsCached(t: Table, cache: SharedSetsCache): Table {
  const perChain = t.chains.map((c) => candidatesOf(cache, c));
  const uses = new Map<string, number>();
  for (const list of perChain) for (const k of list) uses.set(k.key, (uses.get(k.key) ?? 0) + 1);
  const names = new Map<string, string>();
  const taken = new Set(t.sets.map((s) => s.name));
  const valueSets: ValueSet[] = [...(t.valueSets ?? [])];
  for (const s of valueSets) taken.add(s.name);
  // Names are handed out in chain, rule and match order, as shareRepeatedSets does.
  const nameFor = (k: Candidate): string => {
    let name = names.get(k.key);
    if (name !== undefined) return name;
    const plain = `${k.prefix}_${k.ranges.map(rangeText).join('_')}`;
    const base = plain.length <= MAX_NAME ? plain : `${k.prefix}_h${cyrb53Hex(k.key)}`;
    name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    names.set(k.key, name);
    valueSets.push({ name, type: k.type, ranges: k.ranges });
    return name;
  };
  let changed = false;
  const chains = t.chains.map((c, ci) => {
    const shared = (perChain[ci] ?? []).filter((k) => (uses.get(k.key) ?? 0) >= 2);
    if (shared.length === 0) return c;
    changed = true;
    const setNames = shared.map(nameFor);
    const signature = setNames.join(' ');
    const previous = cache.rewritten.get(c);
    if (previous && previous.names === signature) return previous.chain;
    const rules: Rule[] = [...c.rules];
    shared.forEach((k, i) => {
      const r = rules[k.rule] as Rule;
      const matches = [...r.matches];
      const m = matches[k.match] as Match;
      const set = setNames[i] as string;
      matches[k.match] = m.kind === 'port' ? ({ ...m, set } satisfies PortMatch) : ({ ...(m as IcmpMatch), set } satisfies IcmpMatch);
      rules[k.rule] = { ...r, matches };
    });
    const chain: Chain = { ...c, rules };
    cache.rewritten.set(c, { names: signature, chain });
    return chain;
  });
  if (!changed) return t;
  valueSets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...t, chains, valueSets };
}
