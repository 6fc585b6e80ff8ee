/**
 * Ipset-only changes: when two compiled rulesets differ only in the elements of their
 * interval sets, the change can be applied as element updates (one small transaction)
 * instead of replacing the tables. Set elements are disjoint intervals exactly as the
 * compiler emitted them (no auto-merge), so deleting an old interval by its exact bounds works.
 */
import type {
  AddrInterval,
  AddrMatch,
  Chain,
  CtStateMatch,
  EtherMatch,
  FibTypeMatch,
  IcmpMatch,
  IfnameMatch,
  L4protoMatch,
  MarkMatch,
  Match,
  NamedSet,
  NfprotoMatch,
  PortMatch,
  Rule,
  Ruleset,
  SetElementChange,
  Stmt,
  Table,
  TcpFlagsMatch,
} from '@palisade/nft-ir';
import { formatInterval } from './ip.js';

const ivKey = (iv: AddrInterval): string => `${iv.family}:${iv.from.toString(16)}-${iv.to.toString(16)}`;

/**
 * Deep equality of IR values below a rule or set (plain objects, arrays, strings, numbers,
 * bigints): every key counts, keys whose value is `undefined` count as absent. Generic on
 * purpose, so a field added to the IR later is compared without anyone remembering to.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  return sameFields(a as Record<string, unknown>, b as Record<string, unknown>, undefined);
}

/** `sameValue` on the fields of two objects, skipping the keys `skip` names (one level only). */
function sameFields(ao: Record<string, unknown>, bo: Record<string, unknown>, skip: ((key: string) => boolean) | undefined): boolean {
  let count = 0;
  for (const key in ao) {
    const v = ao[key];
    if (v === undefined || (skip !== undefined && skip(key))) continue;
    count += 1;
    if (!sameValue(v, bo[key])) return false;
  }
  for (const key in bo) if (bo[key] !== undefined && !(skip !== undefined && skip(key))) count -= 1;
  return count === 0;
}

/** Set elements change by element updates; set comments name the source. */
const setSkip = (key: string): boolean => key === 'elements' || key === 'comment';
/** Sets, helpers and chains are compared on their own below. */
const tableSkip = (key: string): boolean => key === 'sets' || key === 'chains' || key === 'ctHelpers';

const sameList = <T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean => {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (!same(a[i] as T, b[i] as T)) return false;
  return true;
};
const eq = <T>(x: T, y: T): boolean => x === y;
const sameInterval = (x: AddrInterval, y: AddrInterval): boolean => x.from === y.from && x.to === y.to && x.family === y.family;
const sameRange = (x: readonly [number, number], y: readonly [number, number]): boolean => x[0] === y[0] && x[1] === y[1];

/**
 * Field-by-field equality of two matches: the hot loop of `sameStructure`, written out per
 * kind because the generic walk costs several times more on 45,000 rules. Every field of
 * every kind is compared (`set-update.test.ts` mutates each field of every match and
 * statement of the golden rulesets and expects a difference).
 */
function sameMatch(a: Match, b: Match): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'ifname': {
      const y = b as typeof a;
      return a.dir === y.dir && a.op === y.op && sameList(a.names, y.names, eq);
    }
    case 'nfproto':
      return a.family === (b as typeof a).family;
    case 'l4proto': {
      const y = b as typeof a;
      return a.op === y.op && sameList(a.protos, y.protos, eq);
    }
    case 'addr': {
      const y = b as typeof a;
      if (a.family !== y.family || a.field !== y.field || a.op !== y.op) return false;
      if ('set' in a.value) return 'set' in y.value && a.value.set === y.value.set;
      return 'intervals' in y.value && sameList(a.value.intervals, y.value.intervals, sameInterval);
    }
    case 'port': {
      const y = b as typeof a;
      return a.proto === y.proto && a.field === y.field && a.op === y.op && a.set === y.set && sameList(a.ranges, y.ranges, sameRange);
    }
    case 'icmp': {
      const y = b as typeof a;
      return a.family === y.family && a.code === y.code && a.spelling === y.spelling && a.set === y.set && sameList(a.types, y.types, eq);
    }
    case 'ctstate':
      return sameList(a.states, (b as typeof a).states, eq);
    case 'fibtype': {
      const y = b as typeof a;
      return a.field === y.field && sameList(a.types, y.types, eq);
    }
    case 'mark': {
      const y = b as typeof a;
      return a.mask === y.mask && a.value === y.value && a.op === y.op;
    }
    case 'ether': {
      const y = b as typeof a;
      return a.op === y.op && a.mac === y.mac;
    }
    case 'tcpflags': {
      const y = b as typeof a;
      return a.op === y.op && sameList(a.mask, y.mask, eq) && sameList(a.value, y.value, eq);
    }
  }
}

