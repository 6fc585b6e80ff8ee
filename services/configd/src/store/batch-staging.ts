/**
 * Atomic batches (imports) in the mirror. nats-server 2.10 has no atomic multi-message
 * publish, so an import writes each document on its own subject (per-document CAS and history
 * stay as they are) marked `Palisade-Batch: <id>;<i>;<n>;<deadline>`, the n-th being the
 * commit, and the mirror makes the batch visible at once or not at all:
 *
 * - records of an open batch are held, and so is everything after the first of them (the
 *   mirror's applied revision stays below it: a restart re-reads them, no watcher passes them);
 * - the n-th record commits: the batch's records and those held behind them are applied in
 *   revision order, in one LMDB transaction;
 * - an abort record (key `_batch`, written by an importer that failed), a record stored after
 *   the batch's deadline (the stream's own timestamp, the same on every node), or more than
 *   `MAX_HELD_RECORDS` held records abort it: its records are applied as revisions that keep
 *   each document's previous content (so the revision numbers still match the stream's
 *   per-subject sequence that CAS uses), marked in their message.
 *
 * Every decision depends only on the stream's content and order, so every node decides alike.
 * Pure: no I/O, no clock.
 */
import type { LogRecord } from '../log-record.js';

/** Held records beyond which the oldest open batch is aborted (bounds the mirror's memory). */
export const MAX_HELD_RECORDS = 10_000;
/** Outcomes remembered for importers that ask (`outcomeOf`). */
const MAX_OUTCOMES = 1024;

/** How the mirror treats a record: a document, a batch control record, or one it skips. */
export type HeldKind = 'document' | 'control' | 'skip';

/** A record released for the mirror to apply, in revision order. */
export interface ReleasedRecord {
  readonly record: LogRecord;
  readonly kind: HeldKind;
  /** Set when the record belongs to an aborted batch: apply it as a revision keeping the previous content. */
  readonly abortedBatch?: string;
}

/**
 * How an atomic batch ended, decided alike on every mirror from the stream alone; an import waits
 * for it after its commit is stored (`outcomeOf`), because the commit's acknowledgement does not
 * say whether it made the deadline.
 */
export type BatchOutcome = 'committed' | 'aborted';

interface OpenBatch {
  readonly deadlineMs: number;
  readonly revisions: number[];
}

/** The batch state machine of one mirror; see the module comment. */
export class BatchStaging {
  #held: { record: LogRecord; kind: HeldKind }[] = [];
  readonly #open = new Map<string, OpenBatch>();
  /** Revision → batch id of staged records whose batch is open or aborted. */
  readonly #memberOf = new Map<number, string>();
  readonly #outcomes = new Map<string, BatchOutcome>();

  /** Whether any batch is open (records are being held). */
  get holding(): boolean {
    return this.#open.size > 0;
  }

  /** Records held now. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** How a batch ended, if this mirror saw it end (recent batches only). */
  outcomeOf(id: string): BatchOutcome | undefined {
    return this.#outcomes.get(id);
  }

  /** Forgets everything held (after a failed commit the follower redelivers from the applied revision). */
  reset(): void {
    this.#held = [];
    this.#open.clear();
    this.#memberOf.clear();
  }

  /** Takes the next record in revision order. */
  push(record: LogRecord, kind: HeldKind): void {
    const stored = record.storedMs ?? 0;
    for (const [id, b] of this.#open) if (stored > b.deadlineMs) this.#end(id, 'aborted');
    const mark = record.batch;
    if (kind === 'control') {
      if (mark?.abort && this.#open.has(mark.id)) this.#end(mark.id, 'aborted');
    } else if (kind === 'document' && mark && !mark.abort) {
      const known = this.#outcomes.get(mark.id);
      if (known !== undefined) {
        // A late record of a batch already decided (e.g. a commit stored after the deadline).
        if (known === 'aborted') this.#memberOf.set(record.revision, mark.id);
      } else {
        let b = this.#open.get(mark.id);
        if (!b) {
          b = { deadlineMs: mark.deadlineMs, revisions: [] };
          this.#open.set(mark.id, b);
        }
        b.revisions.push(record.revision);
        this.#memberOf.set(record.revision, mark.id);
        if (mark.index === mark.count) this.#end(mark.id, 'committed');
      }
    }
    this.#held.push({ record, kind });
    if (this.#held.length > MAX_HELD_RECORDS && this.#open.size > 0) {
      const oldest = [...this.#open.entries()].sort((a, b) => a[1].revisions[0]! - b[1].revisions[0]!)[0]![0];
      this.#end(oldest, 'aborted');
    }
  }

  /** Records that can be applied now: everything before the first record of a batch still open. */
  release(): ReleasedRecord[] {
    const out: ReleasedRecord[] = [];
    let n = 0;
    for (const h of this.#held) {
      const id = this.#memberOf.get(h.record.revision);
      if (id !== undefined && this.#open.has(id)) break;
      n++;
      if (id !== undefined) this.#memberOf.delete(h.record.revision);
      const aborted = id !== undefined && this.#outcomes.get(id) === 'aborted';
      out.push({ record: h.record, kind: h.kind, ...(aborted ? { abortedBatch: id } : {}) });
    }
    this.#held = this.#held.slice(n);
    return out;
  }

  #end(id: string, outcome: BatchOutcome): void {
    const b = this.#open.get(id);
    this.#open.delete(id);
    this.#outcomes.set(id, outcome);
    if (this.#outcomes.size > MAX_OUTCOMES) this.#outcomes.delete(this.#outcomes.keys().next().value!);
    if (outcome === 'committed' && b) for (const rev of b.revisions) this.#memberOf.delete(rev);
  }
}
