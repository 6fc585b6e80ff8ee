/**
 * The planner: from the ruleset applied before and the new one, the messages of one batch that
 * change only what changed. A chain whose rules changed is flushed and refilled (in the same
 * transaction, so it is never seen empty), a set's elements are diffed, chains, sets and ct
 * helpers are added or removed, tables Palisade no longer has are deleted. Whatever cannot be
 * changed in place (a base chain's hook or priority, a set's type) makes the plan a full
 * replace, as does the absence of a previous ruleset. Pure: the caller sends the batch.
 */
import type { AddrInterval, Chain, NamedSet, Ruleset, Table, ValueSet } from '@palisade/fw-compile';
import { chainFingerprint } from '@palisade/fw-compile';
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

export interface RulesetPlan {
  /** `full`: replace Palisade's tables whole; `incremental`: only the changes; `unchanged`: nothing to send. */
  readonly kind: 'full' | 'incremental' | 'unchanged';
  /** Why a full replace was chosen (first apply, a change that cannot be made in place). */
  readonly reason?: string;
  readonly messages: readonly NftMessage[];
  readonly summary: PlanSummary;
}

const tkey = (t: { family: string; name: string }): string => `${t.family} ${t.name}`;
/** Same rules, compared by the fingerprint `compileNode` cached on each chain (no rule is rendered). */
const sameRules = (a: Chain, b: Chain): boolean => a === b || chainFingerprint(a) === chainFingerprint(b);
const valueSetDecl = (s: ValueSet): string => `${s.type} ${s.ranges.map(([a, b]) => `${a}-${b}`).join(',')}`;
/** Same hook and priority (a policy can be changed in place: NEWCHAIN without NLM_F_EXCL updates it). */
const sameHook = (a: Chain, b: Chain): boolean =>
  (a.base === undefined) === (b.base === undefined) && a.base?.hook === b.base?.hook && a.base?.priority === b.base?.priority;
const setDecl = (s: NamedSet): string => JSON.stringify([s.family, s.kind, s.timeoutS ?? null, s.size ?? null, s.comment ?? null]);
const ivKey = (iv: AddrInterval): string => `${iv.family}:${iv.from}-${iv.to}`;
/** Element lists come out of the compiler sorted: equal lists are equal element by element. */
function sameElements(a: readonly AddrInterval[], b: readonly AddrInterval[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as AddrInterval;
    const y = b[i] as AddrInterval;
    if (x.from !== y.from || x.to !== y.to || x.family !== y.family) return false;
  }
  return true;
}

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
 * each, so a missing one is no error).
 */
