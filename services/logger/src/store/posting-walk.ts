/**
 * Reading posting lists (layout in `index-keys.ts`) in time order. A value's buckets are key
 * ordered, so they come in time order; the postings of one bucket (one per write batch) are
 * each sorted and are merged lazily through a heap, so a "newest 50" reads one bucket's
 * postings but decodes about 50 items, however many the bucket holds. A span of values (a
 * CIDR wider than one key value) merges the values' walks the same way.
 */
import { BUCKET_US, ITEM_HEAD_BYTES, KEY_SUFFIX_BYTES, bucketOf, parsePostingKey, pastPrefix, postingKey, readU32, residualBytesOf } from './index-keys.js';
import { RefHeap } from './ref-heap.js';

/** A place in time order: `(timeUs, seq)`, unique per entry. */
export interface EntryRef {
  readonly timeUs: number;
  readonly seq: number;
}

/** What the walks read postings from (the store). */
export interface PostingSource {
  /** Postings with keys in `[start, end)`, ascending or (reverse) descending. */
  postings(start: Buffer, end: Buffer, reverse: boolean, limit?: number): Iterable<{ key: Buffer; value: Buffer }>;
}

/** An inclusive range of residual bytes an item must have (a CIDR within one key value, a port). */
export interface ResidualRange {
  readonly lo: Uint8Array;
  readonly hi: Uint8Array;
}

/** Bounds and order of a walk. `budget.left` counts items examined down; at 0 the walk stops. */
export interface WalkOptions {
  readonly sinceUs: number;
  readonly untilUs: number;
  readonly reverse: boolean;
  /** Continue strictly after this place (in the walk's order). */
  readonly after?: EntryRef | undefined;
  readonly residual?: ResidualRange | undefined;
  readonly budget: { left: number };
}

/** Compares two places in time order. */
export const cmpRef = (a: EntryRef, b: EntryRef): number => a.timeUs - b.timeUs || a.seq - b.seq;

interface Cursor {
  readonly items: Buffer;
  readonly baseSeq: number;
  readonly count: number;
  /** Next item index. */
  k: number;
  ref: EntryRef;
}

function residualMatches(items: Uint8Array, at: number, r: ResidualRange): boolean {
  for (let i = 0; i < r.lo.length; i++) {
    const b = items[at + i]!;
    if (b !== r.lo[i]) {
      if (b < r.lo[i]!) return false;
      break;
    }
  }
  for (let i = 0; i < r.hi.length; i++) {
    const b = items[at + i]!;
    if (b !== r.hi[i]) return b < r.hi[i]!;
  }
  return true;
}

/**
 * The places of one bucket's postings that pass `o`, merged in the walk's order. `width` is the
 * item width of every posting in the group.
 */
function* mergeBucket(group: { items: Buffer; baseSeq: number }[], bucket: number, width: number, o: WalkOptions): Generator<EntryRef> {
  const startUs = bucket * BUCKET_US;
  const step = o.reverse ? -1 : 1;
  const { sinceUs, untilUs, after, residual, budget } = o;
  /** Moves `c` to its next passing item; false at the end of its posting or the budget. */
  const advance = (c: Cursor): boolean => {
    for (; c.k >= 0 && c.k < c.count; c.k += step) {
      if (budget.left-- <= 0) return false;
      const at = c.k * width;
      const timeUs = startUs + readU32(c.items, at);
      if (timeUs < sinceUs || timeUs > untilUs) continue;
      if (residual && !residualMatches(c.items, at + ITEM_HEAD_BYTES, residual)) continue;
      const ref = { timeUs, seq: c.baseSeq + readU32(c.items, at + 4) };
      if (after && (o.reverse ? cmpRef(ref, after) >= 0 : cmpRef(ref, after) <= 0)) continue;
      c.ref = ref;
      c.k += step;
      return true;
    }
    return false;
  };
  const cursors: Cursor[] = group.map((p) => {
    const count = p.items.length / width;
    return { items: p.items, baseSeq: p.baseSeq, count, k: o.reverse ? count - 1 : 0, ref: { timeUs: 0, seq: 0 } };
  });
  if (cursors.length === 1) {
    const c = cursors[0]!;
    while (advance(c)) yield c.ref;
    return;
  }
  const heap = new RefHeap<Cursor>(o.reverse ? (a, b) => cmpRef(a.ref, b.ref) > 0 : (a, b) => cmpRef(a.ref, b.ref) < 0);
  for (const c of cursors) if (advance(c)) heap.push(c);
  for (let c = heap.pop(); c; c = heap.pop()) {
    yield c.ref;
    if (advance(c)) heap.push(c);
  }
}

