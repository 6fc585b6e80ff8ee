/**
 * Commit-confirmed writes. A write with a confirm window first records a pending confirmation
 * (replicated, see `ConfirmBucket`), then writes the change, then records the change's revision.
 * `confirm(revision)` removes the record (compare-and-set). Every configd watches the records and
 * runs a timer per record: when the window ends, the first configd whose timer fires claims the
 * record (compare-and-set: a confirm and a claim cannot both win), writes the content from before
 * the change back as a new revision (author `automatic rollback`, CAS on the document) and
 * removes the record. A claimer that dies is taken over after `takeoverMs` by any other configd;
 * writing the content back is idempotent (nothing is written when the document already has it).
 * So the rollback happens as long as one configd with a quorum runs, whichever took the write.
 */
import { SYSTEM_CLOCK, type Clock, type Logger } from '@palisade/service-kit';
import { ConfigdError, isConfigdError } from '../errors.js';
import type { LogRecord } from '../log-record.js';
import type { JetStreamLog } from '../replication/jetstream-log.js';
import { requireDocumentPath } from '../store/document-path.js';
import type { DocumentStore } from '../store/document-store.js';
import { ConfirmBucket, type PendingEntry } from './confirm-bucket.js';
import { MAX_INLINE_RESTORE_BYTES, ROLLBACK_AUTHOR, requireConfirmWindow, rollbackMessage, type PendingConfirmation } from './pending-record.js';

/**
 * Options of `Confirmations`: the store that rollbacks are written through and the replication
 * whose NATS connection carries the records; `node` is recorded as the writer or the claimer of a
 * record.
 */
export interface ConfirmationsOptions {
  readonly node: string;
  readonly store: DocumentStore;
  readonly replication: JetStreamLog;
  /** The documents' bucket name; the records live in `<bucket>-confirm`. */
  readonly bucket: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How long a claimed rollback may run before another configd takes it over. Default 5000 ms. */
  readonly takeoverMs?: number;
  /** Delay before a failed rollback (not quorate, conflict storm) is tried again. Default 1000 ms. */
  readonly retryMs?: number;
}

/** What a guarded write needs to know about the write it wraps. */
export interface GuardedWrite {
  readonly path: string;
  readonly windowMs: number;
  readonly author: string;
  /** The write carries its own expectation (revision, digest, create-only): keep it. */
  readonly ownExpectation: boolean;
}

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimer(resolve, ms));

/**
 * Commit-confirmed writes of one configd (file header): `guarded` wraps a write, `confirm` keeps
 * it, and the timers of every configd roll back what is not confirmed in time. Call `start()` once;
 * `close()` it before the replication and the mirror close, as app.ts does.
 */
export class Confirmations {
  readonly #o: ConfirmationsOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #takeoverMs: number;
  readonly #retryMs: number;
  readonly #abort = new AbortController();
  #bucket: ConfirmBucket | undefined;
  /** Woken when the bucket opens. */
  readonly #bucketWaiters = new Set<() => void>();
  readonly #entries = new Map<string, PendingEntry>();
  readonly #timers = new Map<string, () => void>();
  readonly #running = new Set<string>();
  #task: Promise<void> | undefined;

  constructor(o: ConfirmationsOptions) {
    this.#o = o;
    this.#clock = o.clock ?? SYSTEM_CLOCK;
    this.#log = o.logger.child({ component: 'confirm' });
    this.#takeoverMs = o.takeoverMs ?? 5000;
    this.#retryMs = o.retryMs ?? 1000;
  }

  /** Opens the records' bucket once NATS is ready and follows it (in the background). */
  start(): void {
    this.#task = this.#run();
  }

  /** Whether the records can be written (the bucket is open). */
  get ready(): boolean {
    return this.#bucket !== undefined;
  }

