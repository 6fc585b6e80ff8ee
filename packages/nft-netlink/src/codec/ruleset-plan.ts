/**
 * The planner: from the ruleset applied before and the new one, the messages of one batch that
 * change only what changed. A chain whose rules changed is flushed and refilled (in the same
 * transaction, so it is never seen empty), a set's elements are diffed, chains, sets and ct
 * helpers are added or removed, tables Palisade no longer has are deleted. Whatever cannot be
 * changed in place (a base chain's hook or priority, a set's type) makes the plan a full
 * replace, as does the absence of a previous ruleset. Pure: the caller sends the batch.
 */
import { chainFingerprint, type Chain, type NamedSet, type Ruleset, type Table, type ValueSet } from '@palisade/nft-ir';
import { aStr, type Attr } from './attrs.js';
import type { NftFamily } from './constants.js';
import { NftaObj, NftaSet, NftObjectType, NftObjMsg } from './nft-constants.js';
import { aU32 } from './attrs.js';
import {
  createSetIdAllocator,
  elementMessages,
  intervalElementAttrs,
  lowerChainDecl,
  lowerFullReplace,
  lowerRule,
  lowerTable,
  namedSetElements,
  newValueSet,
  valueSetElements,
  newCtHelper,
  newNamedSet,
  setKey,
  type LowerOptions,
  type SetIdAllocator,
} from './nft-lower.js';
import { delChain, delTable, flushChain, type NftMessage } from './nft-messages.js';
import { diffIntervals } from './interval-diff.js';
import { atOrByName, indexRuleset, indexTable, tableKey, type TableIndex } from './ruleset-index.js';

/**
 * A table Palisade owns, by family and name: plans create, replace and delete only these and
 * leave every other table in the kernel alone.
 */
export type OwnTable = { readonly family: string; readonly name: string };

/** What a plan changes, by kind of object (names as `family table name`). */
export interface PlanSummary {
  readonly tablesAdded: readonly string[];
  readonly tablesRemoved: readonly string[];
  readonly chainsAdded: readonly string[];
  readonly chainsChanged: readonly string[];
  readonly chainsRemoved: readonly string[];
  readonly setsAdded: readonly string[];
  readonly setsChanged: readonly string[];
  readonly setsRemoved: readonly string[];
  /** Rules sent (rules of added and refilled chains). */
  readonly rules: number;
}

/** The planner's result: the messages of one batch (neither encoded nor sent) and what they change. */
export interface RulesetPlan {
  /** `full`: replace Palisade's tables whole; `incremental`: only the changes; `unchanged`: nothing to send. */
  readonly kind: 'full' | 'incremental' | 'unchanged';
  /** Why a full replace was chosen (first apply, a change that cannot be made in place). */
  readonly reason?: string;
  readonly messages: readonly NftMessage[];
  readonly summary: PlanSummary;
}

const tkey = tableKey;
/** Same rules, compared by the fingerprint `compileNode` cached on each chain (no rule is rendered). */
const sameRules = (a: Chain, b: Chain): boolean => a === b || chainFingerprint(a) === chainFingerprint(b);
const valueSetDecl = (s: ValueSet): string => `${s.type} ${s.ranges.map(([a, b]) => `${a}-${b}`).join(',')}`;
/** Same hook and priority (a policy can be changed in place: NEWCHAIN without NLM_F_EXCL updates it). */
const sameHook = (a: Chain, b: Chain): boolean =>
  (a.base === undefined) === (b.base === undefined) && a.base?.hook === b.base?.hook && a.base?.priority === b.base?.priority;
/** Same declaration (the elements aside): family, kind, and a meter's timeout, size and comment. */
const sameSetDecl = (a: NamedSet, b: NamedSet): boolean =>
  a.family === b.family && a.kind === b.kind && a.timeoutS === b.timeoutS && a.size === b.size && a.comment === b.comment;

type MutableSummary = { -readonly [K in keyof PlanSummary]: PlanSummary[K] extends readonly string[] ? string[] : PlanSummary[K] };
const emptySummary = (): MutableSummary => ({ tablesAdded: [], tablesRemoved: [], chainsAdded: [], chainsChanged: [], chainsRemoved: [], setsAdded: [], setsChanged: [], setsRemoved: [], rules: 0 });

