/**
 * The binary keys of the store's index database. Every key is
 * `[tag:1][value][timeUs:8 BE][seq:8 BE]`, so that all entries with one value are in time order
 * and a value's entries within a time range are one key range. Values: strings as UTF-8 with a
 * NUL terminator (entries never hold control characters), numbers as 4 bytes big-endian,
 * addresses in log-model's sortable binary form (family byte + address bytes), so that a CIDR is
 * one key range too. Tag 0 (no value) is the time index itself.
 */
import { addressBytes, type LogEntry } from '@palisade/log-model';

/** Index tags; changing them changes the on-disk format. */
export const TAG = {
  time: 0,
  node: 1,
  vmid: 2,
  chain: 3,
  direction: 4,
  action: 5,
  src: 6,
  dst: 7,
  sport: 8,
  dport: 9,
  proto: 10,
  rule: 11,
  /** Loss entries only (value-less), so that "every loss" is one range. */
  loss: 12,
  /** Entry ids, for de-duplication: `[13][id\0][seq]`, no time. */
  id: 13,
} as const;
export type IndexTag = (typeof TAG)[keyof typeof TAG];
/** Tags an equality filter can use. */
export type FieldTag = Exclude<IndexTag, typeof TAG.time | typeof TAG.id>;

/** Bytes of the `[timeUs][seq]` suffix. */
export const SUFFIX_BYTES = 16;
const TWO32 = 2 ** 32;
const encoder = new TextEncoder();

/** `n` (0 ≤ n < 2^53) as 8 bytes big-endian into `out` at `at` (no DataView: this runs 13 times per stored entry). */
function writeU64(out: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / TWO32);
  const lo = n - hi * TWO32;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
}

/** 8 bytes big-endian at `at` as a number. */
export function readU64(b: Uint8Array, at: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(at) * TWO32 + v.getUint32(at + 4);
}

/** The value bytes of a string. */
export const stringValue = (s: string): Uint8Array => {
  const t = encoder.encode(s);
  const out = new Uint8Array(t.length + 1);
  out.set(t);
  return out;
};
/** The value bytes of a number (0 ≤ n < 2^32). */
export const numberValue = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
};

/** `[tag][value]`: the prefix of every key of one value. */
export function valuePrefix(tag: IndexTag, value: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(1 + value.length);
  out[0] = tag;
  out.set(value, 1);
  return out;
}

/** `prefix` followed by `[timeUs][seq]`. */
export function keyWith(prefix: Uint8Array, timeUs: number, seq: number): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + SUFFIX_BYTES);
  out.set(prefix, 0);
  writeU64(out, prefix.length, timeUs);
  writeU64(out, prefix.length + 8, seq);
  return out;
}

/** A key's `(timeUs, seq)`. */
export function refOfKey(key: Uint8Array): { timeUs: number; seq: number } {
  return { timeUs: readU64(key, key.length - SUFFIX_BYTES), seq: readU64(key, key.length - 8) };
}

/** The id index key of an entry id and its seq. */
export function idKey(id: string, seq: number): Buffer {
  const p = valuePrefix(TAG.id, stringValue(id));
  const out = Buffer.allocUnsafe(p.length + 8);
  out.set(p, 0);
  writeU64(out, p.length, seq);
  return out;
}

/** The key range `[start, end)` holding every id key of `id`. */
export function idRange(id: string): { start: Buffer; end: Buffer } {
  const start = valuePrefix(TAG.id, stringValue(id));
  const end = Buffer.from(start);
  end[end.length - 1] = 1; // the NUL terminator + 1: just past every seq
  return { start, end };
}

/**
 * Value bytes of the low-cardinality string fields (node, chain, direction, action, proto, rule
 * id), remembered across entries: encoding them anew for every entry was a large part of the
 * ingest's cost. Bounded; cleared when full.
 */
const STRING_VALUES = new Map<string, Uint8Array>();
const STRING_VALUES_MAX = 4096;
function cachedStringValue(s: string): Uint8Array {
  let v = STRING_VALUES.get(s);
  if (v === undefined) {
    if (STRING_VALUES.size >= STRING_VALUES_MAX) STRING_VALUES.clear();
    v = stringValue(s);
    STRING_VALUES.set(s, v);
  }
  return v;
}

/** `[tag][value][timeUs][seq]` in one allocation. */
function indexKey(tag: IndexTag, value: Uint8Array | undefined, timeUs: number, seq: number): Buffer {
  const n = value === undefined ? 0 : value.length;
  const out = Buffer.allocUnsafe(1 + n + SUFFIX_BYTES);
  out[0] = tag;
  if (value !== undefined) out.set(value, 1);
  writeU64(out, 1 + n, timeUs);
  writeU64(out, 9 + n, seq);
  return out;
}

/** `n` as the 4-byte value of a number field. */
function numberKey(tag: IndexTag, n: number, timeUs: number, seq: number): Buffer {
  const out = Buffer.allocUnsafe(5 + SUFFIX_BYTES);
  out[0] = tag;
  out.writeUInt32BE(n, 1);
  writeU64(out, 5, timeUs);
  writeU64(out, 13, seq);
  return out;
}

/** Every index key of an entry stored as `seq` (the time key included, the id key not). */
export function indexKeysOf(e: LogEntry, seq: number): Buffer[] {
  const t = e.timeUs;
  const keys: Buffer[] = [indexKey(TAG.time, undefined, t, seq), indexKey(TAG.node, cachedStringValue(e.node), t, seq)];
  if (e.kind === 'loss') {
    keys.push(indexKey(TAG.loss, undefined, t, seq));
    return keys;
  }
  keys.push(
    numberKey(TAG.vmid, e.vmid, t, seq),
    indexKey(TAG.chain, cachedStringValue(e.chain), t, seq),
    indexKey(TAG.direction, cachedStringValue(e.direction), t, seq),
    indexKey(TAG.action, cachedStringValue(e.action), t, seq),
  );
  const src = e.src === undefined ? undefined : addressBytes(e.src);
  if (src) keys.push(indexKey(TAG.src, src, t, seq));
  const dst = e.dst === undefined ? undefined : addressBytes(e.dst);
  if (dst) keys.push(indexKey(TAG.dst, dst, t, seq));
  if (e.sport !== undefined) keys.push(numberKey(TAG.sport, e.sport, t, seq));
  if (e.dport !== undefined) keys.push(numberKey(TAG.dport, e.dport, t, seq));
  if (e.proto !== undefined) keys.push(indexKey(TAG.proto, cachedStringValue(e.proto), t, seq));
  if (e.ruleId !== undefined) keys.push(indexKey(TAG.rule, cachedStringValue(e.ruleId), t, seq));
  return keys;
}

/** The largest timeUs a key can hold (µs since the epoch). */
export const MAX_TIME_US = Number.MAX_SAFE_INTEGER;
