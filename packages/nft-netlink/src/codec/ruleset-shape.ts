/**
 * Drift read-back: the shape of Palisade's tables as the kernel lists them (NFT_MSG_GETCHAIN,
 * GETRULE, GETSET dumps) against the shape the applied ruleset lowers to. The shape is per
 * table the chains (base chain hook, priority and policy), per chain the rules as their
 * expression names plus their user data (the comment), and the set names; it catches chains,
 * rules or sets added, removed, reordered, flushed or replaced by someone else, and a changed
 * policy. It does not compare expression operands (the kernel dumps them in its own attribute
 * order): a rule edited in place with the same expression kinds and comment goes unnoticed.
 * Pure decoders over dumped messages, with the limits of `decodeAttrTree`.
 */
import type { Ruleset } from '@palisade/fw-compile';
import { decodeAttrTree, findAttr, type Attr } from './attrs.js';
import { readCString, toHex, view } from './bytes.js';
import { NFGENMSG_LEN, NfProto, type NftFamily } from './constants.js';
import type { NetlinkMessage } from './decode.js';
import { NftaChain, NftaExpr, NftaHook, NftaRule, NftaSet, NftObjMsg } from './nft-constants.js';
import { createSetIdAllocator, lowerTable } from './nft-lower.js';
import type { NftMessage } from './nft-messages.js';
import type { OwnTable } from './ruleset-plan.js';

/** The listed shape of a set of tables: `family table` → chains and sets. */
export interface RulesetShape {
  /** `family table chain` → `[hook/priority/policy or '', ...rule signatures]`. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** `family table set` (anonymous sets excluded). */
  readonly sets: ReadonlySet<string>;
}

const FAMILY = new Map<number, string>(Object.entries(NfProto).map(([k, v]) => [v, k]));
const str = (a: Attr | undefined): string => (a && 'value' in a ? readCString(a.value) : '');
const u32 = (a: Attr | undefined): number | undefined => (a === undefined ? undefined : 'u32' in a ? a.u32 : 'value' in a && a.value.length === 4 ? view(a.value).getUint32(0, false) : undefined);
const bytes = (a: Attr | undefined): string => (a && 'value' in a ? toHex(a.value) : '');

function exprNames(list: Attr | undefined): string {
  if (!list || !('nested' in list)) return '';
  return list.nested.map((e) => ('nested' in e ? str(findAttr(e.nested, NftaExpr.NAME)) : '?')).join(',');
}
function hookSig(attrs: readonly Attr[]): string {
  const hook = findAttr(attrs, NftaChain.HOOK);
  if (!hook || !('nested' in hook)) return '';
  return `${u32(findAttr(hook.nested, NftaHook.HOOKNUM))}/${(u32(findAttr(hook.nested, NftaHook.PRIORITY)) ?? 0) | 0}/${u32(findAttr(attrs, NftaChain.POLICY))}`;
}

/** The kernel does not flag every nest it dumps (`nla_nest_start_noflag`): where they are. */
const NESTS: Readonly<Record<number, ReadonlySet<string>>> = {
  [NftObjMsg.NEWRULE]: new Set([String(NftaRule.EXPRESSIONS), `${NftaRule.EXPRESSIONS}/1`]),
  [NftObjMsg.NEWCHAIN]: new Set([String(NftaChain.HOOK)]),
};
const NO_NESTS: ReadonlySet<string> = new Set();

