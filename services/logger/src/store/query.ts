/**
 * Answers filters from the store's posting lists. The plan: count each filtered field's items
 * up to `PLAN_PROBE_KEYS`; a field with fewer is read whole (a CIDR span is sorted by time
 * first); otherwise the first exact field (in the order of `indexCandidates`, most selective
 * kinds first) is walked in time order; with only a wide CIDR, the span's values are merged in
 * time order; without any field, the time index. Entries are read and matched against the whole
 * filter, except where one exact range covers it (then the postings suffice).
 */
import type { LogEntry } from '@palisade/log-model';
import { MAX_TIME_US, TAG, valuePrefix } from './index-keys.js';
import { coveredBy, indexCandidates, matchesFilter, type IndexCandidate, type LogQueryFilter } from './filter.js';
import { cmpRef, countItems, valueTimeRange, valuesIn, walkSpan, walkValue, type EntryRef, type WalkOptions } from './posting-walk.js';
import type { LogStore } from './log-store.js';

export type { EntryRef } from './posting-walk.js';

/** A matched entry with its place. */
export interface QueryHit extends EntryRef {
  readonly entry: LogEntry;
}

/** Index items counted per field to choose the plan. */
export const PLAN_PROBE_KEYS = 4096;
/** Index items a query reads at most before it returns what it has (with a cursor to go on). */
export const DEFAULT_SCAN_BUDGET = 2_000_000;

/** How a query walks: order, cursor, a match limit and a budget of index items. */
export interface QueryOptions {
  readonly newestFirst?: boolean;
  /** Continue strictly after this place (in the query's order). */
  readonly after?: EntryRef;
  /** Stop after this many matches. */
  readonly limit?: number;
  /** Stop after reading this many index items (default `DEFAULT_SCAN_BUDGET`). */
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

interface Plan {
  readonly candidate: IndexCandidate | undefined;
  /** Read the candidate's span whole and sort (a small span). */
  readonly collect: boolean;
  /** Merge the span's values, each in time order (a large span, e.g. a wide CIDR). */
  readonly merge?: boolean;
  readonly covered: boolean;
}

function estimate(store: LogStore, c: IndexCandidate, f: LogQueryFilter): number {
  if (!c.exact) return countItems(store, c.start!, c.end!, PLAN_PROBE_KEYS);
  const { start, end } = valueTimeRange(c.prefix, f.sinceUs, f.untilUs);
  return countItems(store, start, end, PLAN_PROBE_KEYS, c.residual);
}

function choosePlan(store: LogStore, f: LogQueryFilter): Plan {
  const candidates = indexCandidates(f);
  let best: { c: IndexCandidate; n: number } | undefined;
  for (const c of candidates) {
    const n = estimate(store, c, f);
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

/** Distinct values a span merge opens at most (beyond, it stops with a cursor). */
export const MAX_MERGED_VALUES = 100_000;

/** The places matching one plan, in the query's order. */
function* refsOf(store: LogStore, plan: Plan, f: LogQueryFilter, o: QueryOptions, budget: { left: number }): Generator<EntryRef> {
  const reverse = o.newestFirst === true;
  const c = plan.candidate;
  const walk: WalkOptions = { sinceUs: f.sinceUs, untilUs: Math.min(f.untilUs, MAX_TIME_US), reverse, after: o.after, residual: c?.residual, budget };
  if (c && plan.collect) {
    // A small span: every value's places, sorted once (no time order across values).
    const refs: EntryRef[] = [];
    const all: WalkOptions = { ...walk, reverse: false, after: undefined };
    const after = o.after;
    for (const prefix of valuesIn(store, c.start!, c.end!)) {
      for (const r of walkValue(store, prefix, all)) if (!after || (reverse ? cmpRef(r, after) < 0 : cmpRef(r, after) > 0)) refs.push(r);
    }
    refs.sort(reverse ? (a, b) => cmpRef(b, a) : cmpRef);
    yield* refs;
    return;
  }
  if (c && plan.merge) {
    yield* walkSpan(store, c.start!, c.end!, walk, MAX_MERGED_VALUES);
    return;
  }
  yield* walkValue(store, c ? c.prefix : valuePrefix(TAG.time), walk);
}

/** How `query` would answer `f` now. */
export function explainPlan(store: LogStore, f: LogQueryFilter): QueryPlan {
  const p = choosePlan(store, f);
  return { index: p.candidate ? `${p.candidate.field}${p.collect ? ' (span, sorted)' : p.merge ? ' (span, merged)' : ''}` : 'time', covered: p.covered };
}

/** Entries matching `f` in time order (oldest first unless `newestFirst`). */
export function queryEntries(store: LogStore, f: LogQueryFilter, o: QueryOptions = {}): QueryResult {
  const plan = choosePlan(store, f);
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
  const plan = choosePlan(store, f);
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
