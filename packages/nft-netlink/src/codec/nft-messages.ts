/**
 * nf_tables object messages (tables, chains, rules, sets, set elements, objects) and the
 * nfnetlink batch that carries them. Pure: builders return attribute trees, the batch encoder
 * returns bytes. Attribute layouts and their order are those of libnftnl 1.2 as nft 1.0.6 sends
 * them (checked byte for byte, `nft-messages.test.ts`); structures from `linux/netfilter/nf_tables.h`
 * and `linux/netfilter/nfnetlink.h`.
 */
import { aNest, aStr, aU32, attrsBytes, attrsBytesChecked, writeAttrs, type Attr } from './attrs.js';
import { view } from './bytes.js';
import { NFGENMSG_LEN, NFNETLINK_V0, NFNL_SUBSYS_NFTABLES, NFT_NAME_MAXLEN, NfnlMsg, NfProto, NlmFlags, NLMSG_HDRLEN, type NftFamily } from './constants.js';
import type { BatchMessageInfo, EncodeResult, EncodedBatch } from './encode.js';
import { EncodedMessage } from './encoded-message.js';
import { NFNL_BATCH_GENID, NftaChain, NftaHook, NftaRule, NftaTable, NftObjMsg } from './nft-constants.js';

/** One nf_tables request of a batch. */
export interface NftMessage {
  /** The low byte of `nlmsg_type` (`NFT_MSG_*`). */
  readonly msg: NftObjMsg;
  readonly family: NftFamily;
  /** `nlmsg_flags` besides NLM_F_REQUEST and NLM_F_ACK (NLM_F_CREATE, NLM_F_APPEND, ...). */
  readonly flags: number;
  readonly attrs: readonly Attr[];
  /** What the message does, for error reports (`add rule to inet palisade PVEFW-HOST-IN (firewall/cluster.fw:12)`). */
  readonly what: string;
  /** The source document and line of a rule, when known. */
  readonly origin?: { readonly path: string; readonly line: number };
  /**
   * `attrs` already encoded (`encoded-message.ts`: rules and element lists of a whole load):
   * the encoder copies these bytes instead of walking `attrs`.
   */
  readonly body?: Uint8Array;
}

/** A table declaration (`table inet palisade`): NLM_F_REQUEST only, as nft sends it (creates when missing). */
export function newTable(family: NftFamily, name: string): NftMessage {
  return { msg: NftObjMsg.NEWTABLE, family, flags: 0, attrs: [aStr(NftaTable.NAME, name), aU32(NftaTable.FLAGS, 0)], what: `add table ${family} ${name}` };
}

/** `delete table`: removes the table and everything in it. */
export function delTable(family: NftFamily, name: string): NftMessage {
  return { msg: NftObjMsg.DELTABLE, family, flags: 0, attrs: [aStr(NftaTable.NAME, name)], what: `delete table ${family} ${name}` };
}

/** A base chain's hook: `type filter hook H priority P; policy X;`. */
export interface ChainHook {
  /** `NF_INET_*` hook number. */
  readonly hooknum: number;
  readonly priority: number;
  /** `NF_ACCEPT` (1) or `NF_DROP` (0). */
  readonly policy: 0 | 1;
}

/**
 * `add chain`: with `hook` a base chain of type filter on that hook, without it a regular chain
 * reached only by jump or goto. Sent without NLM_F_EXCL, so an existing chain is updated (its
 * policy) rather than refused.
 */
export function newChain(family: NftFamily, table: string, name: string, hook?: ChainHook): NftMessage {
  const attrs: Attr[] = [aStr(NftaChain.TABLE, table), aStr(NftaChain.NAME, name)];
  if (hook) {
    attrs.push(aStr(NftaChain.TYPE, 'filter'), aU32(NftaChain.POLICY, hook.policy));
    attrs.push(aNest(NftaChain.HOOK, [aU32(NftaHook.HOOKNUM, hook.hooknum), aU32(NftaHook.PRIORITY, hook.priority)]));
  }
  return { msg: NftObjMsg.NEWCHAIN, family, flags: NlmFlags.CREATE, attrs, what: `add chain ${family} ${table} ${name}` };
}

/**
 * `delete chain`: the kernel refuses it while a rule still jumps to the chain, so the planner
 * sends it at the end of the batch, after the chain is flushed and the rules are refilled.
 */
export function delChain(family: NftFamily, table: string, name: string): NftMessage {
  return { msg: NftObjMsg.DELCHAIN, family, flags: 0, attrs: [aStr(NftaChain.TABLE, table), aStr(NftaChain.NAME, name)], what: `delete chain ${family} ${table} ${name}` };
}

/** `flush chain`: NFT_MSG_DELRULE naming only the chain deletes all its rules. */
export function flushChain(family: NftFamily, table: string, name: string): NftMessage {
  return { msg: NftObjMsg.DELRULE, family, flags: 0, attrs: [aStr(NftaRule.TABLE, table), aStr(NftaRule.CHAIN, name)], what: `flush chain ${family} ${table} ${name}` };
}