/** Statements: the frequent verdicts written out, everything else through the generic walk. */
function sameStmt(a: Stmt, b: Stmt): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'accept':
    case 'drop':
    case 'return':
      return sameValue(a, b);
    case 'jump':
    case 'goto':
      return a.target === (b as typeof a).target;
    default:
      return sameValue(a, b);
  }
}

function sameRule(a: Rule, b: Rule): boolean {
  return sameList(a.matches, b.matches, sameMatch) && sameList(a.stmts, b.stmts, sameStmt);
}

/**
 * Compile-time guard for the written-out comparisons above: each names the fields it compares,
 * and the build fails when an IR type gains a field that is not in its list (then add the
 * field to the comparison and here). `comment` and `origin` of a rule are skipped on purpose.
 */
type Unlisted<T, K extends keyof T> = Exclude<keyof T, K>;
/** Fails to compile when its argument is not `never` (a field left out). */
type NoneLeft<T extends never> = T;
type _AllFieldsCompared = [
  NoneLeft<Unlisted<Rule, 'matches' | 'stmts' | 'comment' | 'origin'>>,
  NoneLeft<Unlisted<IfnameMatch, 'kind' | 'dir' | 'op' | 'names'>>,
  NoneLeft<Unlisted<NfprotoMatch, 'kind' | 'family'>>,
  NoneLeft<Unlisted<L4protoMatch, 'kind' | 'op' | 'protos'>>,
  NoneLeft<Unlisted<AddrMatch, 'kind' | 'family' | 'field' | 'op' | 'value'>>,
  NoneLeft<Unlisted<PortMatch, 'kind' | 'proto' | 'field' | 'op' | 'ranges' | 'set'>>,
  NoneLeft<Unlisted<IcmpMatch, 'kind' | 'family' | 'types' | 'code' | 'spelling' | 'set'>>,
  NoneLeft<Unlisted<CtStateMatch, 'kind' | 'states'>>,
  NoneLeft<Unlisted<FibTypeMatch, 'kind' | 'field' | 'types'>>,
  NoneLeft<Unlisted<MarkMatch, 'kind' | 'mask' | 'value' | 'op'>>,
  NoneLeft<Unlisted<EtherMatch, 'kind' | 'op' | 'mac'>>,
  NoneLeft<Unlisted<TcpFlagsMatch, 'kind' | 'mask' | 'value' | 'op'>>,
  NoneLeft<Unlisted<Extract<Stmt, { kind: 'jump' }>, 'kind' | 'target'>>,
  NoneLeft<Unlisted<Extract<Stmt, { kind: 'goto' }>, 'kind' | 'target'>>,
];

/**
 * True when two tables are the same but for set elements and comments. Cheap checks of every
 * chain (name, base, rule count) come first, so that most structural changes are found without
 * a deep walk; then rule by rule, leaving at the first difference. An ipset-only change still
 * walks every rule once: this runs on every recompile of a large ruleset, so it builds no
 * strings and allocates nothing.
 */
