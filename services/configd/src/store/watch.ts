/**
 * Watch streams over the local mirror: a snapshot then every change, or a replay from a
 * revision, in revision order, never duplicated, with an explicit `compacted` error instead of
 * a gap. Each watcher is a cursor into the mirror's log: nothing is held per watcher beyond one
 * read batch (at most `READ_BATCH` records and `maxBatchBytes` of content past the first
 * record), and the snapshot is an index of paths and revisions whose records are read one at a
 * time as the client takes them. The generator is pulled only as fast as the gRPC stream drains
 * (grpc-kit's flow control), so a client that does not read stops its watch reading the store.
 */
import { ConfigdError } from '../errors.js';
import type { LmdbMirror, LogRecord } from './lmdb-mirror.js';

/**
 * Options of `watchMirror`, from a Watch request; `prefixes` must be normalized already
 * (`DocumentStore.watch` does it), because they are compared with stored paths as they are.
 */
export interface WatchOptions {
  /** Normalized path prefixes ("" or none = everything). */
  readonly prefixes: readonly string[];
  /** 0: snapshot then changes; N: every change with revision >= N. */
  readonly startRevision: number;
  /** PROGRESS after this long without events. */
  readonly progressIntervalMs: number;
  /** Events without content: records are dropped from memory as soon as they are read. */
  readonly metadataOnly?: boolean;
  /** Content bytes of one log read past its first record. Default `DEFAULT_WATCH_BATCH_BYTES`. */
  readonly maxBatchBytes?: number;
}

/**
 * What `watchMirror` yields, in revision order: `snapshot` records then `snapshot-end` at the
 * snapshot's revision, changes as `put` and `delete`, and `progress` to advance a quiet client's
 * resume point.
 */
export type WatchEvent =
  | { readonly type: 'put' | 'delete' | 'snapshot'; readonly record: LogRecord }
  | { readonly type: 'snapshot-end' | 'progress'; readonly revision: number };

/** Default progress interval. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;
const READ_BATCH = 256;
/** Default content bytes of one watch log read (past its first record). */
export const DEFAULT_WATCH_BATCH_BYTES = 256 * 1024;

/** The record without its content when the watch sends none. */
function shaped(record: LogRecord, metadataOnly: boolean | undefined): LogRecord {
  if (!metadataOnly || record.content === undefined) return record;
  const { content: _dropped, ...meta } = record;
  return meta;
}

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
    // One LMDB read transaction: the index is exactly revision `at`; the records are read lazily.
    const { revision: at, entries } = mirror.snapshotIndex(opts.prefixes);
    for (const entry of entries) {
      const record = mirror.getRevision(entry.path, entry.revision);
      if (!record) {
        // Trimmed while this client was not reading: the snapshot can no longer be exact.
        throw new ConfigdError(
          'compacted',
          `revision ${entry.revision} of '${entry.path}' was trimmed before the snapshot reached it; restart the watch`,
          { oldestRevision: mirror.oldestRevision },
        );
      }
      yield { type: 'snapshot', record: shaped(record, opts.metadataOnly) };
      if (signal.aborted) return;
    }
    entries.length = 0;
    yield { type: 'snapshot-end', revision: at };
    cursor = at + 1;
  } else {
    cursor = opts.startRevision;
  }
  let lastReported = cursor - 1;
  while (!signal.aborted) {
    // Fed up to the revision the mirror has planned, before its LMDB commit (`visibleRevision`).
    const head = mirror.visibleRevision;
    if (cursor <= head) {
      if (cursor < mirror.oldestRevision) {
        throw new ConfigdError(
          'compacted',
          `revision ${cursor} is no longer available on this node (oldest: ${mirror.oldestRevision}); restart the watch with a snapshot`,
          { oldestRevision: mirror.oldestRevision },
        );
      }
      const batch = mirror.readVisibleLog(cursor, READ_BATCH, opts.maxBatchBytes ?? DEFAULT_WATCH_BATCH_BYTES).map((r) => shaped(r, opts.metadataOnly));
      if (batch.length > 0 && batch[0]!.revision !== cursor && cursor >= mirror.oldestRevision && cursor > 0) {
        // A hole inside the retained range is only ever revisions the mirror consumed without a
        // document (skipped records, batch control records); anything else: refuse, do not skip.
        if (batch[0]!.revision > cursor && mirror.oldestRevision <= cursor && !mirror.consumedWithoutRecord(cursor, batch[0]!.revision)) {
          throw new ConfigdError('compacted', `revision ${cursor} is missing from the local log`, {
            oldestRevision: mirror.oldestRevision,
          });
        }
      }
      // Nothing left to read up to the head (revisions consumed without a record): skip to it.
      if (batch.length === 0) cursor = head + 1;
      // Taken out of the batch one by one: a record the client is slow to take is held only by its event.
      for (let record = batch.shift(); record !== undefined; record = batch.shift()) {
        cursor = record.revision + 1;
        if (!matches(record.path)) continue;
        lastReported = record.revision;
        yield { type: record.op, record };
        if (signal.aborted) return;
      }
      continue;
    }
    const advanced = await mirror.waitForVisible(cursor, opts.progressIntervalMs, signal);
    if (signal.aborted) return;
    if (!advanced && cursor - 1 > lastReported) {
      yield { type: 'progress', revision: Math.min(cursor - 1, mirror.visibleRevision) };
      lastReported = cursor - 1;
    } else if (!advanced) {
      yield { type: 'progress', revision: Math.min(cursor - 1, mirror.visibleRevision) };
    }
  }
}
