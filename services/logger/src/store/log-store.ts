/**
 * The logger's LMDB store: entries by a local sequence number (arrival order), the entry ids
 * (id → seq, exact keys) for de-duplication, and one database of posting lists holding the time
 * index and a secondary index per field (see `index-keys.ts`).
 *
 * Writes come in batches (one per JetStream fetch), each one LMDB transaction: per entry one
 * appended value and one id key, per batch one posting per distinct (field value, minute), so
 * the index costs a few hundred puts per batch rather than twelve per entry. `put` resolves
 * once the batch is flushed to disk. An entry whose id is already stored is dropped. After every
 * commit `committed()` waiters wake (Tail), without waiting for the flush.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type { LogEntry } from '@palisade/log-model';
import type { Logger } from '@palisade/service-kit';
import { LoggerError } from '../errors.js';
import { ITEM_HEAD_BYTES, MAX_TIME_US, STORE_FORMAT, TAG, bucketOf, forEachIndexValue, parsePostingKey, postingKey, residualBytesOf, valuePrefix } from './index-keys.js';
import { walkValue, type PostingSource } from './posting-walk.js';
import { PostingBuilder, withoutSeqs } from './postings.js';

/** Entries re-indexed per transaction when a store of format 1 is opened. */
const REINDEX_CHUNK = 10_000;

/** A stored entry with its place in the store. */
export interface StoredEntry {
  readonly seq: number;
  readonly entry: LogEntry;
}

/** How `LogStore.open` opens the LMDB environment; the logger passes `<dataDir>/log`. */
export interface LogStoreOptions {
  /** Directory of the LMDB environment (created if missing). */
  readonly path: string;
  /** LMDB map size, bytes (the file grows up to it). Default 1 TiB (sparse). */
  readonly mapSizeBytes?: number;
  readonly logger: Logger;
}

/** Result of one batch write. */
export interface PutResult {
  readonly stored: number;
  readonly duplicates: number;
}

/** Figures for metrics and retention. */
export interface StoreStats {
  readonly entries: number;
  /** Pages the entry and index trees use, × page size: what retention by size measures. */
  readonly usedBytes: number;
  readonly lastSeq: number;
}

/** Default LMDB map size: 1 TiB (address space only; the file grows with the data). */
export const DEFAULT_MAP_SIZE_BYTES = 2 ** 40;

/**
 * The store (see the file comment). `open` upgrades a format-1 store in place and throws
 * `unavailable` for another format or a directory it cannot open; `close()` waits for writes.
 */
export class LogStore implements PostingSource {
  readonly #root: RootDatabase;
  readonly #entries: Database<LogEntry, number>;
  readonly #ids: Database<number, string>;
  readonly #postings: Database<Buffer, Buffer>;
  readonly #meta: Database<number, string>;
  readonly #log: Logger;
  #lastSeq: number;
  #count: number;
  #waiters: (() => void)[] = [];
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(o: LogStoreOptions) {
    this.#log = o.logger;
    this.#root = open({ path: o.path, maxDbs: 8, compression: false, mapSize: o.mapSizeBytes ?? DEFAULT_MAP_SIZE_BYTES });
    this.#entries = this.#root.openDB<LogEntry, number>({ name: 'entries', encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
    this.#ids = this.#root.openDB<number, string>({ name: 'ids', encoding: 'ordered-binary' });
    this.#postings = this.#root.openDB<Buffer, Buffer>({ name: 'postings', keyEncoding: 'binary', encoding: 'binary' });
    this.#meta = this.#root.openDB<number, string>({ name: 'meta' });
    this.#lastSeq = this.#meta.get('lastSeq') ?? 0;
    this.#count = this.#meta.get('count') ?? 0;
    const format = this.#meta.get('format');
    if (format === undefined) this.#upgrade();
    else if (format !== STORE_FORMAT) {
      throw new LoggerError('unavailable', `the log store at ${o.path} has format ${format}; this logger reads format ${STORE_FORMAT}`);
    }
  }