export function sameStructure(a: Table, b: Table): boolean {
  if (a.chains.length !== b.chains.length || a.sets.length !== b.sets.length || a.ctHelpers.length !== b.ctHelpers.length) return false;
  if (!sameFields(a as unknown as Record<string, unknown>, b as unknown as Record<string, unknown>, tableSkip)) return false;
  for (let i = 0; i < a.chains.length; i += 1) {
    const x = a.chains[i] as Chain;
    const y = b.chains[i] as Chain;
    if (x.name !== y.name || x.rules.length !== y.rules.length || !sameValue(x.base, y.base)) return false;
  }
  for (let i = 0; i < a.sets.length; i += 1) {
    if (!sameFields(a.sets[i] as unknown as Record<string, unknown>, b.sets[i] as unknown as Record<string, unknown>, setSkip)) return false;
  }
  if (!sameValue(a.ctHelpers, b.ctHelpers)) return false;
  for (let i = 0; i < a.chains.length; i += 1) {
    const x = a.chains[i] as Chain;
    const y = b.chains[i] as Chain;
    if (!sameFields(x as unknown as Record<string, unknown>, y as unknown as Record<string, unknown>, chainSkip)) return false;
    if (!sameList(x.rules, y.rules, sameRule)) return false;
  }
  return true;
}

/**
 * True when two chains would put the same thing in the kernel: name, base and every rule
 * (matches, statements and comment; the origin is not in the kernel). The planner's per-chain
 * test (issue #9): it builds no strings, so comparing 45,000 rules costs milliseconds.
 */
export function sameChain(a: Chain, b: Chain): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.rules.length !== b.rules.length || !sameValue(a.base, b.base)) return false;
  for (let i = 0; i < a.rules.length; i += 1) {
    const x = a.rules[i] as Rule;
    const y = b.rules[i] as Rule;
    if (x !== y && (x.comment !== y.comment || !sameRule(x, y))) return false;
  }
  return true;
}

/** Chain fields other than its rules (compared one by one in `sameStructure`). */
const chainSkip = (key: string): boolean => key === 'rules';

function sameElements(a: readonly AddrInterval[], b: readonly AddrInterval[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as AddrInterval;
    const y = b[i] as AddrInterval;
    if (x.from !== y.from || x.to !== y.to || x.family !== y.family) return false;
  }
  return true;
}

/**
 * The element changes that turn `before` into `after`, or `undefined` when anything but set
 * elements differs (then the whole ruleset must be applied).
 */
export function diffSetElements(before: Ruleset, after: Ruleset): SetElementChange[] | undefined {
  if (before.tables.length !== after.tables.length) return undefined;
  const changes: SetElementChange[] = [];
  for (const [i, a] of after.tables.entries()) {
    const b = before.tables[i] as Table;
    if (!sameStructure(a, b)) return undefined;
    const old = new Map<string, NamedSet>(b.sets.map((s) => [s.name, s]));
    for (const s of a.sets) {
      if (s.kind !== 'interval') continue;
      const o = old.get(s.name) as NamedSet;
      // Elements come out sorted, so an unchanged set is cheap to recognise.
      if (sameElements(o.elements, s.elements)) continue;
      const oldKeys = new Set(o.elements.map(ivKey));
      const newKeys = new Set(s.elements.map(ivKey));
      const removed = o.elements.filter((e) => !newKeys.has(ivKey(e)));
      const added = s.elements.filter((e) => !oldKeys.has(ivKey(e)));
      if (removed.length > 0 || added.length > 0) changes.push({ family: a.family, table: a.name, set: s.name, removed, added });
    }
  }
  return changes;
}

/** Renders element changes as one nft transaction (deletions before additions). */
export function renderSetUpdate(changes: readonly SetElementChange[]): string {
  const out: string[] = [];
  for (const c of changes) if (c.removed.length > 0) out.push(`delete element ${c.family} ${c.table} ${c.set} { ${c.removed.map(formatInterval).join(', ')} }`);
  for (const c of changes) if (c.added.length > 0) out.push(`add element ${c.family} ${c.table} ${c.set} { ${c.added.map(formatInterval).join(', ')} }`);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