function fullSummary(next: Ruleset, ownTables: readonly OwnTable[]): PlanSummary {
  const names = (f: (t: Table) => readonly { name: string }[]) => next.tables.flatMap((t) => f(t).map((x) => `${tkey(t)} ${x.name}`));
  return {
    tablesAdded: next.tables.map(tkey),
    tablesRemoved: ownTables.filter((o) => !next.tables.some((t) => tkey(t) === tkey(o))).map(tkey),
    chainsAdded: names((t) => t.chains),
    chainsChanged: [],
    chainsRemoved: [],
    setsAdded: names((t) => [...t.sets, ...(t.valueSets ?? [])]),
    setsChanged: [],
    setsRemoved: [],
    rules: next.tables.reduce((n, t) => n + t.chains.reduce((m, c) => m + c.rules.length, 0), 0),
  };
}

/** The full replace of Palisade's tables (first apply, drift, or a change that needs it). */
export function planFullReplace(next: Ruleset, ownTables: readonly OwnTable[], reason: string, ids: SetIdAllocator = createSetIdAllocator(), opts: LowerOptions = {}): RulesetPlan {
  return { kind: 'full', reason, messages: lowerFullReplace(next.tables, ownTables, ids, opts), summary: fullSummary(next, ownTables) };
}

function delSet(family: NftFamily, table: string, name: string): NftMessage {
  return { msg: NftObjMsg.DELSET, family, flags: 0, attrs: [aStr(NftaSet.TABLE, table), aStr(NftaSet.NAME, name)], what: `delete set ${family} ${table} ${name}` };
}
function delCtHelper(family: NftFamily, table: string, name: string): NftMessage {
  const attrs: Attr[] = [aStr(NftaObj.TABLE, table), aStr(NftaObj.NAME, name), aU32(NftaObj.TYPE, NftObjectType.CT_HELPER)];
  return { msg: NftObjMsg.DELOBJ, family, flags: 0, attrs, what: `delete ct helper ${family} ${table} ${name}` };
}

/**
 * Plans the change from `previous` (what this applier applied last; undefined on first apply)
 * to `next`. `ownTables` are the tables Palisade owns (a full replace declares and deletes
 * each, so a missing one is no error). The cost is that of what differs: objects the two
 * rulesets share (as an incremental compile keeps them) are skipped by identity, chains are
 * compared by their cached fingerprint, sets by one walk over their elements, and the
 * previous ruleset's objects are found by name in its index (`ruleset-index.ts`, kept from the
 * plan that applied it). Only changed or added chains are lowered.
 */