  /**
   * A new store gets the format mark; a store of format 1 (one index key per entry and field)
   * keeps its entries and gets its ids and postings built from them, then loses the old index.
   */
  #upgrade(): void {
    const old = this.#root.openDB<Buffer, Buffer>({ name: 'idx', keyEncoding: 'binary', encoding: 'binary' });
    let next = 1;
    let rebuilt = 0;
    for (;;) {
      const chunk: { seq: number; entry: LogEntry }[] = [];
      for (const { key, value } of this.#entries.getRange({ start: next, limit: REINDEX_CHUNK })) chunk.push({ seq: key, entry: value });
      if (chunk.length === 0) break;
      this.#root.transactionSync(() => {
        const builder = new PostingBuilder(chunk[0]!.seq);
        for (const { seq, entry } of chunk) {
          void this.#ids.put(entry.id, seq);
          builder.add(entry, seq);
        }
        for (const [k, v] of builder.postings()) void this.#postings.put(k, v);
      });
      rebuilt += chunk.length;
      next = chunk[chunk.length - 1]!.seq + 1;
    }
    this.#root.transactionSync(() => {
      void old.drop();
      void this.#meta.put('format', STORE_FORMAT);
    });
    if (rebuilt > 0) this.#log.info({ entries: rebuilt, format: STORE_FORMAT }, 'log store re-indexed to the current format');
  }

  /** Opens (or creates) the store at `o.path`. */
  static open(o: LogStoreOptions): LogStore {
    try {
      return new LogStore(o);
    } catch (err) {
      if (err instanceof LoggerError) throw err;
      throw new LoggerError('unavailable', `cannot open the log store at ${o.path}: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  /** Entries stored now. */
  get count(): number {
    return this.#count;
  }

  /** Seq of the newest stored entry (0 when empty); entries arrive with growing seqs. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Stores entries in one durable transaction, in the given order, dropping those whose id is
   * already stored (also within the batch). Resolves when the commit is flushed to disk (not
   * only committed), so that acknowledging its messages then is safe against a power loss.
   */
  put(entries: readonly LogEntry[]): Promise<PutResult> {
    if (this.#closed) return Promise.reject(new LoggerError('unavailable', 'the log store is closed'));
    let stored = 0;
    let duplicates = 0;
    const write = this.#writes.then(() =>
      this.#root.transaction(() => {
        let seq = this.#lastSeq;
        const builder = new PostingBuilder(seq + 1);
        for (const e of entries) {
          // One B-tree operation decides and records: the id is new only if it can be inserted.
          if (!this.#putNewId(e.id, seq + 1)) {
            duplicates++;
            continue;
          }
          seq++;
          // Seqs only grow: append at the end of the tree (MDB_APPEND) instead of searching.
          this.#entries.putSync(seq, e, { append: true });
          builder.add(e, seq);
          stored++;
        }
        for (const [k, v] of builder.postings()) void this.#postings.put(k, v);
        if (stored > 0) {
          void this.#meta.put('lastSeq', seq);
          void this.#meta.put('count', this.#count + stored);
        }
        return seq;
      }),
    );
    this.#writes = write.catch(() => undefined);
    return write.then(async (seq) => {
      if (stored > 0) {
        this.#lastSeq = seq;
        this.#count += stored;
        // Committed and visible: Tail may show the entries now.
        this.#wake();
      }
      // lmdb-js commits with overlappingSync (its Linux default): the fsync follows the commit,
      // overlapping the next transaction. The caller acknowledges the messages once this
      // resolves, so wait for the flush: an acknowledged entry survives a power loss too.
      await this.#root.flushed;
      return { stored, duplicates };
    });
  }

  /**
   * Records `id → seq` unless the id is stored (MDB_NOOVERWRITE); whether it was new. Inside a
   * write transaction lmdb-js' `putSync` returns the condition's outcome (its typings say void).
   */
  #putNewId(id: string, seq: number): boolean {
    return (this.#ids.putSync(id, seq, { noOverwrite: true }) as unknown) === true;
  }

  /** The stored entry with this id. */
  getById(id: string): StoredEntry | undefined {
    const seq = this.#ids.get(id);
    if (seq === undefined) return undefined;
    const entry = this.#entries.get(seq);
    return entry ? { seq, entry } : undefined;
  }

  /** The entry stored as `seq`. */
  get(seq: number): LogEntry | undefined {
    return this.#entries.get(seq);
  }

  /** Entries with seq > `afterSeq` in arrival order (at most `limit`). */
  *after(afterSeq: number, limit: number): Generator<StoredEntry> {
    for (const { key, value } of this.#entries.getRange({ start: afterSeq + 1, limit })) yield { seq: key, entry: value };
  }

  /** Postings with keys in `[start, end)`, ascending or (reverse) descending. */
  postings(start: Buffer, end: Buffer, reverse: boolean, limit?: number): Iterable<{ key: Buffer; value: Buffer }> {
    return reverse
      ? this.#postings.getRange({ start: end, end: start, reverse: true, ...(limit !== undefined ? { limit } : {}) })
      : this.#postings.getRange({ start, end, ...(limit !== undefined ? { limit } : {}) });
  }

  /** Resolves at the next commit that stores entries (or at once when `signal` aborts / on close). */
  committed(signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /**
   * Deletes the oldest entries (by time), at most `max`, with time ≤ `untilUs`; one durable
   * transaction, which also takes them out of every posting. Returns how many were deleted.
   */
  async deleteOldest(max: number, untilUs: number): Promise<number> {
    const victims: number[] = [];
    const walk = walkValue(this, valuePrefix(TAG.time), { sinceUs: 0, untilUs: Math.min(untilUs, MAX_TIME_US), reverse: false, budget: { left: Infinity } });
    for (const r of walk) {
      victims.push(r.seq);
      if (victims.length >= max) break;
    }
    if (victims.length === 0) return 0;
    let deleted = 0;
    const write = this.#writes.then(() =>
      this.#root.transaction(() => {
        // The postings holding the victims: one group per (value, bucket).
        const groups = new Map<string, { prefix: Buffer; bucket: number; seqs: Set<number> }>();
        for (const seq of victims) {
          const e = this.#entries.get(seq);
          if (!e) continue;
          const bucket = bucketOf(e.timeUs);
          forEachIndexValue(e, (tag, value) => {
            const prefix = valuePrefix(tag, value);
            const k = prefix.toString('latin1') + '/' + bucket;
            let g = groups.get(k);
            if (!g) groups.set(k, (g = { prefix, bucket, seqs: new Set() }));
            g.seqs.add(seq);
          });
          void this.#ids.remove(e.id);
          void this.#entries.remove(seq);
          deleted++;
        }
        for (const g of groups.values()) {
          const width = ITEM_HEAD_BYTES + residualBytesOf(g.prefix);
          const start = postingKey(g.prefix, g.bucket);
          const end = postingKey(g.prefix, g.bucket + 1);
          for (const { key, value } of [...this.#postings.getRange({ start, end })]) {
            const rest = withoutSeqs(value, parsePostingKey(key).baseSeq, width, g.seqs);
            if (rest === null) void this.#postings.remove(key);
            else if (rest !== undefined) void this.#postings.put(key, rest);
          }
        }
        void this.#meta.put('count', this.#count - deleted);
      }),
    );
    this.#writes = write.catch(() => undefined);
    await write;
    this.#count -= deleted;
    return deleted;
  }

  /** Entry count, bytes in use (pages of the entry, id and posting trees) and the last seq. */
  stats(): StoreStats {
    const used = (s: { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number }): number =>
      (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize;
    const of = (db: { getStats(): unknown }): number => used(db.getStats() as Parameters<typeof used>[0]);
    return { entries: this.#count, usedBytes: of(this.#entries) + of(this.#ids) + of(this.#postings), lastSeq: this.#lastSeq };
  }

  /** Waits for pending writes, then closes LMDB. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    await this.#writes;
    await this.#root.close();
    this.#log.debug('log store closed');
  }
}
