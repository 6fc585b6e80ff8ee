/**
 * One rule's matches and statements as nf_tables expressions, linearised as nft 1.0.6 does
 * (implicit protocol dependencies, byte-aligned prefixes, anonymous sets for `{ ... }` values);
 * `nft-lower.ts` puts the rules, chains, sets and tables of a ruleset around it.
 */
import { icmpRun, type AddrInterval, type Match, type Stmt } from '@palisade/nft-ir';
import { aBytes, aNest, aStr, aU32, type Attr } from './attrs.js';
import { concat, encodeText } from './bytes.js';
import { NftaData, NftaSetElem, NftSetElemFlag, NlmFlags, type NftFamily } from './constants.js';
import { INTERVAL_OPEN_USERDATA, addressKey } from './elements.js';
import * as E from './nft-expr.js';
import {
  NFT_LIMIT_F_INV,
  NftaSet,
  NftaSetDesc,
  NftByteorder,
  NftCmpOp,
  NftCtKey,
  NftDatatype,
  NftFibFlag,
  NftFibResult,
  NftMetaKey,
  NftnlUdataSet,
  NftObjectType,
  NftObjMsg,
  NftPayloadBase,
  NftRangeOp,
  NftRejectType,
  NftSetFlag,
  NftVerdictCode,
} from './nft-constants.js';
import { type NftMessage } from './nft-messages.js';
import { be16, elementAttrs, elementMessages, le32, tlv, u8, type SetIdAllocator } from './nft-sets.js';

/** What lowering needs to know besides the IR. */
export interface LowerContext {
  readonly ids: SetIdAllocator;
  /** Named sets created in the batch being built, by table key `family/table` + `/name`: their set IDs. */
  readonly newSets: ReadonlyMap<string, number>;
  /** Put a `counter` between the matches and the statements of every rule with an origin (the agent's per-rule counters). */
  readonly counters?: boolean;
  /**
   * Expressions already lowered and encoded in this batch for this table (the
   * `NFTA_RULE_EXPRESSIONS` attribute), by rule fingerprint (one cache per table): a rule that lowers alike (no anonymous set of
   * its own) reuses the bytes (most guests' rules differ only in chain and comment).
   */
  readonly exprCache?: Map<string, Uint8Array>;
}

const PROTO_DESC: Readonly<Record<number, number>> = { 1: 4, 6: 8, 17: 6, 33: 9, 58: 14, 132: 10, 136: 7 };
const UD_EXPR_PAYLOAD = 7;
const UD_EXPR_META = 9;
const UD_EXPR_FIB = 26;

/** `NFTNL_UDATA_SET_KEY_TYPEOF`: nft's description of the expression a set's key comes from. */
function typeofUdata(exprType: number, fields: readonly number[]): Uint8Array {
  return tlv(NftnlUdataSet.KEY_TYPEOF, concat([tlv(0, le32(exprType)), tlv(1, concat(fields.map((f, i) => tlv(i, le32(f)))))]));
}

/** The key of an anonymous set: nft's data type, key length and user data. */
interface AnonKey {
  readonly type: number;
  readonly len: number;
  readonly byteorder: number;
  readonly typeof?: Uint8Array;
}

function ifnameBytes(name: string): Uint8Array {
  if (name.endsWith('*')) return encodeText(name.slice(0, -1));
  const out = new Uint8Array(16);
  out.set(encodeText(name).subarray(0, 15));
  return out;
}
const nfprotoOf = (f: 4 | 6): number => (f === 4 ? 2 : 10);

const CT_STATE_BITS: Readonly<Record<string, number>> = { invalid: 1, established: 2, related: 4, new: 8 };
const ADDRTYPE: Readonly<Record<string, number>> = { unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5 };
const TCP_FLAG_BITS: Readonly<Record<string, number>> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32 };
const REJECT_CODES: Readonly<Record<4 | 6, Readonly<Record<string, number>>>> = {
  4: { 'port-unreachable': 3, 'host-unreachable': 1, 'host-prohibited': 10, 'admin-prohibited': 13 },
  6: { 'port-unreachable': 4, 'host-unreachable': 3, 'admin-prohibited': 1, 'host-prohibited': 1 },
};
const LIMIT_UNITS: Readonly<Record<string, number>> = { second: 1, minute: 60, hour: 3600, day: 86400 };

