/**
 * The local LMDB mirror of the replicated document log. It follows the JetStream stream in
 * revision order and keeps, per node:
 * - `revs`: revision → record (the change log, with content), trimmed to `maxLogRevisions`
 *   except for the newest `historyDepth` revisions of every document, which history needs;
 * - `paths`: [path, revision] → null, the per-document index of `revs` (history);
 * - `current`: path → revision of the live (non-deleted) revision of every document;
 * - `meta`: applied revision, oldest resumable revision, identity of the followed stream.
 *
 * All writes go through `apply()`: one LMDB transaction per batch, committed off the event
 * loop (lmdb-js async transactions with overlapping sync) and chained so batches commit in
 * order. `revision` advances when a batch is committed; readers that need a state matching a
 * revision exactly (watch snapshots) read inside one LMDB read transaction together with the
 * applied revision stored in the same commit. The mirror can always be rebuilt from the stream:
 * it resumes at its committed applied revision + 1. Reads, listings and watch replays keep
 * working while NATS is unreachable.
 */
import { RevisionWaiters } from './revision-waiters.js';
import { open, type Database, type RootDatabase } from 'lmdb';
import { BoundedQueue, type Logger, type QueueStats } from '@palisade/service-kit';
import { BATCH_CONTROL_KEY, type LogRecord, type LogSink } from '../log-record.js';
import { BatchStaging, type BatchOutcome, type HeldKind } from './batch-staging.js';
import { SKIP_REASONS, recordSkipReason, type SkipReason } from './record-validation.js';
import { VisibleTail, type TailEntry } from './visible-tail.js';

export type { LogRecord } from '../log-record.js';


/**
 * Options of `LmdbMirror.open`; `historyDepth` and `maxLogRevisions` together decide what is
 * trimmed (file header), and configd requires `maxLogRevisions` ≥ `historyDepth`.
 */
export interface LmdbMirrorOptions {
  /** Directory of the LMDB environment (created when missing). */
  readonly path: string;
  /** Revisions of each document kept for history even when the log is trimmed. */
  readonly historyDepth: number;
  /** Log entries kept for watch replay before the oldest are trimmed. */
  readonly maxLogRevisions: number;
  /** Most records waiting for the next commit; `apply` waits for room beyond it. Default 4096. */
  readonly maxQueuedRecords?: number;
  readonly logger: Logger;
}

/** Default bound of the records waiting for the next LMDB commit. */
export const DEFAULT_MAX_QUEUED_RECORDS = 4096;

/** Default number of revisions kept per document (the JetStream KV maximum). */
export const DEFAULT_HISTORY_DEPTH = 64;
/** Default number of log entries kept for watch resume. */
export const DEFAULT_MAX_LOG_REVISIONS = 100_000;

type AppliedListener = (revision: number) => void;

const MAX_REVISION = Number.MAX_SAFE_INTEGER;

/**
 * The local mirror of the replicated log (file header): `JetStreamLog` feeds it with `apply()`, the
 * store and the watches read it. Open it with `LmdbMirror.open`; close it after the replication has
 * stopped feeding it.
 */
export class LmdbMirror implements LogSink {
  readonly #root: RootDatabase;
  readonly #revs: Database<LogRecord, number>;
  readonly #paths: Database<null, [string, number]>;
  readonly #current: Database<number, string>;
  readonly #meta: Database<unknown, string>;
  /** Revisions consumed without a record (skipped, batch control): known holes of `revs`. */
  readonly #consumed: Database<null, number>;
  readonly #opts: LmdbMirrorOptions;
  readonly #listeners = new Set<AppliedListener>();
  readonly #waiters = new RevisionWaiters();
  #revision: number;
  #oldest: number;
  /**
   * Entries in `revs`, counted here: lmdb-js' `getCount()` walks the whole database, which
   * after every applied batch cost time proportional to the log (up to `maxLogRevisions`).
   */
  #logCount: number;
  #closed = false;
  #chain: Promise<void> = Promise.resolve();
  #resync = false;
  /** Records waiting for the next commit (back-pressure: `apply` waits for room). */
  readonly #queued: BoundedQueue<LogRecord>;
  #queuedDone: Promise<void> | undefined;
  /** The `apply` calls still enqueueing, in call order. */
  #enqueueing: Promise<void> = Promise.resolve();
  /** Followed records skipped since open, by reason (see `record-validation.ts`). */
  readonly #skipped = new Map<SkipReason, number>(SKIP_REASONS.map((r) => [r, 0]));
  /** Atomic batches (imports): records held until their batch commits or aborts. */
  readonly #staging = new BatchStaging();
  /** Highest revision received (applied or held). */
  #seen: number;
  /** Planned revisions not committed yet, which watchers already get (see `visible-tail.ts`). */
  readonly #tail: VisibleTail<LogRecord>;