export function planRuleset(previous: Ruleset | undefined, next: Ruleset, ownTables: readonly OwnTable[], ids: SetIdAllocator = createSetIdAllocator(), opts: LowerOptions = {}): RulesetPlan {
  if (previous === undefined) return planFullReplace(next, ownTables, 'first apply', ids, opts);
  if (previous === next) return { kind: 'unchanged', messages: [], summary: emptySummary() };
  const prevIndex = indexRuleset(previous);
  const nextIndex = indexRuleset(next);
  const head: NftMessage[] = [];
  const body: NftMessage[] = [];
  const tail: NftMessage[] = [];
  const s = emptySummary();
  const full = (reason: string): RulesetPlan => planFullReplace(next, ownTables, reason, createSetIdAllocator(), opts);

  for (const t of next.tables) {
    const family = t.family as NftFamily;
    const tk = tkey(t);
    const old = prevIndex.tables.get(tk);
    if (!old) {
      head.push(...lowerTable(t, ids, opts));
      s.tablesAdded.push(tk);
      s.rules += t.chains.reduce((n, c) => n + c.rules.length, 0);
      continue;
    }
    if (old.table === t) continue; // the same table object: nothing in it changed
    const now = (): TableIndex => indexTable(t);
    // what cannot change in place first (a full replace then), before any message is built
    const toFill: { chain: Chain; refill: boolean }[] = [];
    const declared: Chain[] = [];
    // Chains come sorted by name: the previous chain at the same position is nearly always the
    // one of the same name, found without a lookup in a map of 2,000 names.
    const oldChains = old.table.chains;
    let kept = 0;
    for (let i = 0; i < t.chains.length; i++) {
      const c = t.chains[i] as Chain;
      const o = atOrByName(oldChains, i, c.name, () => old.chains);
      if (o !== undefined) kept++;
      if (o === c) continue;
      if (!o) {
        declared.push(c);
        toFill.push({ chain: c, refill: false });
        s.chainsAdded.push(`${tk} ${c.name}`);
        continue;
      }
      if (!sameHook(o, c)) return full(`chain ${tk} ${c.name} changed its hook or priority`);
      const policy = o.base?.policy !== c.base?.policy;
      if (policy) declared.push(c);
      const rules = !sameRules(o, c);
      if (rules) toFill.push({ chain: c, refill: true });
      if (policy || rules) s.chainsChanged.push(`${tk} ${c.name}`);
    }
    const oldSets = t.sets.map((x, i) => atOrByName(old.table.sets, i, x.name, () => old.sets));
    let keptSets = 0;
    for (let i = 0; i < t.sets.length; i++) {
      const x = t.sets[i] as NamedSet;
      const o = oldSets[i];
      if (o !== undefined) keptSets++;
      if (o !== undefined && o !== x && !sameSetDecl(o, x)) return full(`set ${tk} ${x.name} changed its declaration`);
    }
    for (const h of t.ctHelpers) {
      const o = old.ctHelpers.get(h.name);
      if (o !== undefined && o !== h && JSON.stringify(o) !== JSON.stringify(h)) return full(`ct helper ${tk} ${h.name} changed`);
    }
    for (const x of t.valueSets ?? []) {
      const o = old.valueSets.get(x.name);
      if (o !== undefined && o !== x && valueSetDecl(o) !== valueSetDecl(x)) return full(`set ${tk} ${x.name} changed its content`);
    }
    // chains first (rules may jump to them), then objects and sets, as nft orders a table
    for (const c of declared) head.push(lowerChainDecl(family, t.name, c));
    for (const h of t.ctHelpers) if (!old.ctHelpers.has(h.name)) head.push(newCtHelper(family, t.name, h));
    const newSets = new Map<string, number>();
    for (let i = 0; i < t.sets.length; i++) {
      const x = t.sets[i] as NamedSet;
      const o = oldSets[i];
      if (o === x) continue;
      if (!o) {
        const id = ids.next();
        newSets.set(setKey(family, t.name, x.name), id);
        head.push(newNamedSet(family, t.name, x, id), ...elementMessages(family, t.name, x.name, id, namedSetElements(x)));
        s.setsAdded.push(`${tk} ${x.name}`);
        continue;
      }
      if (x.kind !== 'interval') continue; // meter contents belong to the kernel
      const d = diffIntervals(o.elements, x.elements);
      if (d === undefined) continue;
      s.setsChanged.push(`${tk} ${x.name}`);
      if (d.removed.length > 0) head.push(...elementMessages(family, t.name, x.name, undefined, d.removed.flatMap((iv) => intervalElementAttrs(iv)), 'delete'));
      if (d.added.length > 0) {
        // into a set that was empty nft first sends the INTERVAL_END at 0 (see namedSetElements)
        const elems = o.elements.length === 0 && d.removed.length === 0 ? namedSetElements({ ...x, elements: d.added }) : d.added.flatMap((iv) => intervalElementAttrs(iv));
        head.push(...elementMessages(family, t.name, x.name, undefined, elems));
      }
    }
    // shared constant sets are named by their content: only ever added or removed
    for (const x of t.valueSets ?? []) {
      if (old.valueSets.has(x.name)) continue;
      const id = ids.next();
      newSets.set(setKey(family, t.name, x.name), id);
      head.push(newValueSet(family, t.name, x, id), ...elementMessages(family, t.name, x.name, id, valueSetElements(x)));
      s.setsAdded.push(`${tk} ${x.name}`);
    }
    const ctx = { ids, newSets, ...opts };
    for (const { chain: c, refill } of toFill) {
      if (refill) body.push(flushChain(family, t.name, c.name));
      for (const r of c.rules) body.push(...lowerRule(family, t.name, c.name, r, ctx));
      s.rules += c.rules.length;
    }
    // every previous chain is still there when as many were kept as there were (names are unique)
    for (const o of kept === oldChains.length ? [] : oldChains) {
      if (now().chains.has(o.name)) continue;
      body.push(flushChain(family, t.name, o.name));
      tail.push(delChain(family, t.name, o.name));
      s.chainsRemoved.push(`${tk} ${o.name}`);
    }
    const removedSets = [...(keptSets === old.table.sets.length ? [] : old.table.sets.filter((o) => !now().sets.has(o.name))), ...(old.table.valueSets ?? []).filter((o) => !now().valueSets.has(o.name))];
    for (const o of removedSets) {
      tail.push(delSet(family, t.name, o.name));
      s.setsRemoved.push(`${tk} ${o.name}`);
    }
    for (const o of old.table.ctHelpers) if (!now().ctHelpers.has(o.name)) tail.push(delCtHelper(family, t.name, o.name));
  }
  for (const [k, old] of prevIndex.tables) {
    if (nextIndex.tables.has(k)) continue;
    tail.push(delTable(old.table.family, old.table.name));
    s.tablesRemoved.push(k);
  }
  const messages = [...head, ...body, ...tail];
  return { kind: messages.length === 0 ? 'unchanged' : 'incremental', messages, summary: s };
}
