/**
 * Kernel-friendly shape (issue #9): a port list or ICMP type list that several rules of one
 * table would each hold as an anonymous set becomes one named constant set (`ValueSet`) the
 * rules look up. The kernel's cost of a transaction grows with the square of the sets in it
 * (`__nft_set_trans_bind`); the benchmark ruleset's ~3,000 two-port lists and ~1,000 ICMPv6
 * neighbour-discovery lists become a handful of sets. Matching is unchanged: the set holds
 * exactly the values of the match, which keeps them for the simulator. Pure.
 */
import { icmpRun, type IcmpMatch, type Match, type PortMatch, type Rule, type Table, type ValueSet } from '@palisade/nft-ir';
import { cyrb53Hex } from './hash.js';

/** Longest content-derived name; longer lists are named by a hash of their content. */
const MAX_NAME = 60;

const rangeText = ([a, b]: readonly [number, number]): string => (a === b ? String(a) : `${a}-${b}`);

/** 53-bit string hash (cyrb53): names of long lists, collisions resolved by a suffix. */
const hash53 = cyrb53Hex;

/** The set an anonymous-set match would need, or undefined when the match needs none. */
function candidate(m: Match): { type: ValueSet['type']; ranges: readonly (readonly [number, number])[]; prefix: string } | undefined {
  if (m.kind === 'port' && m.ranges.length > 1) return { type: 'inet_service', ranges: m.ranges, prefix: 'ports' };
  if (m.kind === 'icmp' && m.types.length > 1 && icmpRun(m.types) === undefined) {
    return { type: m.family === 4 ? 'icmp_type' : 'icmpv6_type', ranges: m.types.map((t) => [t, t] as const), prefix: m.family === 4 ? 'icmp-types' : 'icmpv6-types' };
  }
  return undefined;
}

const contentKey = (type: string, ranges: readonly (readonly [number, number])[]): string => `${type} ${ranges.map(rangeText).join(',')}`;

/**
 * `t` with every anonymous port or ICMP type list used by two or more rules replaced by a
 * reference to one shared named set (added to `valueSets`, sorted by name). Lists used once
 * stay anonymous. Returns `t` itself when nothing repeats.
 */
export function shareRepeatedSets(t: Table): Table {
  const uses = new Map<string, number>();
  for (const c of t.chains) {
    for (const r of c.rules) {
      for (const m of r.matches) {
        const k = candidate(m);
        if (k) {
          const key = contentKey(k.type, k.ranges);
          uses.set(key, (uses.get(key) ?? 0) + 1);
        }
      }
    }
  }
  const names = new Map<string, string>();
  const taken = new Set(t.sets.map((s) => s.name));
  const valueSets: ValueSet[] = [...(t.valueSets ?? [])];
  for (const s of valueSets) taken.add(s.name);
  const nameFor = (k: NonNullable<ReturnType<typeof candidate>>): string => {
    const key = contentKey(k.type, k.ranges);
    let name = names.get(key);
    if (name !== undefined) return name;
    const plain = `${k.prefix}_${k.ranges.map(rangeText).join('_')}`;
    const base = plain.length <= MAX_NAME ? plain : `${k.prefix}_h${hash53(key)}`;
    name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    names.set(key, name);
    valueSets.push({ name, type: k.type, ranges: k.ranges });
    return name;
  };
  let changed = false;
  const share = (r: Rule): Rule => {
    let matches: Match[] | undefined;
    r.matches.forEach((m, i) => {
      const k = candidate(m);
      if (!k || (uses.get(contentKey(k.type, k.ranges)) ?? 0) < 2) return;
      matches ??= [...r.matches];
      matches[i] = m.kind === 'port' ? ({ ...m, set: nameFor(k) } satisfies PortMatch) : ({ ...(m as IcmpMatch), set: nameFor(k) } satisfies IcmpMatch);
    });
    if (!matches) return r;
    changed = true;
    return { ...r, matches };
  };
  const chains = t.chains.map((c) => {
    const before = changed;
    changed = false;
    const rules = c.rules.map(share);
    const touched = changed;
    changed = before || touched;
    return touched ? { ...c, rules } : c;
  });
  if (!changed) return t;
  valueSets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...t, chains, valueSets };
}