  private constructor(opts: LmdbMirrorOptions) {
    this.#opts = opts;
    this.#queued = new BoundedQueue({ maxItems: opts.maxQueuedRecords ?? DEFAULT_MAX_QUEUED_RECORDS, overflow: 'reject' });
    this.#root = open({ path: opts.path, maxDbs: 8, compression: false });
    this.#revs = this.#root.openDB<LogRecord, number>({ name: 'revs' });
    this.#paths = this.#root.openDB<null, [string, number]>({ name: 'paths' });
    this.#current = this.#root.openDB<number, string>({ name: 'current' });
    this.#meta = this.#root.openDB<unknown, string>({ name: 'meta' });
    this.#consumed = this.#root.openDB<null, number>({ name: 'consumed' });
    this.#revision = Number(this.#meta.get('applied') ?? 0);
    this.#oldest = Number(this.#meta.get('oldest') ?? 0);
    this.#logCount = this.#revs.getCount();
    this.#seen = this.#revision;
    this.#tail = new VisibleTail(this.#revision);
  }

  /** Opens (or creates) the mirror in `opts.path`. Close it with `close()`. */
  static open(opts: LmdbMirrorOptions): LmdbMirror {
    return new LmdbMirror(opts);
  }

  /** The highest revision applied: every answer from the mirror reflects this revision. */
  get revision(): number {
    return this.#revision;
  }

  /**
   * The highest revision watchers may see: planned and announced, committed to LMDB or about to
   * be (≥ `revision`). A read that must not show less than a watcher waits for `revision` to
   * reach it (`DocumentStore.settle`).
   */
  get visibleRevision(): number {
    return this.#tail.revision;
  }

  /** The newest revision not committed yet of a document matching `matches` (0: none). */
  pendingRevisionOf(matches: (path: string) => boolean): number {
    return this.#tail.newestPending(matches);
  }

  /**
   * The oldest revision a watch can resume from: every revision from here to `revision` is in
   * the log. 0 while the mirror is empty.
   */
  get oldestRevision(): number {
    return this.#oldest;
  }

  /** Number of live documents. */
  get documentCount(): number {
    return this.#current.getCount();
  }

  /** The identity of the stream the mirror follows (`name@created`), if any. */
  get streamIdentity(): string | undefined {
    const v = this.#meta.get('stream');
    return typeof v === 'string' ? v : undefined;
  }

