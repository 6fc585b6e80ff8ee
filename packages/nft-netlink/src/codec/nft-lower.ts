/**
 * From the compiler's intermediate ruleset (`@palisade/nft-ir`) to nf_tables messages: the
 * linearisation nft 1.0.6 performs for the rendered text (fw-compile's `nft-text.ts`), so
 * that applying these messages leaves the kernel with exactly what `nft -f` of the text
 * leaves (checked on every compiler golden, `ruleset-kernel.test.ts`). That includes nft's
 * implicit dependencies (`tcp dport` first matches `meta l4proto tcp`; `ip saddr` in an inet
 * table first matches `meta nfproto ipv4`, in a bridge table `meta protocol ip`; `icmp` needs
 * both), its shortening of byte-aligned prefixes, its anonymous sets for `{ ... }` values and
 * the set user data nft reads back to list them.
 */
import { ruleFingerprint, type Chain, type CtHelper, type Rule, type Table } from '@palisade/nft-ir';
import { aBytes, aNest, aStr, aU32 } from './attrs.js';
import { concat, encodeText } from './bytes.js';
import { NlmFlags, type NftFamily } from './constants.js';
import { encodedIntervalSetElements, encodedRule, encodeExpressions } from './encoded-message.js';
import * as E from './nft-expr.js';
import { RuleLowering, type LowerContext } from './rule-expressions.js';
import { NftaCtHelper, NftaObj, NftnlUdataRule, NftObjectType, NftObjMsg, NfHook } from './nft-constants.js';
import { delTable, newChain, newRule, newTable as newTableMsg, type NftMessage } from './nft-messages.js';
import { be16, createSetIdAllocator, lowerValueSets, newNamedSet, setKey, tlv, u8, type SetIdAllocator } from './nft-sets.js';

export {
  createSetIdAllocator,
  elementMessages,
  intervalElementAttrs,
  lowerValueSets,
  namedSetElements,
  newNamedSet,
  newValueSet,
  setKey,
  valueSetElements,
  type SetIdAllocator,
} from './nft-sets.js';
export type { LowerContext } from './rule-expressions.js';

/** How IR is lowered beyond what nft does for the rendered text. */
export interface LowerOptions {
  /** A `counter` in every rule with an origin, where the agent's counted text has one (`withRuleCounters`). */
  readonly counters?: boolean;
}

/** Rule fingerprints by rule object: a replace or a re-plan lowers the same IR again. */
const fingerprints = new WeakMap<Rule, string>();
function fingerprintOf(rule: Rule): string {
  let f = fingerprints.get(rule);
  if (f === undefined) {
    f = ruleFingerprint(rule);
    fingerprints.set(rule, f);
  }
  return f;
}

/** Appends to `out` the messages of `rule`: its anonymous sets (with elements), then the rule. */
function lowerRuleInto(out: NftMessage[], family: NftFamily, table: string, chain: string, rule: Rule, ctx: LowerContext): void {
  const origin = rule.origin;
  const counted = ctx.counters === true && origin !== undefined;
  // the cache is per table (lowerTable makes one): the key needs no family or table
  const key = ctx.exprCache ? (counted ? `c${fingerprintOf(rule)}` : fingerprintOf(rule)) : '';
  const hit = ctx.exprCache?.get(key);
  if (hit) {
    out.push(encodedRule(family, table, chain, hit, rule.comment, origin));
    return;
  }
  const l = new RuleLowering(family, table, ctx);
  for (const m of rule.matches) l.match(m);
  if (counted) l.exprs.push(E.counter());
  for (const s of rule.stmts) l.stmt(s);
  for (const m of l.pre) out.push(m);
  const exprs = encodeExpressions(l.exprs);
  if (exprs === undefined) {
    // too long for one attribute: the attribute tree, which the encoder refuses naming the rule
    const udata = rule.comment === undefined ? undefined : tlv(NftnlUdataRule.COMMENT, concat([encodeText(rule.comment), Uint8Array.of(0)]));
    out.push(newRule(family, table, chain, l.exprs, udata, origin && { path: origin.path, line: origin.line }));
    return;
  }
  if (ctx.exprCache && l.pre.length === 0) ctx.exprCache.set(key, exprs);
  out.push(encodedRule(family, table, chain, exprs, rule.comment, origin));
}

/** The messages that append `rule` to `chain`: its anonymous sets (with elements), then the rule. */
export function lowerRule(family: NftFamily, table: string, chain: string, rule: Rule, ctx: LowerContext): NftMessage[] {
  const out: NftMessage[] = [];
  lowerRuleInto(out, family, table, chain, rule, ctx);
  return out;
}