/**
 * Lowers one rule (`nft-lower.ts` makes one per rule): call `match()` for each match, then
 * `stmt()` for each statement. `exprs` is then the rule's expression list and `pre` the anonymous
 * sets (with their elements) that must precede the rule in the batch.
 */
export class RuleLowering {
  readonly exprs: Attr[] = [];
  readonly pre: NftMessage[] = [];
  private nf: 4 | 6 | undefined;
  private l4: number | undefined;
  private lltype = false;

  constructor(
    private readonly family: NftFamily,
    private readonly table: string,
    private readonly ctx: LowerContext,
  ) {}

  private netDep(f: 4 | 6): void {
    if (this.nf === f) return;
    if (this.family === 'bridge') {
      this.exprs.push(E.metaLoad(NftMetaKey.PROTOCOL), E.cmp(NftCmpOp.EQ, be16(f === 4 ? 0x0800 : 0x86dd)));
    } else {
      this.exprs.push(E.metaLoad(NftMetaKey.NFPROTO), E.cmp(NftCmpOp.EQ, u8(nfprotoOf(f))));
    }
    this.nf = f;
  }

  private l4Dep(proto: number): void {
    if (this.l4 === proto) return;
    if (proto === 1) this.netDep(4);
    if (proto === 58) this.netDep(6);
    this.exprs.push(E.metaLoad(NftMetaKey.L4PROTO), E.cmp(NftCmpOp.EQ, u8(proto)));
    this.l4 = proto;
  }

  /** An anonymous constant set (`{ a, b }`), declared and filled before the rule; returns its ID. */
  private anonSet(key: AnonKey, elements: readonly Uint8Array[][], interval: boolean): number {
    const flags = NftSetFlag.ANONYMOUS | NftSetFlag.CONSTANT | (interval ? NftSetFlag.INTERVAL : 0);
    const kernelElems: { key: Uint8Array; flags?: number; userdata?: Uint8Array }[] = [];
    if (interval) {
      kernelElems.push({ key: new Uint8Array(key.len), flags: NftSetElemFlag.INTERVAL_END });
      for (const e of elements) {
        const [from, next] = e as [Uint8Array, Uint8Array | undefined];
        if (next === undefined) kernelElems.push({ key: from, userdata: INTERVAL_OPEN_USERDATA });
        else kernelElems.push({ key: from }, { key: next, flags: NftSetElemFlag.INTERVAL_END });
      }
    } else for (const e of elements) kernelElems.push({ key: e[0] as Uint8Array });
    const udata = concat([
      tlv(NftnlUdataSet.KEYBYTEORDER, le32(key.byteorder)),
      ...(interval ? [tlv(NftnlUdataSet.MERGE_ELEMENTS, le32(1))] : []),
      ...(key.typeof ? [key.typeof] : []),
    ]);
    return this.declareAnonymous('set', [aU32(NftaSet.FLAGS, flags), aU32(NftaSet.KEY_TYPE, key.type), aU32(NftaSet.KEY_LEN, key.len)], kernelElems.map((e) => elementAttrs(e)), udata);
  }

  /**
   * Declares an anonymous set (`__set%d`) or verdict map (`__map%d`) ahead of the rule: NEWSET
   * with nft's attribute order (the key and data attributes given), then its elements.
   */
  private declareAnonymous(kind: 'set' | 'verdict map', keyAttrs: readonly Attr[], elements: readonly (readonly Attr[])[], udata: Uint8Array): number {
    const id = this.ctx.ids.next();
    const name = kind === 'set' ? '__set%d' : '__map%d';
    this.pre.push({
      msg: NftObjMsg.NEWSET,
      family: this.family,
      flags: NlmFlags.CREATE,
      attrs: [
        aStr(NftaSet.TABLE, this.table),
        aStr(NftaSet.NAME, name),
        ...keyAttrs,
        aU32(NftaSet.ID, id),
        aNest(NftaSet.DESC, [aU32(NftaSetDesc.SIZE, elements.length)]),
        aBytes(NftaSet.USERDATA, udata),
      ],
      what: `add anonymous ${kind} to ${this.family} ${this.table}`,
    });
    this.pre.push(...elementMessages(this.family, this.table, name, id, elements));
    return id;
  }

