/**
 * Watch streams over the local mirror: a snapshot then every change, or a replay from a
 * revision, in revision order, never duplicated, with an explicit `compacted` error instead of
 * a gap. Each watcher is a cursor into the mirror's log: nothing is buffered per watcher beyond
 * one read batch, so a slow client only holds back itself (the gRPC layer applies backpressure).
 */
import { ConfigdError } from '../errors.js';
import type { LmdbMirror, LogRecord } from './lmdb-mirror.js';

export interface WatchOptions {
  /** Normalized path prefixes ("" or none = everything). */
  readonly prefixes: readonly string[];
  /** 0: snapshot then changes; N: every change with revision >= N. */
  readonly startRevision: number;
  /** PROGRESS after this long without events. */
  readonly progressIntervalMs: number;
}

export type WatchEvent =
  | { readonly type: 'put' | 'delete' | 'snapshot'; readonly record: LogRecord }
  | { readonly type: 'snapshot-end' | 'progress'; readonly revision: number };

/** Default progress interval. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;
const READ_BATCH = 256;

function matcher(prefixes: readonly string[]): (path: string) => boolean {
  const ps = prefixes.filter((p) => p !== '');
  if (ps.length === 0 || ps.length < prefixes.length) return () => true;
  return (path) => ps.some((p) => path.startsWith(p));
}

/** Yields watch events until `signal` aborts (then returns) or the resume point is lost (throws). */
export async function* watchMirror(mirror: LmdbMirror, opts: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
  const matches = matcher(opts.prefixes);
  let cursor: number;
  if (opts.startRevision === 0) {
    // One LMDB read transaction: the snapshot is exactly revision `at`.
    const { revision: at, records } = mirror.snapshot(opts.prefixes);
    for (const record of records) yield { type: 'snapshot', record };
    yield { type: 'snapshot-end', revision: at };
    cursor = at + 1;
  } else {
    cursor = opts.startRevision;
  }
  let lastReported = cursor - 1;
  while (!signal.aborted) {
    if (cursor <= mirror.revision) {
      if (cursor < mirror.oldestRevision) {
        throw new ConfigdError(
          'compacted',
          `revision ${cursor} is no longer available on this node (oldest: ${mirror.oldestRevision}); restart the watch with a snapshot`,
          { oldestRevision: mirror.oldestRevision },
        );
      }
      const batch = mirror.readLog(cursor, READ_BATCH);
      if (batch.length > 0 && batch[0]!.revision !== cursor && cursor >= mirror.oldestRevision && cursor > 0) {
        // A hole inside the retained range cannot happen by construction; refuse rather than skip.
        if (batch[0]!.revision > cursor && mirror.oldestRevision <= cursor) {
          throw new ConfigdError('compacted', `revision ${cursor} is missing from the local log`, {
            oldestRevision: mirror.oldestRevision,
          });
        }
      }
      for (const record of batch) {
        cursor = record.revision + 1;
        if (!matches(record.path)) continue;
        yield { type: record.op, record };
        lastReported = record.revision;
        if (signal.aborted) return;
      }
      if (batch.length === 0) cursor = mirror.revision + 1;
      continue;
    }
    const advanced = await mirror.waitForRevision(cursor, opts.progressIntervalMs, signal);
    if (signal.aborted) return;
    if (!advanced && cursor - 1 > lastReported) {
      yield { type: 'progress', revision: cursor - 1 };
      lastReported = cursor - 1;
    } else if (!advanced) {
      yield { type: 'progress', revision: cursor - 1 };
    }
  }
}
