/**
 * Following the log: first the backlog (the last N matching entries, or everything since the
 * filter's time), then every entry as it is committed, in arrival order. New entries are read
 * from the store after each commit (never from a buffer), so a slow follower misses nothing; it
 * only falls behind. Time bounds of the filter apply to the backlog, not to new arrivals (a node
 * that was cut off delivers old entries late; a follower still sees them).
 */
import type { LogEntry } from '@palisade/log-model';
import { MAX_TIME_US } from './index-keys.js';
import { matchesFilter, type LogQueryFilter } from './filter.js';
import { queryEntries, type EntryRef } from './query.js';
import type { LogStore } from './log-store.js';

/** Entries read from the store per step. */
const PAGE = 1000;

/**
 * How a Tail starts and stops: first the `last` newest matching entries, then live ones until
 * `signal` aborts.
 */
export interface TailOptions {
  /** Start with the last N matching entries. */
  readonly last?: number;
  readonly signal: AbortSignal;
}

/**
 * The entries of a Tail stream (see the file comment). It never ends by itself: the caller's
 * `o.signal` (the gRPC call's) ends it.
 */
export async function* tailEntries(store: LogStore, f: LogQueryFilter, o: TailOptions): AsyncGenerator<LogEntry> {
  const snapshot = store.lastSeq;
  if (o.last && o.last > 0) {
    const { hits } = queryEntries(store, f, { newestFirst: true, limit: o.last });
    for (const h of hits.reverse()) if (h.seq <= snapshot) yield h.entry;
  } else if (f.sinceUs > 0) {
    let after: EntryRef | undefined;
    for (;;) {
      if (o.signal.aborted) return;
      const r = queryEntries(store, f, { limit: PAGE, ...(after ? { after } : {}) });
      for (const h of r.hits) if (h.seq <= snapshot) yield h.entry;
      if (!r.resumeAfter) break;
      after = r.resumeAfter;
    }
  }
  const live: LogQueryFilter = { ...f, sinceUs: 0, untilUs: MAX_TIME_US };
  let seq = snapshot;
  const readNew = function* (): Generator<LogEntry, number> {
    let n = 0;
    for (const s of store.after(seq, PAGE)) {
      seq = s.seq;
      n++;
      if (matchesFilter(s.entry, live, false)) yield s.entry;
    }
    return n;
  };
  while (!o.signal.aborted) {
    const read = yield* readNew();
    if (read === PAGE) continue;
    // Register before the second look, so that a commit in between is not missed.
    const next = store.committed(o.signal);
    if ((yield* readNew()) > 0) continue;
    await next;
  }
}
