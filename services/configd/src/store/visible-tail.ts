/**
 * The revisions the mirror has decoded, ordered and planned but not yet committed to LMDB: the
 * replicated JetStream log is the source of truth, so watchers may be fed from here as soon as
 * a batch is planned instead of after its durable commit (an fsync on a shared disk). The
 * mirror announces a batch here, commits it, then drops it (`committed`); a failed commit drops
 * it too (`reset`: the follower redelivers from the committed revision).
 *
 * Readers of the same configd never see less than a watcher: `DocumentStore` makes every read
 * wait until the committed revision reaches `revision` here (one commit at most).
 */
import { RevisionWaiters } from './revision-waiters.js';

/** One planned revision: a document record, or a revision consumed without one (skip, batch control). */
export interface TailEntry<R> {
  readonly revision: number;
  readonly record?: R;
}

/** Records announced ahead of the commit, ascending; bounded by what one mirror batch holds. */
export class VisibleTail<R extends { readonly revision: number; readonly path: string; readonly size: number }> {
  #entries: TailEntry<R>[] = [];
  #revision: number;
  readonly #waiters = new RevisionWaiters();

  /** `committed`: the revision LMDB holds at open. */
  constructor(committed: number) {
    this.#revision = committed;
  }

  /** The highest revision announced (the committed one when nothing is pending). */
  get revision(): number {
    return this.#revision;
  }

  /** Planned entries waiting for their commit. */
  get size(): number {
    return this.#entries.length;
  }

  /** Adds a planned batch ending at `upTo` (entries above the current revision only) and wakes watchers. */
  announce(entries: readonly TailEntry<R>[], upTo: number): void {
    if (upTo <= this.#revision) return;
    for (const e of entries) if (e.revision > this.#revision) this.#entries.push(e);
    this.#revision = upTo;
    this.#waiters.reached(upTo);
  }

  /** LMDB now holds everything up to `revision`: those entries leave the tail. */
  committed(revision: number): void {
    if (this.#entries.length > 0 && this.#entries[0]!.revision <= revision) this.#entries = this.#entries.filter((e) => e.revision > revision);
    if (revision > this.#revision) this.#revision = revision;
  }

  /** Forgets every announced entry (failed commit, new stream): visible again = `committed`. */
  reset(committed: number): void {
    this.#entries = [];
    this.#revision = committed;
  }

  /**
   * Records with revision ≥ `from`, ascending, appended to `out` while it has fewer than `limit`
   * and (past its first) their content stays within `maxBytes` (`bytes` already used).
   */
  read(out: R[], from: number, limit: number, maxBytes: number, bytes: number): void {
    for (const e of this.#entries) {
      if (e.revision < from || !e.record) continue;
      if (out.length >= limit || (out.length > 0 && bytes + e.record.size > maxBytes)) return;
      out.push(e.record);
      bytes += e.record.size;
    }
  }

  /** Revisions in [from, to) announced without a record. */
  consumedCount(from: number, to: number): number {
    let n = 0;
    for (const e of this.#entries) if (!e.record && e.revision >= from && e.revision < to) n++;
    return n;
  }

  /** The newest pending revision of a document matching `matches` (0: none). */
  newestPending(matches: (path: string) => boolean): number {
    let newest = 0;
    for (const e of this.#entries) if (e.record && matches(e.record.path)) newest = e.revision;
    return newest;
  }

  /** Resolves true once `revision` is announced, false on timeout, abort or `close`. */
  waitFor(revision: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#revision >= revision) return Promise.resolve(true);
    return this.#waiters.wait(revision, timeoutMs, signal);
  }

  /** Resolves every waiter false. */
  close(): void {
    this.#waiters.close();
  }
}
