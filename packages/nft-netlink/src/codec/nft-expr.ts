/**
 * nf_tables expressions as netlink attributes: one builder per expression kind the compiler's
 * rules lower to. Each returns the `NFTA_LIST_ELEM` of `NFTA_RULE_EXPRESSIONS`
 * (`NFTA_EXPR_NAME` + `NFTA_EXPR_DATA`), with the attributes in the order libnftnl 1.2 writes
 * them, so the bytes equal nft's. Layouts: `linux/netfilter/nf_tables.h` `enum nft_<expr>_attributes`.
 * Register data is raw bytes (network order for packet fields, host order for marks, ct
 * state bits and fib types, which are little-endian on every platform Palisade runs on).
 */
import { aBytes, aNest, aStr, aU16, aU32, aU64, aU8, type Attr } from './attrs.js';
import { encodeText } from './bytes.js';
import {
  NftaBitwise,
  NftaCmp,
  NftaCt,
  NftaDynset,
  NftaExpr,
  NftaFib,
  NftaImmediate,
  NftaLimit,
  NftaLog,
  NftaLookup,
  NftaMeta,
  NftaObjref,
  NftaPayload,
  NftaQueue,
  NftaRange,
  NftaReject,
  NftaVerdict,
  NftReg,
  NftaCounter,
} from './nft-constants.js';
import { NFTA_LIST_ELEM, NftaData } from './constants.js';

/** Expressions with the same arguments are the same attributes: built once (rulesets repeat them thousands of times). */
const memo = new Map<string, Attr>();
function cached(key: string, build: () => Attr): Attr {
  let a = memo.get(key);
  if (a === undefined) {
    a = build();
    if (memo.size > 100_000) memo.clear();
    memo.set(key, a);
  }
  return a;
}
const bytesKey = (b: Uint8Array): string => (b.length <= 16 ? b.join('.') : '');
const expr = (name: string, data: readonly Attr[]): Attr => aNest(NFTA_LIST_ELEM, [aStr(NftaExpr.NAME, name), aNest(NftaExpr.DATA, data)]);
const dataValue = (type: number, bytes: Uint8Array): Attr => aNest(type, [aBytes(NftaData.VALUE, bytes)]);

/** `meta load KEY => reg 1`. */
export const metaLoad = (key: number): Attr => cached(`ml${key}`, () => expr('meta', [aU32(NftaMeta.KEY, key), aU32(NftaMeta.DREG, NftReg.R1)]));
/** `meta set KEY with reg 1`. */
export const metaSet = (key: number): Attr => expr('meta', [aU32(NftaMeta.KEY, key), aU32(NftaMeta.SREG, NftReg.R1)]);
/** `cmp OP reg 1 DATA`. */
export function cmp(op: number, data: Uint8Array): Attr {
  const build = (): Attr => expr('cmp', [aU32(NftaCmp.SREG, NftReg.R1), aU32(NftaCmp.OP, op), dataValue(NftaCmp.DATA, data)]);
  return data.length <= 16 ? cached(`c${op}:${bytesKey(data)}`, build) : build();
}
/** `payload load LEN @ BASE + OFFSET => reg 1`. */
export const payloadLoad = (base: number, offset: number, len: number): Attr =>
  cached(`p${base}:${offset}:${len}`, () => expr('payload', [aU32(NftaPayload.DREG, NftReg.R1), aU32(NftaPayload.BASE, base), aU32(NftaPayload.OFFSET, offset), aU32(NftaPayload.LEN, len)]));
/**
 * `bitwise reg 1 = (reg 1 & MASK) ^ XOR`. `explicitOp`: nft sends `NFTA_BITWISE_OP`
 * (`NFT_BITWISE_MASK_XOR`) for a written `&`/`|` and leaves it out for the masks it derives
 * itself (prefixes, flag tests); the kernel defaults to the same operation.
 */
export function bitwise(mask: Uint8Array, xor: Uint8Array, explicitOp: boolean): Attr {
  const attrs: Attr[] = [aU32(NftaBitwise.SREG, NftReg.R1), aU32(NftaBitwise.DREG, NftReg.R1)];
  if (explicitOp) attrs.push(aU32(NftaBitwise.OP, 0));
  attrs.push(aU32(NftaBitwise.LEN, mask.length), dataValue(NftaBitwise.MASK, mask), dataValue(NftaBitwise.XOR, xor));
  return expr('bitwise', attrs);
}
/** `range OP reg 1 FROM TO`. */
export const range = (op: number, from: Uint8Array, to: Uint8Array): Attr =>
  expr('range', [aU32(NftaRange.SREG, NftReg.R1), aU32(NftaRange.OP, op), dataValue(NftaRange.FROM_DATA, from), dataValue(NftaRange.TO_DATA, to)]);
/**
 * `lookup reg 1 set NAME [dreg 0] [inverted]`. `setId`: the set is created in the same batch
 * (the kernel finds it by ID while the transaction is open). `verdictMap`: the map's data goes
 * to the verdict register.
 */