function shapeOf(entries: Iterable<{ msg: number; family: string; attrs: readonly Attr[] }>, own: ReadonlySet<string>): RulesetShape {
  const chains = new Map<string, string[]>();
  const sets = new Set<string>();
  const rules: { key: string; sig: string }[] = [];
  for (const e of entries) {
    if (e.msg === NftObjMsg.NEWCHAIN) {
      const table = str(findAttr(e.attrs, NftaChain.TABLE));
      if (own.has(`${e.family} ${table}`)) chains.set(`${e.family} ${table} ${str(findAttr(e.attrs, NftaChain.NAME))}`, [hookSig(e.attrs)]);
    } else if (e.msg === NftObjMsg.NEWRULE) {
      const table = str(findAttr(e.attrs, NftaRule.TABLE));
      if (own.has(`${e.family} ${table}`)) rules.push({ key: `${e.family} ${table} ${str(findAttr(e.attrs, NftaRule.CHAIN))}`, sig: `${exprNames(findAttr(e.attrs, NftaRule.EXPRESSIONS))}|${bytes(findAttr(e.attrs, NftaRule.USERDATA))}` });
    } else if (e.msg === NftObjMsg.NEWSET) {
      const table = str(findAttr(e.attrs, NftaSet.TABLE));
      const name = str(findAttr(e.attrs, NftaSet.NAME));
      if (own.has(`${e.family} ${table}`) && !name.startsWith('__')) sets.add(`${e.family} ${table} ${name}`);
    }
  }
  for (const r of rules) chains.get(r.key)?.push(r.sig);
  return { chains, sets };
}

/** The shape `ruleset` lowers to (what the kernel lists after applying it). */
export function expectedShape(ruleset: Ruleset): RulesetShape {
  const own = new Set(ruleset.tables.map((t) => `${t.family} ${t.name}`));
  const msgs: NftMessage[] = ruleset.tables.flatMap((t) => lowerTable(t, createSetIdAllocator()));
  return shapeOf(msgs.map((m) => ({ msg: m.msg, family: m.family, attrs: m.attrs })), own);
}

export type ShapeDecode = { readonly ok: true; readonly value: RulesetShape } | { readonly ok: false; readonly error: string };

/** The shape of the own tables in dumped NEWCHAIN/NEWRULE/NEWSET messages (in dump order). */
export function decodeListedShape(dumped: readonly NetlinkMessage[], ownTables: readonly OwnTable[]): ShapeDecode {
  const own = new Set(ownTables.map((t) => `${t.family} ${t.name}`));
  const entries: { msg: number; family: string; attrs: readonly Attr[] }[] = [];
  for (const m of dumped) {
    if (m.payload.length < NFGENMSG_LEN) return { ok: false, error: 'dumped message without nfgenmsg' };
    const t = decodeAttrTree(m.payload.subarray(NFGENMSG_LEN), NESTS[m.type & 0xff] ?? NO_NESTS);
    if (!t.ok) return { ok: false, error: t.error };
    entries.push({ msg: m.type & 0xff, family: FAMILY.get(m.payload[0] ?? 0) ?? '?', attrs: t.value });
  }
  return { ok: true, value: shapeOf(entries, own) };
}

/** Differences between two shapes, as readable lines (empty: no drift). */
export function diffShapes(expected: RulesetShape, actual: RulesetShape): string[] {
  const out: string[] = [];
  for (const [k, want] of expected.chains) {
    const got = actual.chains.get(k);
    if (!got) out.push(`chain ${k} is missing`);
    else if (got[0] !== want[0]) out.push(`chain ${k} hook/priority/policy ${got[0]} (expected ${want[0]})`);
    else if (got.length !== want.length || got.some((r, i) => r !== want[i])) out.push(`chain ${k} has ${got.length - 1} rule(s) that differ from the ${want.length - 1} applied`);
  }
  for (const k of actual.chains.keys()) if (!expected.chains.has(k)) out.push(`chain ${k} was added by someone else`);
  for (const k of expected.sets) if (!actual.sets.has(k)) out.push(`set ${k} is missing`);
  for (const k of actual.sets) if (!expected.sets.has(k)) out.push(`set ${k} was added by someone else`);
  return out;
}

/** Families to dump for `ownTables`. */
export const ownFamilies = (ownTables: readonly OwnTable[]): NftFamily[] => [...new Set(ownTables.map((t) => t.family as NftFamily))];