/** NEWOBJ of a conntrack helper object. */
export function newCtHelper(family: NftFamily, table: string, h: CtHelper): NftMessage {
  const l3 = h.l3proto === 'ip' ? 2 : 1;
  const proto = h.protocol === 'tcp' ? 6 : 17;
  return {
    msg: NftObjMsg.NEWOBJ,
    family,
    flags: NlmFlags.CREATE,
    attrs: [
      aStr(NftaObj.TABLE, table),
      aStr(NftaObj.NAME, h.name),
      aU32(NftaObj.TYPE, NftObjectType.CT_HELPER),
      aNest(NftaObj.DATA, [aBytes(NftaCtHelper.NAME, encodeText(h.type)), aBytes(NftaCtHelper.L3PROTO, be16(l3)), aBytes(NftaCtHelper.L4PROTO, u8(proto))]),
    ],
    what: `add ct helper ${family} ${table} ${h.name}`,
  };
}

/** NEWCHAIN of an IR chain (a base chain carries its hook, priority and policy). */
export function lowerChainDecl(family: NftFamily, table: string, c: Chain): NftMessage {
  return newChain(
    family,
    table,
    c.name,
    c.base ? { hooknum: NfHook[c.base.hook], priority: c.base.priority, policy: c.base.policy === 'accept' ? 1 : 0 } : undefined,
  );
}

/**
 * Every message that creates `t` from nothing, in nft's order: the table, every chain
 * (declared before any rule can jump to it), ct helpers, named sets with their elements, then
 * each chain's rules (anonymous sets just before the rule using them).
 */
export function lowerTable(t: Table, ids: SetIdAllocator, opts: LowerOptions = {}): NftMessage[] {
  const family = t.family as NftFamily;
  const out: NftMessage[] = [];
  const newSets = new Map<string, number>();
  out.push(newTableMsg(family, t.name));
  for (const c of t.chains) out.push(lowerChainDecl(family, t.name, c));
  for (const h of t.ctHelpers) out.push(newCtHelper(family, t.name, h));
  for (const s of t.sets) {
    const id = ids.next();
    newSets.set(setKey(family, t.name, s.name), id);
    out.push(newNamedSet(family, t.name, s, id));
    out.push(...encodedIntervalSetElements(family, t.name, s, id));
  }
  out.push(...lowerValueSets(family, t, ids, newSets));
  const ctx: LowerContext = { ids, newSets, ...opts, exprCache: new Map() };
  for (const c of t.chains) for (const r of c.rules) lowerRuleInto(out, family, t.name, c.name, r, ctx);
  return out;
}

/**
 * The full replace of Palisade's tables, as the rendered text does it: declare and delete each
 * own table (so a missing one is no error), then create every table of `ruleset`.
 */
export function lowerFullReplace(tables: readonly Table[], ownTables: readonly { readonly family: string; readonly name: string }[], ids: SetIdAllocator = createSetIdAllocator(), opts: LowerOptions = {}): NftMessage[] {
  const out: NftMessage[] = [];
  for (const t of ownTables) out.push(newTableMsg(t.family as NftFamily, t.name), delTable(t.family as NftFamily, t.name));
  for (const t of tables) out.push(...lowerTable(t, ids, opts));
  return out;
}

/**
 * A first load split for a ruleset larger than one datagram: `inert` creates the tables,
 * regular chains, objects, sets and the rules of regular chains (nothing a packet reaches:
 * no hook is registered), `live` then creates the base chains with their rules in one batch.
 * Only valid when none of the tables exists yet (a replace must stay one transaction).
 */
export function lowerStagedLoad(tables: readonly Table[], ids: SetIdAllocator = createSetIdAllocator(), opts: LowerOptions = {}): { inert: NftMessage[]; live: NftMessage[] } {
  const inert: NftMessage[] = [];
  const live: NftMessage[] = [];
  for (const t of tables) {
    const family = t.family as NftFamily;
    const newSets = new Map<string, number>();
    inert.push(newTableMsg(family, t.name));
    for (const c of t.chains) if (!c.base) inert.push(lowerChainDecl(family, t.name, c));
    for (const h of t.ctHelpers) inert.push(newCtHelper(family, t.name, h));
    for (const s of t.sets) {
      const id = ids.next();
      newSets.set(setKey(family, t.name, s.name), id);
      inert.push(newNamedSet(family, t.name, s, id), ...encodedIntervalSetElements(family, t.name, s, id));
    }
    inert.push(...lowerValueSets(family, t, ids, newSets));
    const ctx: LowerContext = { ids, newSets, ...opts, exprCache: new Map() };
    for (const c of t.chains) if (!c.base) for (const r of c.rules) lowerRuleInto(inert, family, t.name, c.name, r, ctx);
    // sets are found by name from the later batch: no set IDs there
    const liveCtx: LowerContext = { ids, newSets: new Map(), ...opts };
    for (const c of t.chains) if (c.base) live.push(lowerChainDecl(family, t.name, c));
    for (const c of t.chains) if (c.base) for (const r of c.rules) lowerRuleInto(live, family, t.name, c.name, r, liveCtx);
  }
  return { inert, live };
}