  /** The last `payload load; cmp eq` pair, which nft merges with an adjacent one (same base, contiguous, at most 16 bytes). */
  private lastEq: { base: number; offset: number; value: Uint8Array; at: number } | undefined;

  /** `payload load; cmp eq VALUE`, merged into the previous such match when nft would merge them. */
  private payloadEq(base: number, offset: number, value: Uint8Array): void {
    const p = this.lastEq;
    if (p && p.at === this.exprs.length && p.base === base && p.offset + p.value.length === offset && p.value.length + value.length <= 16) {
      const merged = concat([p.value, value]);
      this.exprs.splice(this.exprs.length - 2, 2, E.payloadLoad(base, p.offset, merged.length), E.cmp(NftCmpOp.EQ, merged));
      this.lastEq = { base, offset: p.offset, value: merged, at: this.exprs.length };
      return;
    }
    this.exprs.push(E.payloadLoad(base, offset, value.length), E.cmp(NftCmpOp.EQ, value));
    this.lastEq = { base, offset, value, at: this.exprs.length };
  }

  private valueMatch(op: 'eq' | 'ne', value: Uint8Array): void {
    this.exprs.push(E.cmp(op === 'ne' ? NftCmpOp.NEQ : NftCmpOp.EQ, value));
  }

  private lookupAnon(id: number, op: 'eq' | 'ne'): void {
    this.exprs.push(E.lookup('__set%d', id, { invert: op === 'ne' }));
  }

  /** Lookup in a named set of the table (by its set ID when it is created in the same batch). */
  private lookupNamed(name: string, op: 'eq' | 'ne'): void {
    this.exprs.push(E.lookup(name, this.ctx.newSets.get(`${this.family}/${this.table}/${name}`), { invert: op === 'ne' }));
  }