  /** The changes waiting for confirmation, soonest deadline first. */
  list(): PendingConfirmation[] {
    return [...this.#entries.values()].map((e) => e.record).sort((a, b) => a.deadlineMs - b.deadlineMs);
  }

  /**
   * Runs `write` as a commit-confirmed change of `w.path`: `write` gets the revision the
   * document must be at (undefined when the write has its own expectation).
   */
  async guarded<T extends { record: LogRecord }>(w: GuardedWrite, write: (expectedRevision: number | undefined) => Promise<T>): Promise<T & { confirmDeadlineMs: number }> {
    const windowMs = requireConfirmWindow(w.windowMs);
    const bucket = await this.#awaitBucket();
    const { path } = requireDocumentPath(w.path);
    const { store } = this.#o;
    await store.settle();
    const current = store.mirror.getCurrent(path);
    const content = current?.content;
    const deadlineMs = this.#clock.now() + windowMs;
    const pending: PendingConfirmation = {
      path,
      changeRevision: 0,
      restoreRevision: current?.revision ?? 0,
      restoreDigest: current?.digest ?? '',
      ...(content && content.byteLength <= MAX_INLINE_RESTORE_BYTES ? { restoreContent: Buffer.from(content).toString('base64') } : {}),
      windowMs,
      deadlineMs,
      author: w.author,
      writerNode: this.#o.node,
      state: 'armed',
    };
    const seq = await bucket.create(pending);
    if (seq === undefined) {
      const other = await bucket.get(path);
      throw new ConfigdError(
        'conflict',
        `'${path}' has a change waiting for confirmation${other?.record.changeRevision ? ` (revision ${other.record.changeRevision})` : ''} until ${new Date(other?.record.deadlineMs ?? 0).toISOString()}: confirm it or let it roll back first`,
        { path },
      );
    }
    let result: T;
    try {
      result = await write(w.ownExpectation ? undefined : pending.restoreRevision);
    } catch (err) {
      await bucket.remove(path, seq).catch((e: unknown) => this.#log.warn({ err: e, path }, 'cannot remove the confirmation of a failed write; its timer will find nothing to roll back'));
      throw err;
    }
    const armed = { ...pending, changeRevision: result.record.revision };
    const seq2 = await bucket.update(armed, seq).catch((err: unknown) => {
      this.#log.error({ err, path, revision: armed.changeRevision }, 'cannot record the revision of a commit-confirmed change; it rolls back at the deadline');
      return undefined;
    });
    if (seq2 !== undefined) this.#remember(path, { record: armed, seq: seq2 });
    this.#log.info({ path, revision: armed.changeRevision, deadlineMs, author: w.author }, 'change written with a confirm window');
    return { ...result, confirmDeadlineMs: deadlineMs };
  }

  /** Confirms the change written at `revision`: it stays. */
  async confirm(revision: number): Promise<PendingConfirmation> {
    const bucket = await this.#awaitBucket();
    const byRevision = (e: PendingEntry): boolean => e.record.changeRevision === revision;
    // The local watch may lag behind a write through another configd: then read the bucket.
    const known = [...this.#entries.values()].find(byRevision) ?? (await bucket.all()).find(byRevision);
    const fresh = known ? await bucket.get(known.record.path) : undefined;
    if (!fresh || fresh.record.changeRevision !== revision) {
      throw new ConfigdError('not-found', `no change at revision ${revision} waits for confirmation (written without a confirm window, confirmed already, or rolled back)`);
    }
    const p = fresh.record;
    if (p.state !== 'armed' || this.#clock.now() >= p.deadlineMs) {
      throw new ConfigdError('conflict', `too late: the window of revision ${revision} ended at ${new Date(p.deadlineMs).toISOString()}; the automatic rollback is under way`, { path: p.path });
    }
    if (!(await bucket.remove(p.path, fresh.seq))) {
      throw new ConfigdError('conflict', `revision ${revision} was claimed by the automatic rollback meanwhile`, { path: p.path });
    }
    this.#forget(p.path);
    this.#log.info({ path: p.path, revision }, 'change confirmed');
    return p;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    for (const wake of [...this.#bucketWaiters]) wake();
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    await this.#task;
  }

  /** The bucket, waiting (bounded) for it right after start. */
  async #awaitBucket(waitMs = 10_000): Promise<ConfirmBucket> {
    if (!this.#bucket && !this.#abort.signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          cancel();
          this.#bucketWaiters.delete(done);
          resolve();
        };
        const cancel = this.#clock.setTimer(done, waitMs);
        this.#bucketWaiters.add(done);
      });
    }
    return this.#requireBucket();
  }

  #requireBucket(): ConfirmBucket {
    if (!this.#bucket) throw new ConfigdError('unavailable', 'commit-confirmed writes need NATS JetStream, which this configd has not reached yet');
    return this.#bucket;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const r = this.#o.replication;
    while (!signal.aborted) {
      try {
        if (!this.#bucket) {
          await r.whenReady(5000);
          const nc = r.natsClient?.connection;
          if (!nc) throw new ConfigdError('unavailable', 'no NATS connection');
          this.#bucket = await ConfirmBucket.open(nc, `${this.#o.bucket}-confirm`, r.replicas, signal);
          for (const wake of [...this.#bucketWaiters]) wake();
          this.#log.info({ bucket: `${this.#o.bucket}-confirm` }, 'following pending confirmations');
        }
        for await (const ev of this.#bucket.watch(signal)) {
          if (ev.kind === 'put') this.#remember(ev.key, ev.entry);
          else this.#forget(ev.key);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#log.warn({ err }, 'pending confirmations not followed; retrying');
      }
      if (!signal.aborted) await sleep(this.#clock, 1000);
    }
  }

  #remember(key: string, entry: PendingEntry): void {
    const had = this.#entries.get(key);
    if (had && had.seq > entry.seq) return;
    this.#entries.set(key, entry);
    this.#schedule(key, this.#dueMs(entry.record));
  }

  #forget(key: string): void {
    this.#entries.delete(key);
    this.#timers.get(key)?.();
    this.#timers.delete(key);
  }

  #dueMs(p: PendingConfirmation): number {
    if (p.state === 'armed') return p.deadlineMs;
    return (p.claimedAtMs ?? 0) + (p.rollbackNode === this.#o.node ? this.#retryMs : this.#takeoverMs);
  }

  #schedule(key: string, atMs: number): void {
    if (this.#abort.signal.aborted) return;
    this.#timers.get(key)?.();
    this.#timers.set(
      key,
      this.#clock.setTimer(() => void this.#fire(key), Math.max(0, atMs - this.#clock.now())),
    );
  }

  async #fire(key: string): Promise<void> {
    if (this.#running.has(key) || this.#abort.signal.aborted) return;
    this.#running.add(key);
    try {
      await this.#rollback(key);
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      this.#log.error({ err, path: key, retryInMs: this.#retryMs }, 'automatic rollback failed; retrying');
      this.#schedule(key, this.#clock.now() + this.#retryMs);
    } finally {
      this.#running.delete(key);
    }
  }

  /** Claims an expired record (CAS), writes the old content back, removes the record. */
  async #rollback(key: string): Promise<void> {
    const bucket = this.#requireBucket();
    const fresh = await bucket.get(key);
    if (!fresh) return this.#forget(key);
    const now = this.#clock.now();
    if (now < this.#dueMs(fresh.record)) return this.#remember(key, fresh);
    const claimed: PendingConfirmation = { ...fresh.record, state: 'rolling-back', rollbackNode: this.#o.node, claimedAtMs: now };
    const seq = await bucket.update(claimed, fresh.seq);
    if (seq === undefined) return; // confirmed or claimed meanwhile: the watch brings the news
    this.#remember(key, { record: claimed, seq });
    const written = await this.#restore(claimed);
    await bucket.remove(key, seq);
    this.#forget(key);
    this.#log.warn({ path: key, changeRevision: claimed.changeRevision, restoreRevision: claimed.restoreRevision, revision: written?.revision ?? null }, 'change not confirmed: automatic rollback done');
  }

  /** Writes the content from before the change back (nothing when the document has it already). */
  async #restore(p: PendingConfirmation): Promise<LogRecord | undefined> {
    const { store } = this.#o;
    const caller = { author: ROLLBACK_AUTHOR };
    const message = rollbackMessage(p);
    for (let attempt = 0; ; attempt++) {
      await store.settle();
      const current = store.mirror.getCurrent(p.path);
      try {
        if (p.restoreRevision === 0) {
          if (!current) return undefined;
          return await store.delete({ path: p.path, expectedRevision: current.revision, message }, caller);
        }
        if (current?.digest === p.restoreDigest) return undefined;
        const content = p.restoreContent !== undefined ? Buffer.from(p.restoreContent, 'base64') : store.mirror.getRevision(p.path, p.restoreRevision)?.content;
        if (!content) throw new ConfigdError('not-found', `revision ${p.restoreRevision} of '${p.path}' is no longer retained: cannot roll back`, { path: p.path });
        return (await store.put({ path: p.path, content, expectedRevision: current?.revision ?? 0, message }, caller)).record;
      } catch (err) {
        // A write that raced ours: read again (the mirror catches up) unless it keeps happening.
        if (!isConfigdError(err) || (err.code !== 'conflict' && err.code !== 'already-exists') || attempt >= 5) throw err;
        await sleep(this.#clock, 50 * (attempt + 1));
      }
    }
  }
}
