/**
 * Drift read-back: Palisade's tables as the kernel lists them (NFT_MSG_GETCHAIN, GETRULE,
 * GETSET and, per named set, GETSETELEM dumps) against what the applied ruleset lowers to.
 * Per table the chains (base chain hook, priority and policy), per chain the rules with every
 * expression's operands and the rule's user data (the comment), the set names and the elements
 * of every named constant set (address sets, shared port sets; a meter's contents are the
 * kernel's). Both sides go through the same decoder, and each expression's attributes are
 * compared in a canonical form: sorted by type (the kernel dumps in its own order), attributes
 * whose value is all zeros dropped (the kernel dumps defaults nft does not send), set IDs
 * dropped and anonymous set names (`__set%d` / `__set12`) made one. The contents of anonymous
 * sets are not compared. Pure decoders over dumped messages, with the limits of `decodeAttrTree`.
 */
import type { Ruleset } from '@palisade/nft-ir';
import { decodeAttrTree, findAttr, type Attr } from './attrs.js';
import { readCString, toHex, view } from './bytes.js';
import { NFGENMSG_LEN, NfProto, NftaSetElemList, type NftFamily } from './constants.js';
import { decodeNetlinkMessages, type NetlinkMessage } from './decode.js';
import { NftaChain, NftaDynset, NftaExpr, NftaHook, NftaLookup, NftaRule, NftaSet, NftObjMsg, NftSetFlag } from './nft-constants.js';
import { createSetIdAllocator, lowerTable, type LowerOptions } from './nft-lower.js';
import { encodeNftBatch } from './nft-messages.js';
import type { OwnTable } from './ruleset-plan.js';

/** The listed shape of a set of tables: `family table` → chains and sets. */
export interface RulesetShape {
  /** `family table chain` → `[hook/priority/policy or '', ...rule signatures]`. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** `family table set` (anonymous sets excluded). */
  readonly sets: ReadonlySet<string>;
  /** `family table set` → its elements in canonical form, sorted (named constant sets only). */
  readonly elements: ReadonlyMap<string, readonly string[]>;
}

const FAMILY = new Map<number, string>(Object.entries(NfProto).map(([k, v]) => [v, k]));
const str = (a: Attr | undefined): string => (a && 'value' in a ? readCString(a.value) : '');
const u32 = (a: Attr | undefined): number | undefined => (a === undefined ? undefined : 'u32' in a ? a.u32 : 'value' in a && a.value.length === 4 ? view(a.value).getUint32(0, false) : undefined);
const bytes = (a: Attr | undefined): string => (a && 'value' in a ? toHex(a.value) : '');

const ANON_SET = /^__(set|map)(%d|\d+)$/;

/**
 * Canonical form of attributes: sorted by type, all-zero values dropped, nests the same way. A
 * value that parses as attributes is taken as a nest (the kernel does not flag every nest it
 * dumps; identical bytes parse identically on both sides). `drop(type, value)` may replace a
 * top-level attribute's form (a string) or leave it out (null).
 */
function canonAttrs(attrs: readonly Attr[], depth: number, drop?: (type: number, value: Uint8Array) => string | undefined | null): string {
  const parts: string[] = [];
  for (const a of attrs) {
    if ('nested' in a) {
      parts.push(`${a.type}=(${canonAttrs(a.nested, depth + 1)})`);
      continue;
    }
    if (!('value' in a)) continue;
    const d = drop?.(a.type, a.value);
    if (d === null) continue;
    if (d !== undefined) parts.push(`${a.type}=${d}`);
    else if (!a.value.every((x) => x === 0)) parts.push(`${a.type}=${canonBytes(a.value, depth + 1)}`);
  }
  return parts.sort().join(' ');
}
function canonBytes(bytes: Uint8Array, depth: number): string {
  const t = bytes.length >= 4 && depth < 6 ? decodeAttrTree(bytes) : undefined;
  return t?.ok && t.value.length > 0 ? `(${canonAttrs(t.value, depth)})` : toHex(bytes);
}
const canonOf = (a: Attr | undefined, drop?: (type: number, value: Uint8Array) => string | undefined | null): string => {
  if (!a) return '';
  if ('nested' in a) return canonAttrs(a.nested, 0, drop);
  if (!('value' in a)) return '';
  const t = decodeAttrTree(a.value);
  return t.ok ? canonAttrs(t.value, 0, drop) : toHex(a.value);
};

/** Object names (nft sends an objref's name without its NUL, the kernel lists it with one). */
const OBJREF_IMM_NAME = 2;

/** Set references in expressions: IDs dropped, anonymous names made one; object names as text. */
function setRef(name: string): (type: number, value: Uint8Array) => string | undefined | null {
  if (name === 'counter') return () => null; // its values count traffic
  if (name === 'objref') return (type, value) => (type === OBJREF_IMM_NAME ? readCString(value) : undefined);
  const [nameAttr, idAttr] = name === 'lookup' ? [NftaLookup.SET, NftaLookup.SET_ID] : name === 'dynset' ? [NftaDynset.SET_NAME, NftaDynset.SET_ID] : [-1, -1];
  return (type, value) => {
    if (type === idAttr) return null;
    if (type === nameAttr) return readCString(value).replace(ANON_SET, '__$1');
    return undefined;
  };
}