  match(m: Match): void {
    switch (m.kind) {
      case 'ifname': {
        this.exprs.push(E.metaLoad(m.dir === 'iif' ? NftMetaKey.IIFNAME : NftMetaKey.OIFNAME));
        if (m.names.length === 1) this.valueMatch(m.op, ifnameBytes(m.names[0] as string));
        else {
          const key: AnonKey = { type: NftDatatype.ifname, len: 16, byteorder: NftByteorder.HOST, typeof: typeofUdata(UD_EXPR_META, [m.dir === 'iif' ? NftMetaKey.IIFNAME : NftMetaKey.OIFNAME]) };
          this.lookupAnon(this.anonSet(key, m.names.map((n) => [ifnameBytes(n)]), false), m.op);
        }
        return;
      }
      case 'nfproto':
        this.exprs.push(E.metaLoad(NftMetaKey.NFPROTO), E.cmp(NftCmpOp.EQ, u8(nfprotoOf(m.family))));
        this.nf = m.family;
        return;
      case 'l4proto':
        this.exprs.push(E.metaLoad(NftMetaKey.L4PROTO));
        if (m.protos.length === 1) {
          this.valueMatch(m.op, u8(m.protos[0] as number));
          if (m.op === 'eq') this.l4 = m.protos[0];
        } else {
          const key: AnonKey = { type: NftDatatype.inet_proto, len: 1, byteorder: NftByteorder.HOST, typeof: typeofUdata(UD_EXPR_META, [NftMetaKey.L4PROTO]) };
          this.lookupAnon(this.anonSet(key, m.protos.map((p) => [u8(p)]), false), m.op);
        }
        return;
      case 'addr': {
        this.netDep(m.family);
        const len = m.family === 4 ? 4 : 16;
        const offset = m.family === 4 ? (m.field === 'saddr' ? 12 : 16) : m.field === 'saddr' ? 8 : 24;
        if ('set' in m.value) {
          this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, offset, len));
          this.exprs.push(E.lookup(m.value.set, this.ctx.newSets.get(`${this.family}/${this.table}/${m.value.set}`), { invert: m.op === 'ne' }));
          return;
        }
        const ivs = m.value.intervals;
        if (ivs.length === 1) {
          this.addrInterval(offset, len, ivs[0] as AddrInterval, m.op);
          return;
        }
        this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, offset, len));
        const field = m.family === 4 ? (m.field === 'saddr' ? 11 : 12) : m.field === 'saddr' ? 7 : 8;
        const key: AnonKey = {
          type: m.family === 4 ? NftDatatype.ipv4_addr : NftDatatype.ipv6_addr,
          len,
          byteorder: NftByteorder.BIG,
          typeof: typeofUdata(UD_EXPR_PAYLOAD, [m.family === 4 ? 12 : 13, field]),
        };
        const max = (1n << BigInt(len * 8)) - 1n;
        const elems = ivs.map((iv) => (iv.to >= max ? [addressKey(iv.family, iv.from)] : [addressKey(iv.family, iv.from), addressKey(iv.family, iv.to + 1n)]));
        this.lookupAnon(this.anonSet(key, elems, true), m.op);
        return;
      }
      case 'port': {
        const proto = { tcp: 6, udp: 17, sctp: 132, dccp: 33, udplite: 136 }[m.proto];
        this.l4Dep(proto);
        if (m.set !== undefined) {
          this.exprs.push(E.payloadLoad(NftPayloadBase.TRANSPORT, m.field === 'sport' ? 0 : 2, 2));
          this.lookupNamed(m.set, m.op);
          return;
        }
        const [a0, b0] = m.ranges[0] ?? [0, 0];
        if (m.ranges.length === 1 && a0 === b0 && m.op === 'eq') {
          this.payloadEq(NftPayloadBase.TRANSPORT, m.field === 'sport' ? 0 : 2, be16(a0));
          return;
        }
        this.exprs.push(E.payloadLoad(NftPayloadBase.TRANSPORT, m.field === 'sport' ? 0 : 2, 2));
        if (m.ranges.length === 1) {
          const [a, b] = m.ranges[0] as readonly [number, number];
          if (a === b) this.valueMatch(m.op, be16(a));
          else if (m.op === 'eq') this.exprs.push(E.cmp(NftCmpOp.GTE, be16(a)), E.cmp(NftCmpOp.LTE, be16(b)));
          else this.exprs.push(E.range(NftRangeOp.NEQ, be16(a), be16(b)));
          return;
        }
        const interval = m.ranges.some(([a, b]) => a !== b);
        const key: AnonKey = { type: NftDatatype.inet_service, len: 2, byteorder: NftByteorder.BIG, typeof: typeofUdata(UD_EXPR_PAYLOAD, [PROTO_DESC[proto] ?? 0, m.field === 'sport' ? 1 : 2]) };
        const elems = m.ranges.map(([a, b]) => (interval ? (b >= 0xffff ? [be16(a)] : [be16(a), be16(b + 1)]) : [be16(a)]));
        this.lookupAnon(this.anonSet(key, elems, interval), m.op);
        return;
      }
      case 'icmp': {
        const proto = m.family === 4 ? 1 : 58;
        if (m.types.length === 0) {
          this.exprs.push(E.metaLoad(NftMetaKey.L4PROTO), E.cmp(NftCmpOp.EQ, u8(proto)));
          this.l4 = proto;
        } else {
          this.l4Dep(proto);
          const run = icmpRun(m.types);
          if (m.set !== undefined) {
            this.exprs.push(E.payloadLoad(NftPayloadBase.TRANSPORT, 0, 1));
            this.lookupNamed(m.set, 'eq');
          } else if (m.types.length === 1) this.payloadEq(NftPayloadBase.TRANSPORT, 0, u8(m.types[0] as number));
          else if (run) this.exprs.push(E.payloadLoad(NftPayloadBase.TRANSPORT, 0, 1), E.cmp(NftCmpOp.GTE, u8(run[0])), E.cmp(NftCmpOp.LTE, u8(run[1])));
          else {
            this.exprs.push(E.payloadLoad(NftPayloadBase.TRANSPORT, 0, 1));
            const key: AnonKey = {
              type: m.family === 4 ? NftDatatype.icmp_type : NftDatatype.icmpv6_type,
              len: 1,
              byteorder: NftByteorder.BIG,
              typeof: typeofUdata(UD_EXPR_PAYLOAD, [PROTO_DESC[proto] ?? 0, 1]),
            };
            this.lookupAnon(this.anonSet(key, m.types.map((t) => [u8(t)]), false), 'eq');
          }
        }
        if (m.code !== undefined) {
          this.l4Dep(proto);
          this.payloadEq(NftPayloadBase.TRANSPORT, 1, u8(m.code));
        }
        return;
      }
      case 'ctstate': {
        this.exprs.push(E.ctLoad(NftCtKey.STATE));
        // `ct state a,b` (a flag list): one bitmask test, as nft emits it
        const bits = m.states.reduce((n, st) => n | (CT_STATE_BITS[st] ?? 0), 0);
        this.exprs.push(E.bitwise(le32(bits), le32(0), false), E.cmp(NftCmpOp.NEQ, le32(0)));
        return;
      }
      case 'fibtype': {
        const flags = m.field === 'saddr' ? NftFibFlag.SADDR : NftFibFlag.DADDR;
        this.exprs.push(E.fib(flags, NftFibResult.ADDRTYPE));
        if (m.types.length === 1) this.valueMatch('eq', le32(ADDRTYPE[m.types[0] as string] ?? 0));
        else {
          const key: AnonKey = { type: 38, len: 4, byteorder: NftByteorder.HOST, typeof: typeofUdata(UD_EXPR_FIB, [NftFibResult.ADDRTYPE, flags]) };
          this.lookupAnon(this.anonSet(key, m.types.map((t) => [le32(ADDRTYPE[t] ?? 0)]), false), 'eq');
        }
        return;
      }
      case 'mark':
        this.exprs.push(E.metaLoad(NftMetaKey.MARK), E.bitwise(le32(m.mask), le32(0), true), E.cmp(m.op === 'ne' ? NftCmpOp.NEQ : NftCmpOp.EQ, le32(m.value)));
        return;
      case 'ether': {
        if (this.family !== 'bridge' && !this.lltype) {
          this.exprs.push(E.metaLoad(NftMetaKey.IIFTYPE), E.cmp(NftCmpOp.EQ, Uint8Array.of(1, 0)));
          this.lltype = true;
        }
        const mac = Uint8Array.from(m.mac.split(':').map((h) => parseInt(h, 16)));
        if (m.op === 'eq') this.payloadEq(NftPayloadBase.LL, 6, mac);
        else this.exprs.push(E.payloadLoad(NftPayloadBase.LL, 6, 6), E.cmp(NftCmpOp.NEQ, mac));
        return;
      }
      case 'tcpflags': {
        this.l4Dep(6);
        const bits = (fs: readonly string[]): number => fs.reduce((n, f) => n | (TCP_FLAG_BITS[f] ?? 0), 0);
        this.exprs.push(E.payloadLoad(NftPayloadBase.TRANSPORT, 13, 1), E.bitwise(u8(bits(m.mask)), u8(0), true), E.cmp(m.op === 'ne' ? NftCmpOp.NEQ : NftCmpOp.EQ, u8(bits(m.value))));
        return;
      }
    }
  }

  private addrInterval(offset: number, len: number, iv: AddrInterval, op: 'eq' | 'ne'): void {
    const bits = len * 8;
    const size = iv.to - iv.from + 1n;
    const isPow2 = (size & (size - 1n)) === 0n;
    const host = isPow2 ? size.toString(2).length - 1 : -1;
    const aligned = host >= 0 && (iv.from & (size - 1n)) === 0n;
    const from = addressKey(iv.family, iv.from);
    if (aligned && host === 0) {
      // nft 1.0.6 does not merge address matches (`ip saddr A ip daddr B` stays two loads)
      this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, offset, len), E.cmp(op === 'ne' ? NftCmpOp.NEQ : NftCmpOp.EQ, from));
      return;
    }
    if (aligned) {
      const prefix = bits - host;
      if (prefix % 8 === 0) {
        this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, offset, prefix / 8));
        this.valueMatch(op, from.subarray(0, prefix / 8));
        return;
      }
      const mask = addressKey(iv.family, ((1n << BigInt(prefix)) - 1n) << BigInt(host));
      this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, offset, len), E.bitwise(mask, new Uint8Array(len), false));
      this.valueMatch(op, from);
      return;
    }
    this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, offset, len));
    const to = addressKey(iv.family, iv.to);
    if (op === 'eq') this.exprs.push(E.cmp(NftCmpOp.GTE, from), E.cmp(NftCmpOp.LTE, to));
    else this.exprs.push(E.range(NftRangeOp.NEQ, from, to));
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case 'accept':
        this.exprs.push(E.verdict(NftVerdictCode.ACCEPT));
        return;
      case 'drop':
        this.exprs.push(E.verdict(NftVerdictCode.DROP));
        return;
      case 'return':
        this.exprs.push(E.verdict(NftVerdictCode.RETURN));
        return;
      case 'jump':
        this.exprs.push(E.verdict(NftVerdictCode.JUMP, s.target));
        return;
      case 'goto':
        this.exprs.push(E.verdict(NftVerdictCode.GOTO, s.target));
        return;
      case 'reject':
        if (s.with.kind === 'tcp-reset') {
          this.l4Dep(6);
          this.exprs.push(E.reject(NftRejectType.TCP_RST, 0));
        } else {
          if (this.family !== 'bridge') this.netDep(s.with.family);
          this.exprs.push(E.reject(NftRejectType.ICMP_UNREACH, REJECT_CODES[s.with.family][s.with.type] ?? 0));
        }
        return;
      case 'vmap': {
        const key = s.key === 'iifname' ? NftMetaKey.IIFNAME : NftMetaKey.OIFNAME;
        this.exprs.push(E.metaLoad(key));
        // nft's map user data: key byte order host, data byte order, data typeof verdict, no data interval
        const udata = Uint8Array.from([0, 4, 1, 0, 0, 0, 1, 4, 0, 0, 0, 0, 4, 8, 0, 4, 1, 0, 0, 0, 1, 0, 6, 4, 0, 0, 0, 0]);
        const elems = s.entries.map(([k, v]) => [
          aNest(NftaSetElem.KEY, [aBytes(NftaData.VALUE, ifnameBytes(k))]),
          aNest(NftaSetElem.DATA, [E.verdictData(v.kind === 'jump' ? NftVerdictCode.JUMP : NftVerdictCode.GOTO, v.target)]),
        ]);
        const id = this.declareAnonymous(
          'verdict map',
          [
            aU32(NftaSet.FLAGS, NftSetFlag.ANONYMOUS | NftSetFlag.CONSTANT | NftSetFlag.MAP),
            aU32(NftaSet.KEY_TYPE, NftDatatype.ifname),
            aU32(NftaSet.KEY_LEN, 16),
            aU32(NftaSet.DATA_TYPE, 0xffffff00),
            aU32(NftaSet.DATA_LEN, 0),
          ],
          elems,
          udata,
        );
        this.exprs.push(E.lookup('__map%d', id, { verdictMap: true }));
        return;
      }
      case 'limit':
        this.exprs.push(E.limit(s.rate, LIMIT_UNITS[s.per] ?? 1, s.burst ?? 5, 0));
        return;
      case 'log':
        this.exprs.push(E.log(s.prefix, s.group));
        return;
      case 'ctmark-set':
        this.exprs.push(E.immediateData(le32(s.value)), E.ctSet(NftCtKey.MARK));
        return;
      case 'mark-set':
        this.exprs.push(E.metaLoad(NftMetaKey.MARK), E.bitwise(le32(s.and & ~s.or), le32(s.or), true), E.metaSet(NftMetaKey.MARK));
        return;
      case 'ct-helper-set':
        this.exprs.push(E.objref(NftObjectType.CT_HELPER, s.name));
        return;
      case 'meter-over': {
        this.netDep(s.family);
        const len = s.family === 4 ? 4 : 16;
        this.exprs.push(E.payloadLoad(NftPayloadBase.NETWORK, s.family === 4 ? 12 : 8, len));
        if (s.prefix < len * 8) {
          const host = BigInt(len * 8 - s.prefix);
          this.exprs.push(E.bitwise(addressKey(s.family, ((1n << BigInt(s.prefix)) - 1n) << host), new Uint8Array(len), true));
        }
        this.exprs.push(E.dynsetUpdateLimit(s.set, this.ctx.newSets.get(`${this.family}/${this.table}/${s.set}`), s.rate, 1, s.burst, NFT_LIMIT_F_INV));
        return;
      }
      case 'queue':
        this.exprs.push(E.queue(s.from, s.to - s.from + 1, s.bypass));
        return;
    }
  }
}