  /**
   * Binds the mirror to a stream. When it was following a different stream (the bucket was
   * deleted and recreated), the mirror is emptied so that it cannot mix two histories.
   */
  bindStream(identity: string): void {
    const previous = this.streamIdentity;
    if (previous === identity) return;
    if (previous !== undefined) {
      this.#opts.logger.warn({ previous, identity }, 'replication stream changed; resetting the local mirror');
    }
    this.#root.transactionSync(() => {
      if (previous !== undefined) {
        this.#revs.clearSync();
        this.#paths.clearSync();
        this.#current.clearSync();
        this.#meta.clearSync();
        this.#consumed.clearSync();
      }
      void this.#meta.put('stream', identity);
    });
    if (previous !== undefined) {
      this.#revision = 0;
      this.#oldest = 0;
      this.#logCount = 0;
      this.#seen = 0;
      this.#staging.reset();
      this.#tail.reset(0);
    }
  }

  /**
   * Applies records in revision order in one durable transaction. Records at or below the
   * applied revision are skipped (so redelivery after a reconnect never duplicates). A jump
   * in revisions (the stream dropped messages this mirror never saw) moves `oldestRevision`
   * past the gap, so watches cannot resume across it.
   */
  apply(records: readonly LogRecord[]): Promise<void> {
    // Records arriving while a commit is in flight are coalesced into the next transaction:
    // one LMDB commit costs about the same for one record as for hundreds. A full queue makes
    // the caller wait until the next commit takes what is queued; overlapping calls enqueue in
    // call order, so that a later batch cannot pass an earlier one.
    const enqueued = this.#enqueueing.then(async () => {
      for (const r of records) {
        const pushed = this.#queued.pushWait(r);
        // Its failure is logged by the chain and reported through the commit returned below.
        this.#scheduleCommit().catch(() => undefined);
        await pushed;
      }
      return { commit: this.#scheduleCommit() };
    });
    this.#enqueueing = enqueued.then(
      () => undefined,
      () => undefined,
    );
    return enqueued.then((e) => e.commit);
  }

  /** Followed records skipped since open (not a document path, binary, wrong digest), by reason. */
  get skippedRecords(): ReadonlyMap<SkipReason, number> {
    return this.#skipped;
  }

  /** Records waiting for the next commit (pending; nothing is ever dropped). */
  get queueStats(): QueueStats {
    return this.#queued.stats;
  }

  /** The commit that will take what is queued now (scheduled after the one in flight). */
  #scheduleCommit(): Promise<void> {
    if (this.#queuedDone) return this.#queuedDone;
    const next = this.#chain.then(async () => {
      this.#queuedDone = undefined;
      await this.#applyBatch(this.#queued.drain());
    });
    this.#queuedDone = next;
    this.#chain = next.catch((err: unknown) => {
      // Later batches are dropped until the follower redelivers from revision + 1.
      this.#resync = true;
      this.#staging.reset();
      this.#seen = this.#revision;
      this.#tail.reset(this.#revision);
      this.#opts.logger.error({ err }, 'cannot commit replicated records to the mirror');
    });
    return next;
  }

  /** How the mirror treats a followed record (skips are counted and logged here, once). */
  #kindOf(r: LogRecord): HeldKind {
    if (r.path === BATCH_CONTROL_KEY) return 'control';
    const skip = recordSkipReason(r);
    if (!skip) return 'document';
    // Not written by configd: never served, but the revision is consumed (no gap).
    this.#skipped.set(skip, (this.#skipped.get(skip) ?? 0) + 1);
    this.#opts.logger.warn({ revision: r.revision, key: r.path.slice(0, 200), reason: skip, writerNode: r.writerNode.slice(0, 100) }, 'skipped a replicated record configd did not write');
    return 'skip';
  }

  /** Whether every revision in [from, to) was consumed without a record (a known hole of the log). */
  consumedWithoutRecord(from: number, to: number): boolean {
    if (to <= from) return true;
    const split = Math.min(to, this.#revision + 1);
    const committed = split > from ? this.#consumed.getKeysCount({ start: from, end: split }) : 0;
    return committed + this.#tail.consumedCount(Math.max(from, split), to) === to - from;
  }

  /** How an atomic batch (import) ended, once this mirror has seen it end (recent batches). */
  batchOutcome(id: string): BatchOutcome | undefined {
    return this.#staging.outcomeOf(id);
  }

  async #applyBatch(records: readonly LogRecord[]): Promise<void> {
    if (this.#closed) return;
    const fresh = records.filter((r) => r.revision > this.#seen).sort((a, b) => a.revision - b.revision);
    if (fresh.length === 0) return;
    if (this.#resync) {
      if (fresh[0]!.revision !== this.#revision + 1) return;
      this.#resync = false;
    }
    for (const r of fresh) {
      this.#staging.push(r, this.#kindOf(r));
      this.#seen = r.revision;
    }
    const ready = this.#staging.release();
    if (ready.length === 0) return;
    // Planned before the commit (the chain runs one batch at a time, so the committed state is
    // the state before this batch) and announced to watchers at once: the stream, not LMDB, is
    // the source of truth; reads of this configd wait for the commit (see `visible-tail.ts`).
    let revision = this.#revision;
    let oldest = this.#oldest;
    const planned: TailEntry<LogRecord>[] = [];
    /** Documents as this batch leaves them (a restore needs the previous content). */
    const overlay = new Map<string, LogRecord | undefined>();
    for (const { record: followed, kind, abortedBatch } of ready) {
      if (followed.revision <= revision) continue;
      if (kind !== 'document') {
        planned.push({ revision: followed.revision });
        if (oldest !== 0 && followed.revision !== revision + 1) oldest = followed.revision;
        revision = followed.revision;
        continue;
      }
      const r = abortedBatch ? restoreOf(followed, abortedBatch, overlay.has(followed.path) ? overlay.get(followed.path) : this.getCurrent(followed.path)) : followed;
      if (oldest === 0 || r.revision !== revision + 1) {
        if (oldest !== 0) {
          this.#opts.logger.warn(
            { from: revision + 1, to: r.revision - 1 },
            'revisions missing from the stream (trimmed before this node saw them); watch resume floor moved',
          );
        }
        oldest = r.revision;
      }
      planned.push({ revision: r.revision, record: r });
      overlay.set(r.path, r.op === 'put' ? r : undefined);
      revision = r.revision;
    }
    this.#tail.announce(planned, revision);
    let added = 0;
    await this.#root.transaction(() => {
      for (const { revision: rev, record: r } of planned) {
        if (!r) {
          void this.#consumed.put(rev, null);
          continue;
        }
        void this.#revs.put(r.revision, r);
        added++;
        void this.#paths.put([r.path, r.revision], null);
        if (r.op === 'put') void this.#current.put(r.path, r.revision);
        else void this.#current.remove(r.path);
      }
      void this.#meta.put('applied', revision);
      void this.#meta.put('oldest', oldest);
    });
    this.#revision = revision;
    this.#oldest = oldest;
    this.#tail.committed(revision);
    this.#logCount += added;
    if (this.#logCount > this.#opts.maxLogRevisions + Math.max(100, this.#opts.maxLogRevisions / 10)) {
      await this.#compact();
    }
    this.#waiters.reached(revision);
    for (const l of this.#listeners) l(revision);
  }

  /**
   * The paths and revisions of the live documents under `prefixes` and the revision they
   * reflect, in one LMDB read transaction, without reading any record: a watch snapshot reads
   * the records one at a time as its client takes them.
   */
  snapshotIndex(prefixes: readonly string[]): { revision: number; entries: { path: string; revision: number }[] } {
    const txn = this.#root.useReadTransaction();
    try {
      const revision = Number(this.#meta.get('applied', { transaction: txn }) ?? 0);
      const all = prefixes.length === 0 || prefixes.includes('');
      const byPath = new Map<string, number>();
      for (const prefix of all ? [''] : prefixes) {
        const range = prefix === '' ? { transaction: txn } : { start: prefix, transaction: txn };
        for (const { key, value } of this.#current.getRange(range)) {
          if (!key.startsWith(prefix)) break;
          byPath.set(key, value);
        }
      }
      const entries = [...byPath].map(([path, rev]) => ({ path, revision: rev }));
      return { revision, entries: entries.sort((a, b) => (a.path < b.path ? -1 : 1)) };
    } finally {
      txn.done();
    }
  }

  /** Trims the log to `maxLogRevisions`, keeping the newest `historyDepth` revisions per path. */
  async #compact(): Promise<void> {
    const excess = this.#logCount - this.#opts.maxLogRevisions;
    if (excess <= 0) return;
    const doomed: LogRecord[] = [];
    let scanned = 0;
    for (const { value } of this.#revs.getRange({ start: 0 })) {
      if (doomed.length >= excess || scanned > excess * 4 + 1000) break;
      scanned++;
      const newer = this.#paths.getKeysCount({
        start: [value.path, value.revision + 1],
        end: [value.path, MAX_REVISION],
        limit: this.#opts.historyDepth,
      });
      if (newer >= this.#opts.historyDepth) doomed.push(value);
    }
    if (doomed.length === 0) return;
    const maxDoomed = Math.max(...doomed.map((r) => r.revision));
    const oldest = Math.max(this.#oldest, maxDoomed + 1);
    await this.#root.transaction(() => {
      for (const r of doomed) {
        void this.#revs.remove(r.revision);
        void this.#paths.remove([r.path, r.revision]);
      }
      for (const rev of this.#consumed.getKeys({ end: oldest })) void this.#consumed.remove(rev);
      void this.#meta.put('oldest', oldest);
    });
    this.#oldest = oldest;
    this.#logCount -= doomed.length;
    this.#opts.logger.debug({ trimmed: doomed.length, oldest }, 'compacted the local log');
  }

  /** The revision of the live document at `path` (an index lookup; the record is not read). */
  currentRevisionOf(path: string): number | undefined {
    return this.#current.get(path);
  }

  /** Paths of the live documents under `prefix`, in path order (no record is read). */
  currentPaths(prefix: string): string[] {
    const out: string[] = [];
    for (const key of this.#current.getKeys(prefix === '' ? {} : { start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push(key);
    }
    return out;
  }

  /** The live revision of a document, or undefined when it does not exist (or was deleted). */
  getCurrent(path: string): LogRecord | undefined {
    const rev = this.#current.get(path);
    return rev === undefined ? undefined : this.#revs.get(rev);
  }

  /** A retained revision of a document (puts and deletions). */
  getRevision(path: string, revision: number): LogRecord | undefined {
    const r = this.#revs.get(revision);
    return r && r.path === path ? r : undefined;
  }

  /** The newest retained revision of a document, tombstones included. */
  lastRecordOf(path: string): LogRecord | undefined {
    for (const key of this.#paths.getKeys({ start: [path, MAX_REVISION], end: [path, 0], reverse: true, limit: 1 })) {
      return this.#revs.get(key[1]);
    }
    return undefined;
  }

  /** Live documents whose path starts with `prefix`, in path order. */
  list(prefix: string): LogRecord[] {
    const out: LogRecord[] = [];
    const range = prefix === '' ? {} : { start: prefix };
    for (const { key, value } of this.#current.getRange(range)) {
      if (!key.startsWith(prefix)) break;
      const r = this.#revs.get(value);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * Retained revisions of a document, newest first: at most `limit` (0 = no limit of the
   * caller's) and never more than the newest `historyDepth`, which every node keeps alike (the
   * log may hold older ones on a node that saw them, not on one that joined later).
   */
  history(path: string, limit: number): LogRecord[] {
    limit = Math.min(limit > 0 ? limit : this.#opts.historyDepth, this.#opts.historyDepth);
    const out: LogRecord[] = [];
    for (const key of this.#paths.getKeys({ start: [path, MAX_REVISION], end: [path, 0], reverse: true })) {
      const r = this.#revs.get(key[1]);
      if (r) out.push(r);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }

  /**
   * Log records with revisions in [from, revision], ascending, at most `limit` and, past the
   * first, at most `maxBytes` of content. Callers check `from >= oldestRevision` first; records
   * below the floor may be missing.
   */
  readLog(from: number, limit: number, maxBytes = Infinity): LogRecord[] {
    const out: LogRecord[] = [];
    const end = this.#revision;
    let bytes = 0;
    for (const { key, value } of this.#revs.getRange({ start: from })) {
      if (key > end || out.length >= limit || (out.length > 0 && bytes + value.size > maxBytes)) break;
      out.push(value);
      bytes += value.size;
    }
    return out;
  }

  /**
   * As `readLog`, continued past the committed revision with the announced ones, up to
   * `visibleRevision`: what watchers read.
   */
  readVisibleLog(from: number, limit: number, maxBytes = Infinity): LogRecord[] {
    const out = this.readLog(from, limit, maxBytes);
    if (this.#tail.size === 0) return out;
    let bytes = 0;
    for (const r of out) bytes += r.size;
    this.#tail.read(out, Math.max(from, this.#revision + 1), limit, maxBytes, bytes);
    return out;
  }

  /** Resolves true once `revision` is visible to watchers, false on timeout, abort or close. */
  waitForVisible(revision: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return this.#tail.waitFor(revision, timeoutMs, signal);
  }

  /** Resolves true once `revision` is applied, false on timeout, abort or close. */
  waitForRevision(revision: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#revision >= revision) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return this.#waiters.wait(revision, timeoutMs, signal);
  }

  /** Calls `listener` after every applied batch with the new revision; returns the unsubscriber. */
  onApplied(listener: AppliedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes LMDB; pending waiters resolve false. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#chain;
    this.#closed = true;
    this.#waiters.close();
    this.#tail.close();
    this.#listeners.clear();
    await this.#root.close();
  }
}

/**
 * The revision an aborted batch's record becomes: the document's previous content (or its
 * absence) again, so that the revision still matches the stream's per-subject sequence.
 */
function restoreOf(r: LogRecord, batch: string, prior: LogRecord | undefined): LogRecord {
  const common = { revision: r.revision, path: r.path, author: r.author, timeMs: r.timeMs, writerNode: r.writerNode, ...(r.storedMs !== undefined ? { storedMs: r.storedMs } : {}) };
  if (!prior) return { ...common, op: 'delete', digest: '', size: 0, message: `import ${batch} aborted: the document stays absent` };
  return {
    ...common,
    op: 'put',
    digest: prior.digest,
    size: prior.size,
    message: `import ${batch} aborted: the content of revision ${prior.revision} stays`,
    ...(prior.content ? { content: prior.content } : {}),
  };
}