/** The bucket-aligned key range of a value's postings that can hold places passing `o`. */
function walkRange(prefix: Uint8Array, o: Pick<WalkOptions, 'sinceUs' | 'untilUs' | 'reverse' | 'after'>): { start: Buffer; end: Buffer } | undefined {
  let first = bucketOf(o.sinceUs);
  let last = bucketOf(o.untilUs);
  if (o.after) {
    if (o.reverse) last = Math.min(last, bucketOf(o.after.timeUs));
    else first = Math.max(first, bucketOf(o.after.timeUs));
  }
  if (first > last) return undefined;
  return { start: postingKey(prefix, first), end: postingKey(prefix, last + 1) };
}

/** The places of one value (`prefix` = `[tag][value]`) that pass `o`, in time order. */
export function* walkValue(src: PostingSource, prefix: Uint8Array, o: WalkOptions): Generator<EntryRef> {
  const range = walkRange(prefix, o);
  if (!range) return;
  const width = ITEM_HEAD_BYTES + residualBytesOf(prefix);
  let group: { items: Buffer; baseSeq: number }[] = [];
  let groupBucket = -1;
  for (const { key, value } of src.postings(range.start, range.end, o.reverse)) {
    const { bucket, baseSeq } = parsePostingKey(key);
    if (bucket !== groupBucket && group.length > 0) {
      yield* mergeBucket(group, groupBucket, width, o);
      if (o.budget.left <= 0) return;
      group = [];
    }
    groupBucket = bucket;
    group.push({ items: value, baseSeq });
  }
  if (group.length > 0) yield* mergeBucket(group, groupBucket, width, o);
}

/** The distinct `[tag][value]` prefixes with postings in `[start, end)`, ascending (seeking past each). */
export function* valuesIn(src: PostingSource, start: Buffer, end: Buffer): Generator<Buffer> {
  let seek = start;
  for (;;) {
    let first: Buffer | undefined;
    for (const { key } of src.postings(seek, end, false, 1)) first = key;
    if (!first) return;
    const prefix = Buffer.from(first.subarray(0, first.length - KEY_SUFFIX_BYTES));
    yield prefix;
    seek = pastPrefix(prefix);
  }
}

/** Places of every value in `[start, end)` passing `o`, merged in time order through a heap. */
export function* walkSpan(src: PostingSource, start: Buffer, end: Buffer, o: WalkOptions, maxValues: number): Generator<EntryRef> {
  type Head = { ref: EntryRef; it: Iterator<EntryRef> };
  const heap = new RefHeap<Head>(o.reverse ? (a, b) => cmpRef(a.ref, b.ref) > 0 : (a, b) => cmpRef(a.ref, b.ref) < 0);
  let values = 0;
  for (const prefix of valuesIn(src, start, end)) {
    o.budget.left--;
    if (++values > maxValues) return;
    const it = walkValue(src, prefix, o)[Symbol.iterator]();
    const n = it.next();
    if (!n.done) heap.push({ ref: n.value, it });
  }
  for (let h = heap.pop(); h; h = heap.pop()) {
    if (o.budget.left <= 0) return;
    yield h.ref;
    const n = h.it.next();
    if (!n.done) heap.push({ ref: n.value, it: h.it });
  }
}

/**
 * Items in the postings of `[start, end)` (whole postings, time not considered; with
 * `residual`, only matching items), counted up to `cap`: the planner's estimate of a range.
 */
export function countItems(src: PostingSource, start: Buffer, end: Buffer, cap: number, residual?: ResidualRange): number {
  let n = 0;
  let scanned = 0;
  for (const { key, value } of src.postings(start, end, false)) {
    const width = ITEM_HEAD_BYTES + residualBytesOf(key.subarray(0, key.length - KEY_SUFFIX_BYTES));
    const count = value.length / width;
    if (!residual) n += count;
    else for (let k = 0; k < count && n < cap; k++) if (residualMatches(value, k * width + ITEM_HEAD_BYTES, residual)) n++;
    scanned += count;
    // Residual matching reads items; beyond 8 × cap the range is large enough to count as full.
    if (n >= cap || scanned >= 8 * cap) return cap;
  }
  return n;
}

/** The bucket-aligned key range of a value's postings within a time range (for estimates). */
export function valueTimeRange(prefix: Uint8Array, sinceUs: number, untilUs: number): { start: Buffer; end: Buffer } {
  return walkRange(prefix, { sinceUs, untilUs, reverse: false }) ?? { start: postingKey(prefix, 0), end: postingKey(prefix, 0) };
}
