/** The most frequent sources, destination ports, rules or guests among matching entries. */
import type { LogEntry } from '@palisade/log-model';
import { LoggerError } from '../errors.js';
import { forEachMatch } from './query.js';
import type { LogQueryFilter } from './filter.js';
import type { LogStore } from './log-store.js';

/** What `Top` groups by. */
export const TOP_FIELDS = ['source', 'dport', 'rule', 'vm'] as const;
/** A field Top groups by, as the request's `by` names it (checked by `parseTopField`). */
export type TopField = (typeof TOP_FIELDS)[number];

/**
 * One group of a Top answer: the field's value as text (address, port, rule id or vmid) and how
 * many entries have it.
 */
export interface TopGroup {
  readonly key: string;
  readonly count: number;
}

/** A Top answer: the largest groups, most frequent first. */
export interface TopResult {
  readonly groups: TopGroup[];
  /** Entries counted (those with the field). */
  readonly total: number;
}

/** Entries read at most by one Top call (a bound on its time; the result says how many were counted). */
export const TOP_SCAN_BUDGET = 20_000_000;

function keyOf(e: LogEntry, by: TopField): string | undefined {
  if (e.kind !== 'packet') return undefined;
  switch (by) {
    case 'source':
      return e.src;
    case 'dport':
      return e.dport === undefined ? undefined : String(e.dport);
    case 'rule':
      return e.ruleId;
    case 'vm':
      return String(e.vmid);
  }
}

/** Checks the `by` field of a request. */
export function parseTopField(by: string): TopField {
  if (!(TOP_FIELDS as readonly string[]).includes(by)) {
    throw new LoggerError('invalid-argument', `top: expected one of ${TOP_FIELDS.join(', ')}, got '${by}'`, { field: 'by' });
  }
  return by as TopField;
}

/** The `limit` largest groups (ties by key), over entries matching `f`. */
export function topEntries(store: LogStore, f: LogQueryFilter, by: TopField, limit: number): TopResult {
  const counts = new Map<string, number>();
  let total = 0;
  forEachMatch(
    store,
    f,
    (_r, read) => {
      const e = read();
      const k = e ? keyOf(e, by) : undefined;
      if (k !== undefined) {
        counts.set(k, (counts.get(k) ?? 0) + 1);
        total++;
      }
      return true;
    },
    { scanBudget: TOP_SCAN_BUDGET },
  );
  const groups = [...counts].map(([key, count]) => ({ key, count }));
  groups.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { groups: groups.slice(0, limit), total };
}
