/**
 * Answers filters from the store's indexes. The plan: count each filtered field's index range
 * up to `PLAN_PROBE_KEYS`; a field with fewer keys is read whole (a CIDR span is sorted by time
 * first); otherwise the first exact field (in the order of `indexCandidates`, most selective
 * kinds first) is walked in time order; without one, the time index. Entries are read and
 * matched against the whole filter, except where one exact range covers it (then keys suffice).
 */
import type { LogEntry } from '@palisade/log-model';
import { MAX_TIME_US, SUFFIX_BYTES, TAG, keyWith, refOfKey, valuePrefix } from './index-keys.js';
import { coveredBy, indexCandidates, matchesFilter, type IndexCandidate, type LogQueryFilter } from './filter.js';
import type { LogStore } from './log-store.js';

/** A place in time order: `(timeUs, seq)`, unique per entry. */
export interface EntryRef {
  readonly timeUs: number;
  readonly seq: number;
}

/** A matched entry with its place. */
export interface QueryHit extends EntryRef {
  readonly entry: LogEntry;
}

/** Keys counted per field to choose the plan. */
export const PLAN_PROBE_KEYS = 4096;
/** Entries a query reads at most before it returns what it has (with a cursor to go on). */
export const DEFAULT_SCAN_BUDGET = 2_000_000;

export interface QueryOptions {
  readonly newestFirst?: boolean;
  /** Continue strictly after this place (in the query's order). */
  readonly after?: EntryRef;
  /** Stop after this many matches. */
  readonly limit?: number;
  /** Stop after reading this many index keys (default `DEFAULT_SCAN_BUDGET`). */
  readonly scanBudget?: number;
}

/** A query's result: hits, and where the scan stopped when more may follow. */
export interface QueryResult {
  readonly hits: QueryHit[];
  /** Set when the query stopped early (limit or budget): continue after this place. */
  readonly resumeAfter: EntryRef | undefined;
}

/** How a query was answered (for tests and the benchmark). */
export interface QueryPlan {
  readonly index: string;
  readonly covered: boolean;
}

const cmpRef = (a: EntryRef, b: EntryRef): number => a.timeUs - b.timeUs || a.seq - b.seq;

function timeBounds(prefix: Buffer, f: LogQueryFilter, o: QueryOptions): { start: Buffer; end: Buffer } {
  let start = keyWith(prefix, f.sinceUs, 0);
  let end = keyWith(prefix, Math.min(f.untilUs + 1, MAX_TIME_US), 0);
  if (o.after) {
    if (o.newestFirst) end = keyWith(prefix, o.after.timeUs, o.after.seq);
    else start = keyWith(prefix, o.after.timeUs, o.after.seq + 1);
  }
  return { start, end };
}

/** The keys of one range, counted up to `cap`. */
function countUpTo(store: LogStore, start: Buffer, end: Buffer, cap: number): number {
  let n = 0;
  for (const _ of store.keys(start, end, false, cap)) n++;
  return n;
}

interface Plan {
  readonly candidate: IndexCandidate | undefined;
  /** Read the candidate's range whole and sort (a small span). */
  readonly collect: boolean;
  /** Merge the span's values, each in time order (a large span, e.g. a wide CIDR). */
  readonly merge?: boolean;
  readonly covered: boolean;
}

function choosePlan(store: LogStore, f: LogQueryFilter, o: QueryOptions): Plan {
  const candidates = indexCandidates(f);
  let best: { c: IndexCandidate; n: number } | undefined;
  for (const c of candidates) {
    const { start, end } = c.exact ? timeBounds(c.prefix, f, o) : { start: c.start!, end: c.end! };
    const n = countUpTo(store, start, end, PLAN_PROBE_KEYS);
    if (!best || n < best.n) best = { c, n };
    if (n === 0) break;
  }
  if (best && best.n < PLAN_PROBE_KEYS) return { candidate: best.c, collect: !best.c.exact, covered: coveredBy(f, best.c) };
  const exact = candidates.find((c) => c.exact);
  if (exact) return { candidate: exact, collect: false, covered: coveredBy(f, exact) };
  const span = candidates.find((c) => !c.exact);
  if (span) return { candidate: span, collect: false, merge: true, covered: false };
  return { candidate: undefined, collect: false, covered: candidates.length === 0 && f.kind === undefined };
}

/** The places matching one index range, in the query's order. */
function* refsOf(store: LogStore, plan: Plan, f: LogQueryFilter, o: QueryOptions, budget: { left: number }): Generator<EntryRef> {
  const reverse = o.newestFirst === true;
  if (plan.collect) {
    const c = plan.candidate!;
    const refs: EntryRef[] = [];
    for (const key of store.keys(c.start!, c.end!, false)) {
      budget.left--;
      const r = refOfKey(key);
      if (r.timeUs < f.sinceUs || r.timeUs > f.untilUs) continue;
      if (o.after && (reverse ? cmpRef(r, o.after) >= 0 : cmpRef(r, o.after) <= 0)) continue;
      refs.push(r);
    }
    refs.sort(reverse ? (a, b) => cmpRef(b, a) : cmpRef);
    yield* refs;
    return;
  }
  if (plan.merge) {
    yield* mergeSpan(store, plan.candidate!, f, o, budget);
    return;
  }
  const prefix = plan.candidate ? plan.candidate.prefix : valuePrefix(TAG.time);
  const { start, end } = timeBounds(prefix, f, o);
  for (const key of store.keys(start, end, reverse)) {
    if (budget.left-- <= 0) return;
    const r = refOfKey(key);
    // A reverse walk starts at `end` inclusive: the cursor's own key.
    if (o.after && r.seq === o.after.seq && r.timeUs === o.after.timeUs) continue;
    yield r;
  }
}