/** NLM_F_APPEND: the rule goes to the end of the chain. */
export const NLM_F_APPEND = 0x800;

/** A rule: its expressions (each an `NFTA_LIST_ELEM`) and an optional comment (rule user data). */
export function newRule(
  family: NftFamily,
  table: string,
  chain: string,
  exprs: readonly Attr[],
  userdata: Uint8Array | undefined,
  origin?: { readonly path: string; readonly line: number },
): NftMessage {
  const attrs: Attr[] = [aStr(NftaRule.TABLE, table), aStr(NftaRule.CHAIN, chain), aNest(NftaRule.EXPRESSIONS, exprs)];
  if (userdata) attrs.push({ type: NftaRule.USERDATA, value: userdata });
  const at = origin ? ` (${origin.path}:${origin.line})` : '';
  return { msg: NftObjMsg.NEWRULE, family, flags: NlmFlags.CREATE | NLM_F_APPEND, attrs, what: `add rule to ${family} ${table} ${chain}${at}`, ...(origin ? { origin } : {}) };
}

/** Options of `encodeNftBatch`. */
export interface NftBatchOptions {
  /** `nlmsg_seq` of BATCH_BEGIN; the messages count up from it. Default 0. */
  readonly seq?: number;
  /**
   * Which messages ask for an ack: `last` (default) only the last one, which the kernel answers
   * after every error of the batch, so its arrival completes the answer; `all` every message
   * (as nft's `--echo` paths do); `none` no message (tests comparing bytes with nft's, which
   * sends no NLM_F_ACK).
   */
  readonly ack?: 'last' | 'all' | 'none';
  /** `NFNL_BATCH_GENID`: the kernel refuses the batch with ERESTART when the ruleset generation moved on. */
  readonly genId?: number;
}

function nameError(attrs: readonly Attr[]): string | undefined {
  for (const a of attrs) {
    if ('value' in a && a.value.length > NFT_NAME_MAXLEN && a.value[a.value.length - 1] === 0 && a.type <= 3) return `name of ${a.value.length - 1} bytes (at most ${NFT_NAME_MAXLEN - 1})`;
  }
  return undefined;
}

function header(v: DataView, at: number, len: number, type: number, flags: number, seq: number, family: number, resId: number): void {
  v.setUint32(at, len, true);
  v.setUint16(at + 4, type, true);
  v.setUint16(at + 6, flags, true);
  v.setUint32(at + 8, seq >>> 0, true);
  v.setUint32(at + 12, 0, true);
  v.setUint8(at + 16, family);
  v.setUint8(at + 17, NFNETLINK_V0);
  v.setUint16(at + 18, resId, false);
}

/** Encoded attribute bytes of `m`, -1 when an attribute is too long for its u16 length. */
function bodyBytes(m: NftMessage): number {
  if (m instanceof EncodedMessage) return m.end - m.start;
  if (m.body !== undefined) return m.body.length;
  return attrsBytesChecked(m.attrs);
}

/** What each message of a batch is, for error reports: built only when asked (a whole load has ~47,000). */
function batchInfos(messages: readonly NftMessage[], seq0: number): BatchMessageInfo[] {
  const infos: BatchMessageInfo[] = [{ seq: seq0, index: 0, kind: 'begin' }];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as NftMessage;
    infos.push({ seq: (seq0 + i + 1) >>> 0, index: i + 1, kind: 'object', family: m.family, what: m.what, ...(m.origin ? { origin: { path: m.origin.path, line: m.origin.line } } : {}) });
  }
  infos.push({ seq: (seq0 + messages.length + 1) >>> 0, index: messages.length + 1, kind: 'end' });
  return infos;
}

/**
 * Encodes `messages` as one nfnetlink batch (BATCH_BEGIN, the messages, BATCH_END) into one
 * buffer. Fails as a result on an unknown family, an over-long name or an attribute too long
 * for its u16 length (split element lists first). Messages encoded by the lowering (`body`)
 * are copied as they are; `messages` of the result is built on first access.
 */