export function lookup(set: string, setId: number | undefined, opts: { readonly verdictMap?: boolean; readonly invert?: boolean } = {}): Attr {
  const attrs: Attr[] = [aU32(NftaLookup.SREG, NftReg.R1)];
  if (opts.verdictMap) attrs.push(aU32(NftaLookup.DREG, NftReg.VERDICT));
  attrs.push(aStr(NftaLookup.SET, set));
  if (setId !== undefined) attrs.push(aU32(NftaLookup.SET_ID, setId));
  if (opts.invert) attrs.push(aU32(NftaLookup.FLAGS, 1));
  return expr('lookup', attrs);
}
/** The `NFTA_DATA_VERDICT` of a verdict (code, and chain for jump/goto). */
export function verdictData(code: number, chain?: string): Attr {
  const v: Attr[] = [aU32(NftaVerdict.CODE, code)];
  if (chain !== undefined) v.push(aStr(NftaVerdict.CHAIN, chain));
  return aNest(NftaData.VERDICT, v);
}
/** `immediate reg 0 VERDICT`. */
export const verdict = (code: number, chain?: string): Attr =>
  cached(`v${code}:${chain ?? ''}`, () => expr('immediate', [aU32(NftaImmediate.DREG, NftReg.VERDICT), aNest(NftaImmediate.DATA, [verdictData(code, chain)])]));
/** `immediate reg 1 DATA`. */
export const immediateData = (data: Uint8Array): Attr => expr('immediate', [aU32(NftaImmediate.DREG, NftReg.R1), dataValue(NftaImmediate.DATA, data)]);
/** `ct load KEY => reg 1`. */
export const ctLoad = (key: number): Attr => cached(`cl${key}`, () => expr('ct', [aU32(NftaCt.KEY, key), aU32(NftaCt.DREG, NftReg.R1)]));
/** `ct set KEY with reg 1`. */
export const ctSet = (key: number): Attr => expr('ct', [aU32(NftaCt.KEY, key), aU32(NftaCt.SREG, NftReg.R1)]);
/** `limit rate RATE/UNIT burst BURST packets [over]`; `unitS` is the period in seconds. */
export const limit = (rate: number, unitS: number, burst: number, flags: number): Attr =>
  cached(`L${rate}:${unitS}:${burst}:${flags}`, () => expr('limit', limitData(rate, unitS, burst, flags)));
function limitData(rate: number, unitS: number, burst: number, flags: number): Attr[] {
  return [aU64(NftaLimit.RATE, BigInt(rate)), aU64(NftaLimit.UNIT, BigInt(unitS)), aU32(NftaLimit.BURST, burst), aU32(NftaLimit.TYPE, 0), aU32(NftaLimit.FLAGS, flags)];
}
/** `log prefix PREFIX group GROUP` (nflog). */
export const log = (prefix: string, group: number): Attr => cached(`g${group}:${prefix}`, () => expr('log', [aStr(NftaLog.PREFIX, prefix), aU16(NftaLog.GROUP, group)]));
/** `reject type TYPE code CODE`. */
export const reject = (type: number, code: number): Attr => expr('reject', [aU32(NftaReject.TYPE, type), aU8(NftaReject.ICMP_CODE, code)]);
/** `queue num FROM total N [bypass]`. */
export function queue(num: number, total: number, bypass: boolean): Attr {
  const attrs: Attr[] = [aU16(NftaQueue.NUM, num), aU16(NftaQueue.TOTAL, total)];
  if (bypass) attrs.push(aU16(NftaQueue.FLAGS, 1));
  return expr('queue', attrs);
}
/** `fib ADDR type => reg 1` (flags: `NFTA_FIB_F_*`, result: `NFT_FIB_RESULT_*`). */
export const fib = (flags: number, result: number): Attr => expr('fib', [aU32(NftaFib.FLAGS, flags), aU32(NftaFib.RESULT, result), aU32(NftaFib.DREG, NftReg.R1)]);
/** `objref type TYPE name NAME` (the name without NUL, as libnftnl puts it). */
export const objref = (type: number, name: string): Attr => expr('objref', [aU32(NftaObjref.IMM_TYPE, type), aBytes(NftaObjref.IMM_NAME, encodeText(name))]);
/** `dynset update reg_key 1 set NAME expr [ limit ... ]`. */
export function dynsetUpdateLimit(set: string, setId: number | undefined, rate: number, unitS: number, burst: number, flags: number): Attr {
  const attrs: Attr[] = [aU32(NftaDynset.SREG_KEY, NftReg.R1), aU32(NftaDynset.OP, 1), aStr(NftaDynset.SET_NAME, set)];
  if (setId !== undefined) attrs.push(aU32(NftaDynset.SET_ID, setId));
  attrs.push(aNest(NftaDynset.EXPR, [aStr(NftaExpr.NAME, 'limit'), aNest(NftaExpr.DATA, limitData(rate, unitS, burst, flags))]));
  return expr('dynset', attrs);
}
/** `counter packets 0 bytes 0`. */
export const counter = (): Attr => expr('counter', [aU64(NftaCounter.BYTES, 0n), aU64(NftaCounter.PACKETS, 0n)]);