/** Each expression as its name and canonical operands. */
function exprSigs(list: Attr | undefined): string {
  if (!list || !('nested' in list)) return '';
  return list.nested
    .map((e) => {
      if (!('nested' in e)) return '?';
      const name = str(findAttr(e.nested, NftaExpr.NAME));
      const data = findAttr(e.nested, NftaExpr.DATA);
      return `${name}[${canonOf(data, setRef(name))}]`;
    })
    .join(',');
}

/** The elements of one NEWSETELEM message, canonical, the INTERVAL_END at 0 nft sends first left out. */
function elementSigs(attrs: readonly Attr[]): string[] {
  const list = findAttr(attrs, NftaSetElemList.ELEMENTS);
  const t = list && 'value' in list ? decodeAttrTree(list.value) : undefined;
  const elems = list && 'nested' in list ? list.nested : t?.ok ? t.value : [];
  return elems.map((e) => canonOf(e)).filter((c) => c !== '1=00000001 2=()');
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
// NEWSETELEM: the element list stays bytes (decoded in `elementSigs`)
const NO_NESTS: ReadonlySet<string> = new Set();

function shapeOf(entries: Iterable<{ msg: number; family: string; attrs: readonly Attr[] }>, own: ReadonlySet<string>): RulesetShape {
  const chains = new Map<string, string[]>();
  const sets = new Set<string>();
  const elements = new Map<string, string[]>();
  const meters = new Set<string>();
  const rules: { key: string; sig: string }[] = [];
  for (const e of entries) {
    if (e.msg === NftObjMsg.NEWCHAIN) {
      const table = str(findAttr(e.attrs, NftaChain.TABLE));
      if (own.has(`${e.family} ${table}`)) chains.set(`${e.family} ${table} ${str(findAttr(e.attrs, NftaChain.NAME))}`, [hookSig(e.attrs)]);
    } else if (e.msg === NftObjMsg.NEWRULE) {
      const table = str(findAttr(e.attrs, NftaRule.TABLE));
      if (own.has(`${e.family} ${table}`)) rules.push({ key: `${e.family} ${table} ${str(findAttr(e.attrs, NftaRule.CHAIN))}`, sig: `${exprSigs(findAttr(e.attrs, NftaRule.EXPRESSIONS))}|${bytes(findAttr(e.attrs, NftaRule.USERDATA))}` });
    } else if (e.msg === NftObjMsg.NEWSET) {
      const table = str(findAttr(e.attrs, NftaSet.TABLE));
      const name = str(findAttr(e.attrs, NftaSet.NAME));
      if (own.has(`${e.family} ${table}`) && !name.startsWith('__')) {
        sets.add(`${e.family} ${table} ${name}`);
        if (((u32(findAttr(e.attrs, NftaSet.FLAGS)) ?? 0) & NftSetFlag.EVAL) !== 0) meters.add(`${e.family} ${table} ${name}`);
      }
    } else if (e.msg === NftObjMsg.NEWSETELEM) {
      const table = str(findAttr(e.attrs, NftaSetElemList.TABLE));
      const name = str(findAttr(e.attrs, NftaSetElemList.SET));
      if (!own.has(`${e.family} ${table}`) || name.startsWith('__')) continue;
      const k = `${e.family} ${table} ${name}`;
      const list = elements.get(k) ?? [];
      list.push(...elementSigs(e.attrs));
      elements.set(k, list);
    }
  }
  for (const r of rules) chains.get(r.key)?.push(r.sig);
  for (const k of meters) elements.delete(k);
  for (const list of elements.values()) list.sort();
  return { chains, sets, elements };
}

/**
 * The result of `decodeListedShape`: the shape, or why the dump could not be read (the applier
 * reports that as `PROTOCOL_ERROR`).
 */
export type ShapeDecode = { readonly ok: true; readonly value: RulesetShape } | { readonly ok: false; readonly error: string };

/**
 * The shape `ruleset` lowers to (what the kernel lists after applying it): its messages encoded
 * and decoded as a dump is, so both sides are read by the same code.
 */
export function expectedShape(ruleset: Ruleset, opts: LowerOptions = {}): RulesetShape {
  const own = ruleset.tables.map((t) => ({ family: t.family, name: t.name }));
  const msgs = ruleset.tables.flatMap((t) => lowerTable(t, createSetIdAllocator(), opts));
  const enc = encodeNftBatch(msgs, { ack: 'none' });
  // our own bytes: the decoder's limits for untrusted input are sized to them
  const dec = enc.ok ? decodeNetlinkMessages(enc.value.bytes, { maxBytes: enc.value.bytes.length, maxItems: msgs.length + 2 }) : undefined;
  const shape = dec?.ok ? decodeListedShape(dec.value.slice(1, -1), own) : undefined;
  // the lowering is ours: failing to read it back is a programming error, shown as drift
  return shape?.ok ? shape.value : { chains: new Map([['(expected ruleset unreadable)', ['']]]), sets: new Set(), elements: new Map() };
}

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
  for (const k of expected.sets) {
    if (!actual.sets.has(k) || (!expected.elements.has(k) && !actual.elements.has(k))) continue;
    const want = expected.elements.get(k) ?? [];
    const got = actual.elements.get(k) ?? [];
    if (got.length !== want.length || got.some((e, i) => e !== want[i])) out.push(`set ${k} holds ${got.length} element(s) that differ from the ${want.length} applied`);
  }
  return out;
}

/** Families to dump for `ownTables`. */
export const ownFamilies = (ownTables: readonly OwnTable[]): NftFamily[] => [...new Set(ownTables.map((t) => t.family as NftFamily))];