export function encodeNftBatch(messages: readonly NftMessage[], options: NftBatchOptions = {}): EncodeResult<EncodedBatch> {
  const seq0 = (options.seq ?? 0) >>> 0;
  const ackMode = options.ack ?? 'last';
  const beginAttrs: Attr[] = options.genId === undefined ? [] : [aU32(NFNL_BATCH_GENID, options.genId)];
  let total = 2 * (NLMSG_HDRLEN + NFGENMSG_LEN) + attrsBytes(beginAttrs);
  const sizes = new Int32Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as NftMessage;
    if (!(m.family in NfProto) || (m.family as string) === 'unspec') return { ok: false, error: `message ${i + 1} (${m.what}): unknown family "${m.family}"` };
    // an encoded body was written by the lowering from names its table and chain messages carry (checked there)
    const bad = m instanceof EncodedMessage || m.body !== undefined ? undefined : nameError(m.attrs);
    if (bad !== undefined) return { ok: false, error: `message ${i + 1} (${m.what}): ${bad}` };
    const body = bodyBytes(m);
    if (body < 0) return { ok: false, error: `message ${i + 1} (${m.what}): an attribute exceeds 65535 bytes` };
    const n = NLMSG_HDRLEN + NFGENMSG_LEN + body;
    sizes[i] = n;
    total += n;
  }
  const out = new Uint8Array(total);
  const dv = view(out);
  const ackSeqs: number[] = [];
  const beginLen = NLMSG_HDRLEN + NFGENMSG_LEN + attrsBytes(beginAttrs);
  header(dv, 0, beginLen, NfnlMsg.BATCH_BEGIN, NlmFlags.REQUEST, seq0, NfProto.unspec, NFNL_SUBSYS_NFTABLES);
  writeAttrs(out, NLMSG_HDRLEN + NFGENMSG_LEN, beginAttrs, dv);
  let at = beginLen;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as NftMessage;
    const seq = (seq0 + i + 1) >>> 0;
    const ack = ackMode === 'all' || (ackMode === 'last' && i === messages.length - 1);
    const len = sizes[i] as number;
    header(dv, at, len, (NFNL_SUBSYS_NFTABLES << 8) | m.msg, NlmFlags.REQUEST | m.flags | (ack ? NlmFlags.ACK : 0), seq, NfProto[m.family], 0);
    if (m instanceof EncodedMessage) out.set(m.chunk.subarray(m.start, m.end), at + NLMSG_HDRLEN + NFGENMSG_LEN);
    else if (m.body !== undefined) out.set(m.body, at + NLMSG_HDRLEN + NFGENMSG_LEN);
    else writeAttrs(out, at + NLMSG_HDRLEN + NFGENMSG_LEN, m.attrs, dv);
    if (ack) ackSeqs.push(seq);
    at += len;
  }
  const endSeq = (seq0 + messages.length + 1) >>> 0;
  header(dv, at, NLMSG_HDRLEN + NFGENMSG_LEN, NfnlMsg.BATCH_END, NlmFlags.REQUEST, endSeq, NfProto.unspec, NFNL_SUBSYS_NFTABLES);
  const sent = messages.slice();
  let infos: BatchMessageInfo[] | undefined;
  return {
    ok: true,
    value: {
      bytes: out,
      get messages() {
        return (infos ??= batchInfos(sent, seq0));
      },
      messageCount: messages.length,
      ackSeqs,
      beginSeq: seq0,
      endSeq,
    },
  };
}

/** NLM_F_DUMP (`NLM_F_ROOT | NLM_F_MATCH`): list every object of a kind. */
export const NLM_F_DUMP = 0x300;

/** A single request (not a batch): `NFT_MSG_GETGEN`, or a dump of one object kind (`GETRULE` ...). */
export function encodeRequest(msg: NftObjMsg, seq: number, options: { readonly family?: NftFamily; readonly dump?: boolean; readonly attrs?: readonly Attr[] } = {}): Uint8Array {
  const attrs = options.attrs ?? [];
  const len = NLMSG_HDRLEN + NFGENMSG_LEN + attrsBytes(attrs);
  const out = new Uint8Array(len);
  header(view(out), 0, len, (NFNL_SUBSYS_NFTABLES << 8) | msg, NlmFlags.REQUEST | (options.dump ? NLM_F_DUMP : 0), seq, options.family === undefined ? NfProto.unspec : NfProto[options.family], 0);
  writeAttrs(out, NLMSG_HDRLEN + NFGENMSG_LEN, attrs);
  return out;
}

/** Encoded size of one message in a batch, bytes. */
export const messageBytes = (m: NftMessage): number =>
  NLMSG_HDRLEN + NFGENMSG_LEN + (m instanceof EncodedMessage ? m.end - m.start : m.body === undefined ? attrsBytes(m.attrs) : m.body.length);

/** An anonymous set (and its elements) must be in the batch of the rule that uses it: its ID and binding live in one transaction. */
const isAnonymous = (m: NftMessage): boolean => m.what.includes('anonymous') || m.what.includes(' __set%d') || m.what.includes(' __map%d');

/**
 * Splits `messages` into runs whose batches stay within `maxBatchBytes` (BATCH_BEGIN/END and
 * the GENID included), never separating a rule from the anonymous sets before it.
 */
export function chunkMessages(messages: readonly NftMessage[], maxBatchBytes: number): NftMessage[][] {
  const overhead = 2 * (NLMSG_HDRLEN + NFGENMSG_LEN) + 8;
  const groups: NftMessage[][] = [];
  let g: NftMessage[] = [];
  for (const m of messages) {
    g.push(m);
    if (!isAnonymous(m)) {
      groups.push(g);
      g = [];
    }
  }
  if (g.length > 0) groups.push(g);
  const out: NftMessage[][] = [];
  let cur: NftMessage[] = [];
  let bytes = overhead;
  for (const grp of groups) {
    const n = grp.reduce((k, m) => k + messageBytes(m), 0);
    if (cur.length > 0 && bytes + n > maxBatchBytes) {
      out.push(cur);
      cur = [];
      bytes = overhead;
    }
    cur.push(...grp);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
