/**
 * The store's index layout (on-disk format 2). Each index is a set of posting lists: one LMDB
 * value per (field value, time bucket, write batch), keyed `[tag:1][value][bucket:4 BE]
 * [baseSeq:8 BE]`, holding the batch's entries of that value and bucket as fixed-width items
 * `[timeUs − bucket start:4][seq − baseSeq:4][residual]`, sorted by (time, seq). So one batch
 * costs one LMDB put per distinct (value, bucket) instead of one per entry and field, all of a
 * value's entries within a time range are one key range, and the buckets of a value are in
 * time order (a bucket's postings are merged, see `posting-walk.ts`).
 *
 * Values: strings as UTF-8 with a NUL terminator (entries never hold control characters),
 * numbers big-endian of fixed width, addresses in log-model's sortable binary form (family byte
 * + address bytes) cut after the /24 (IPv4) or /64 (IPv6), the rest of the address travelling
 * in the item as its residual; a source port is keyed by its high byte, the low byte being the
 * residual. High-cardinality fields thus share postings (a CIDR is still one key range) and the
 * residual keeps matching exact. Tag 0 (no value) is the time index itself.
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
} as const;
/** The first byte of a posting key, choosing the index (one of `TAG`'s values). */
export type IndexTag = (typeof TAG)[keyof typeof TAG];
/** Tags an equality filter can use. */
export type FieldTag = Exclude<IndexTag, typeof TAG.time>;

/** On-disk format of the store (kept in its meta database). */
export const STORE_FORMAT = 2;
/** Width of a posting's time bucket, µs (one minute). */
export const BUCKET_US = 60_000_000;
/** Bytes after `[tag][value]` in a posting key: bucket (4) and base seq (8). */
export const KEY_SUFFIX_BYTES = 12;
/** Bytes of an item before its residual: time within the bucket (4), seq − base seq (4). */
export const ITEM_HEAD_BYTES = 8;
/** Address bytes kept in the key (family byte included): /24 for IPv4, /64 for IPv6. */
const ADDRESS_KEY_BYTES = { 4: 4, 6: 9 } as const;
const TWO32 = 2 ** 32;
const encoder = new TextEncoder();

/** The largest timeUs a key can hold (µs since the epoch). */
export const MAX_TIME_US = Number.MAX_SAFE_INTEGER;

/** The bucket of a time. */
export const bucketOf = (timeUs: number): number => Math.floor(timeUs / BUCKET_US);

/** `n` (0 ≤ n < 2^53) as 8 bytes big-endian into `out` at `at`. */
export function writeU64(out: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / TWO32);
  writeU32(out, at, hi);
  writeU32(out, at + 4, n - hi * TWO32);
}

/** `n` (0 ≤ n < 2^32) as 4 bytes big-endian into `out` at `at` (no DataView: this runs per item). */
export function writeU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

/** 4 bytes big-endian at `at`. */
export function readU32(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/** 8 bytes big-endian at `at` as a number. */
export function readU64(b: Uint8Array, at: number): number {
  return readU32(b, at) * TWO32 + readU32(b, at + 4);
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
  writeU32(out, 0, n);
  return out;
};
/** The value bytes of a destination port (2 bytes). */
export const portValue = (p: number): Uint8Array => Uint8Array.of(p >> 8, p & 0xff);

/** `[tag][value]`: the prefix of every posting key of one value. */
export function valuePrefix(tag: IndexTag, value: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(1 + value.length);
  out[0] = tag;
  out.set(value, 1);
  return out;
}

/** `prefix` followed by `[bucket]`, and `[baseSeq]` when given: a bound of a key range. */
export function postingKey(prefix: Uint8Array, bucket: number, baseSeq?: number): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + (baseSeq === undefined ? 4 : KEY_SUFFIX_BYTES));
  out.set(prefix, 0);
  writeU32(out, prefix.length, bucket);
  if (baseSeq !== undefined) writeU64(out, prefix.length + 4, baseSeq);
  return out;
}

/** A key just past every posting key starting with `prefix`. */
export function pastPrefix(prefix: Uint8Array): Buffer {
  return Buffer.concat([prefix, Buffer.alloc(KEY_SUFFIX_BYTES + 1, 0xff)]);
}

/** The parts of a posting key. */
export function parsePostingKey(key: Uint8Array): { prefixLength: number; bucket: number; baseSeq: number } {
  const prefixLength = key.length - KEY_SUFFIX_BYTES;
  return { prefixLength, bucket: readU32(key, prefixLength), baseSeq: readU64(key, prefixLength + 4) };
}

/** Residual bytes per item of the postings under `prefix` (`[tag][value]`). */
export function residualBytesOf(prefix: Uint8Array): number {
  const tag = prefix[0];
  if (tag === TAG.sport) return 1;
  if (tag === TAG.src || tag === TAG.dst) return prefix[1] === 4 ? 1 : 8;
  return 0;
}

/** How many bytes of a binary address the key keeps. */
export function addressKeyBytes(family: 4 | 6): number {
  return ADDRESS_KEY_BYTES[family];
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

/**
 * Receives one index value of an entry: its tag, the value bytes of the key, and the residual
 * bytes (`residual.subarray(at, at + residualBytes)`; none for most fields).
 */
export type IndexValueVisitor = (tag: IndexTag, value: Uint8Array | undefined, residual?: Uint8Array, at?: number) => void;

const NO_VALUE = undefined;

/** Visits every index value of an entry (the time index included), without allocating keys. */
export function forEachIndexValue(e: LogEntry, visit: IndexValueVisitor): void {
  visit(TAG.time, NO_VALUE);
  visit(TAG.node, cachedStringValue(e.node));
  if (e.kind === 'loss') {
    visit(TAG.loss, NO_VALUE);
    return;
  }
  visit(TAG.vmid, numberValue(e.vmid));
  visit(TAG.chain, cachedStringValue(e.chain));
  visit(TAG.direction, cachedStringValue(e.direction));
  visit(TAG.action, cachedStringValue(e.action));
  for (const [tag, text] of [
    [TAG.src, e.src],
    [TAG.dst, e.dst],
  ] as const) {
    const a = text === undefined ? undefined : addressBytes(text);
    if (!a) continue;
    const n = addressKeyBytes(a[0] === 4 ? 4 : 6);
    visit(tag, a.subarray(0, n), a, n);
  }
  if (e.sport !== undefined) visit(TAG.sport, Uint8Array.of(e.sport >> 8), Uint8Array.of(e.sport & 0xff), 0);
  if (e.dport !== undefined) visit(TAG.dport, portValue(e.dport));
  if (e.proto !== undefined) visit(TAG.proto, cachedStringValue(e.proto));
  if (e.ruleId !== undefined) visit(TAG.rule, cachedStringValue(e.ruleId));
}