/** Distinct values a span merge opens at most (beyond, it walks the time index instead). */
export const MAX_MERGED_VALUES = 100_000;

/**
 * The places of a span (a CIDR) in time order without sorting it whole: each address's keys
 * are in time order already, so the span's distinct addresses are found by seeking past each
 * one, and their ranges merged through a heap. Reads (limit + values) keys, not the span.
 */
function* mergeSpan(store: LogStore, c: IndexCandidate, f: LogQueryFilter, o: QueryOptions, budget: { left: number }): Generator<EntryRef> {
  const reverse = o.newestFirst === true;
  type Head = { ref: EntryRef; it: Iterator<Buffer> };
  const heap: Head[] = [];
  const before = (a: EntryRef, b: EntryRef): boolean => (reverse ? cmpRef(a, b) > 0 : cmpRef(a, b) < 0);
  const push = (h: Head): void => {
    heap.push(h);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(heap[i]!.ref, heap[p]!.ref)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const popTop = (): void => {
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!.ref, heap[m]!.ref)) m = l;
      if (r < heap.length && before(heap[r]!.ref, heap[m]!.ref)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  const advance = (it: Iterator<Buffer>): void => {
    for (;;) {
      const n = it.next();
      if (n.done) return;
      budget.left--;
      const ref = refOfKey(n.value);
      if (o.after && ref.seq === o.after.seq && ref.timeUs === o.after.timeUs) continue;
      push({ ref, it });
      return;
    }
  };
  // The distinct values of the span: [tag][value] is the key minus its [time][seq] suffix.
  let seek = c.start!;
  let values = 0;
  for (;;) {
    let first: Buffer | undefined;
    for (const k of store.keys(seek, c.end!, false, 1)) first = k;
    if (!first) break;
    budget.left--;
    const prefix = first.subarray(0, first.length - SUFFIX_BYTES);
    if (++values > MAX_MERGED_VALUES) return;
    const { start, end } = timeBounds(Buffer.from(prefix), f, o);
    advance(store.keys(start, end, reverse)[Symbol.iterator]());
    seek = Buffer.concat([prefix, Buffer.alloc(SUFFIX_BYTES + 1, 0xff)]);
  }
  while (heap.length > 0) {
    if (budget.left <= 0) return;
    const top = heap[0]!;
    yield top.ref;
    popTop();
    advance(top.it);
  }
}

/** How `query` would answer `f` now. */
export function explainPlan(store: LogStore, f: LogQueryFilter, o: QueryOptions = {}): QueryPlan {
  const p = choosePlan(store, f, o);
  return { index: p.candidate ? `${p.candidate.field}${p.collect ? ' (span, sorted)' : p.merge ? ' (span, merged)' : ''}` : 'time', covered: p.covered };
}

/** Entries matching `f` in time order (oldest first unless `newestFirst`). */
export function queryEntries(store: LogStore, f: LogQueryFilter, o: QueryOptions = {}): QueryResult {
  const plan = choosePlan(store, f, o);
  const limit = o.limit ?? Infinity;
  const budget = { left: o.scanBudget ?? DEFAULT_SCAN_BUDGET };
  const hits: QueryHit[] = [];
  let last: EntryRef | undefined;
  for (const r of refsOf(store, plan, f, o, budget)) {
    last = r;
    const entry = store.get(r.seq);
    if (!entry || !matchesFilter(entry, f)) continue;
    hits.push({ ...r, entry });
    if (hits.length >= limit) return { hits, resumeAfter: r };
  }
  return { hits, resumeAfter: budget.left <= 0 ? last : undefined };
}

/**
 * Visits matching places in time order without reading entries where the index covers the
 * filter (counting, skipping pages); `visit` returns false to stop.
 */
export function forEachMatch(store: LogStore, f: LogQueryFilter, visit: (r: EntryRef, entry: () => LogEntry | undefined) => boolean, o: QueryOptions = {}): void {
  const plan = choosePlan(store, f, o);
  const budget = { left: o.scanBudget ?? Infinity };
  for (const r of refsOf(store, plan, f, o, budget)) {
    let cached: LogEntry | undefined;
    const read = (): LogEntry | undefined => (cached ??= store.get(r.seq));
    if (!plan.covered) {
      const e = read();
      if (!e || !matchesFilter(e, f)) continue;
    }
    if (!visit(r, read)) return;
  }
}

/** How many entries match `f`. */
export function countMatches(store: LogStore, f: LogQueryFilter): number {
  let n = 0;
  forEachMatch(store, f, () => {
    n++;
    return true;
  });
  return n;
}