export function planRuleset(previous: Ruleset | undefined, next: Ruleset, ownTables: readonly OwnTable[], ids: SetIdAllocator = createSetIdAllocator(), opts: LowerOptions = {}): RulesetPlan {
  if (previous === undefined) return planFullReplace(next, ownTables, 'first apply', ids, opts);
  const prevTables = new Map(previous.tables.map((t) => [tkey(t), t]));
  const head: NftMessage[] = [];
  const body: NftMessage[] = [];
  const tail: NftMessage[] = [];
  const s = { tablesAdded: [] as string[], tablesRemoved: [] as string[], chainsAdded: [] as string[], chainsChanged: [] as string[], chainsRemoved: [] as string[], setsAdded: [] as string[], setsChanged: [] as string[], setsRemoved: [] as string[], rules: 0 };

  for (const t of next.tables) {
    const family = t.family as NftFamily;
    const old = prevTables.get(tkey(t));
    prevTables.delete(tkey(t));
    if (!old) {
      head.push(...lowerTable(t, ids, opts));
      s.tablesAdded.push(tkey(t));
      s.rules += t.chains.reduce((n, c) => n + c.rules.length, 0);
      continue;
    }
    const oldChains = new Map(old.chains.map((c) => [c.name, c]));
    const oldSets = new Map(old.sets.map((x) => [x.name, x]));
    const oldHelpers = new Map(old.ctHelpers.map((h) => [h.name, h]));
    for (const c of t.chains) {
      const o = oldChains.get(c.name);
      if (o && !sameHook(o, c)) return planFullReplace(next, ownTables, `chain ${tkey(t)} ${c.name} changed its hook or priority`, createSetIdAllocator(), opts);
    }
    for (const x of t.sets) {
      const o = oldSets.get(x.name);
      if (o && setDecl(o) !== setDecl(x)) return planFullReplace(next, ownTables, `set ${tkey(t)} ${x.name} changed its declaration`, createSetIdAllocator(), opts);
    }
    for (const h of t.ctHelpers) {
      const o = oldHelpers.get(h.name);
      if (o && JSON.stringify(o) !== JSON.stringify(h)) return planFullReplace(next, ownTables, `ct helper ${tkey(t)} ${h.name} changed`, createSetIdAllocator(), opts);
    }
    const oldValueSets = new Map((old.valueSets ?? []).map((x) => [x.name, x]));
    for (const x of t.valueSets ?? []) {
      const o = oldValueSets.get(x.name);
      if (o && valueSetDecl(o) !== valueSetDecl(x)) return planFullReplace(next, ownTables, `set ${tkey(t)} ${x.name} changed its content`, createSetIdAllocator(), opts);
    }
    // chains first (rules may jump to them), then objects and sets, as nft orders a table
    for (const c of t.chains) {
      const o = oldChains.get(c.name);
      if (!o) {
        head.push(lowerChainDecl(family, t.name, c));
        s.chainsAdded.push(`${tkey(t)} ${c.name}`);
      } else if (o.base?.policy !== c.base?.policy) {
        head.push(lowerChainDecl(family, t.name, c));
        s.chainsChanged.push(`${tkey(t)} ${c.name}`);
      }
    }
    for (const h of t.ctHelpers) if (!oldHelpers.has(h.name)) head.push(newCtHelper(family, t.name, h));
    const newSets = new Map<string, number>();
    for (const x of t.sets) {
      const o = oldSets.get(x.name);
      if (!o) {
        const id = ids.next();
        newSets.set(setKey(family, t.name, x.name), id);
        head.push(newNamedSet(family, t.name, x, id), ...elementMessages(family, t.name, x.name, id, namedSetElements(x)));
        s.setsAdded.push(`${tkey(t)} ${x.name}`);
        continue;
      }
      if (x.kind !== 'interval') continue; // meter contents belong to the kernel
      if (sameElements(o.elements, x.elements)) continue; // the usual case: no strings built
      const before = new Map(o.elements.map((iv) => [ivKey(iv), iv]));
      const after = new Map(x.elements.map((iv) => [ivKey(iv), iv]));
      const removed = [...before].filter(([k]) => !after.has(k)).map(([, iv]) => iv);
      const added = [...after].filter(([k]) => !before.has(k)).map(([, iv]) => iv);
      if (removed.length === 0 && added.length === 0) continue;
      s.setsChanged.push(`${tkey(t)} ${x.name}`);
      if (removed.length > 0) head.push(...elementMessages(family, t.name, x.name, undefined, removed.flatMap((iv) => intervalElementAttrs(iv)), 'delete'));
      if (added.length > 0) {
        // into a set that was empty nft first sends the INTERVAL_END at 0 (see namedSetElements)
        const elems = o.elements.length === 0 && removed.length === 0 ? namedSetElements({ ...x, elements: added }) : added.flatMap((iv) => intervalElementAttrs(iv));
        head.push(...elementMessages(family, t.name, x.name, undefined, elems));
      }
    }
    // shared constant sets are named by their content: only ever added or removed
    for (const x of t.valueSets ?? []) {
      if (oldValueSets.has(x.name)) continue;
      const id = ids.next();
      newSets.set(setKey(family, t.name, x.name), id);
      head.push(newValueSet(family, t.name, x, id), ...elementMessages(family, t.name, x.name, id, valueSetElements(x)));
      s.setsAdded.push(`${tkey(t)} ${x.name}`);
    }
    const ctx = { ids, newSets, ...opts };
    for (const c of t.chains) {
      const o = oldChains.get(c.name);
      if (o) {
        if (sameRules(o, c)) continue;
        body.push(flushChain(family, t.name, c.name));
        if (!s.chainsChanged.includes(`${tkey(t)} ${c.name}`)) s.chainsChanged.push(`${tkey(t)} ${c.name}`);
      }
      for (const r of c.rules) body.push(...lowerRule(family, t.name, c.name, r, ctx));
      s.rules += c.rules.length;
    }
    const nextChains = new Set(t.chains.map((c) => c.name));
    for (const o of old.chains) {
      if (nextChains.has(o.name)) continue;
      body.push(flushChain(family, t.name, o.name));
      tail.push(delChain(family, t.name, o.name));
      s.chainsRemoved.push(`${tkey(t)} ${o.name}`);
    }
    const nextSets = new Set(t.sets.map((x) => x.name));
    for (const o of old.sets) {
      if (nextSets.has(o.name)) continue;
      tail.push(delSet(family, t.name, o.name));
      s.setsRemoved.push(`${tkey(t)} ${o.name}`);
    }
    const nextValueSets = new Set((t.valueSets ?? []).map((x) => x.name));
    for (const o of old.valueSets ?? []) {
      if (nextValueSets.has(o.name)) continue;
      tail.push(delSet(family, t.name, o.name));
      s.setsRemoved.push(`${tkey(t)} ${o.name}`);
    }
    const nextHelpers = new Set(t.ctHelpers.map((h) => h.name));
    for (const o of old.ctHelpers) if (!nextHelpers.has(o.name)) tail.push(delCtHelper(family, t.name, o.name));
  }
  for (const old of prevTables.values()) {
    tail.push(delTable(old.family, old.name));
    s.tablesRemoved.push(tkey(old));
  }
  const messages = [...head, ...body, ...tail];
  return { kind: messages.length === 0 ? 'unchanged' : 'incremental', messages, summary: s };
}
