/**
 * The logger's LMDB store: entries by a local sequence number (arrival order), one index
 * database with the time index and a secondary index per field (see `index-keys.ts`), and the
 * entry ids for de-duplication.
 *
 * Writes come in batches (one per JetStream fetch), each one LMDB transaction; `put` resolves
 * once it is flushed to disk. An entry whose id is already stored is dropped. After every commit
 * `committed()` waiters wake (Tail), without waiting for the flush.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type { LogEntry } from '@palisade/log-model';
import type { Logger } from '@palisade/service-kit';
import { LoggerError } from '../errors.js';
import { TAG, idKey, idRange, indexKeysOf, keyWith, refOfKey, valuePrefix } from './index-keys.js';

const EMPTY = Buffer.alloc(0);

/** A stored entry with its place in the store. */
export interface StoredEntry {
  readonly seq: number;
  readonly entry: LogEntry;
}

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

export class LogStore {
  readonly #root: RootDatabase;
  readonly #entries: Database<LogEntry, number>;
  readonly #idx: Database<Buffer, Buffer>;
  readonly #meta: Database<number, string>;
  readonly #log: Logger;
  #lastSeq: number;
  #count: number;
  #waiters: (() => void)[] = [];
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(o: LogStoreOptions) {
    this.#log = o.logger;
    this.#root = open({ path: o.path, maxDbs: 4, compression: false, mapSize: o.mapSizeBytes ?? DEFAULT_MAP_SIZE_BYTES });
    this.#entries = this.#root.openDB<LogEntry, number>({ name: 'entries', encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
    this.#idx = this.#root.openDB<Buffer, Buffer>({ name: 'idx', keyEncoding: 'binary', encoding: 'binary' });
    this.#meta = this.#root.openDB<number, string>({ name: 'meta' });
    this.#lastSeq = this.#meta.get('lastSeq') ?? 0;
    this.#count = this.#meta.get('count') ?? 0;
  }

  /** Opens (or creates) the store at `o.path`. */
  static open(o: LogStoreOptions): LogStore {
    try {
      return new LogStore(o);
    } catch (err) {
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
        const inBatch = new Set<string>();
        // Index keys grouped by tag, each group written in turn: neighbouring keys land on
        // neighbouring B-tree pages, cheaper than 13 trees' worth of pages per entry.
        const byTag: Buffer[][] = [];
        for (const e of entries) {
          if (inBatch.has(e.id) || this.#hasId(e.id)) {
            duplicates++;
            continue;
          }
          inBatch.add(e.id);
          seq++;
          // Seqs only grow: append at the end of the tree (MDB_APPEND) instead of searching.
          this.#entries.putSync(seq, e, { append: true });
          (byTag[TAG.id] ??= []).push(idKey(e.id, seq));
          for (const k of indexKeysOf(e, seq)) (byTag[k[0]!] ??= []).push(k);
          stored++;
        }
        for (const keys of byTag) if (keys) for (const k of keys) void this.#idx.put(k, EMPTY);
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

  #hasId(id: string): boolean {
    const { start, end } = idRange(id);
    for (const _ of this.#idx.getKeys({ start, end, limit: 1 })) return true;
    return false;
  }

  /** The stored entry with this id. */
  getById(id: string): StoredEntry | undefined {
    const { start, end } = idRange(id);
    for (const key of this.#idx.getKeys({ start, end, limit: 1 })) {
      const seq = Number(key.readBigUInt64BE(key.length - 8));
      const entry = this.#entries.get(seq);
      return entry ? { seq, entry } : undefined;
    }
    return undefined;
  }

  /** The entry stored as `seq`. */
  get(seq: number): LogEntry | undefined {
    return this.#entries.get(seq);
  }

  /** Entries with seq > `afterSeq` in arrival order (at most `limit`). */
  *after(afterSeq: number, limit: number): Generator<StoredEntry> {
    for (const { key, value } of this.#entries.getRange({ start: afterSeq + 1, limit })) yield { seq: key, entry: value };
  }

  /** Index keys in `[start, end)`, ascending or (reverse) descending. */
  keys(start: Buffer, end: Buffer, reverse: boolean, limit?: number): Iterable<Buffer> {
    return reverse
      ? this.#idx.getKeys({ start: end, end: start, reverse: true, ...(limit !== undefined ? { limit } : {}) })
      : this.#idx.getKeys({ start, end, ...(limit !== undefined ? { limit } : {}) });
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
   * transaction. Returns how many were deleted.
   */
  async deleteOldest(max: number, untilUs: number): Promise<number> {
    const start = valuePrefix(TAG.time);
    const end = keyWith(start, Math.min(untilUs + 1, Number.MAX_SAFE_INTEGER), 0);
    const victims: number[] = [];
    for (const key of this.#idx.getKeys({ start, end, limit: max })) victims.push(refOfKey(key).seq);
    if (victims.length === 0) return 0;
    let deleted = 0;
    const write = this.#writes.then(() =>
      this.#root.transaction(() => {
        for (const seq of victims) {
          const e = this.#entries.get(seq);
          if (!e) continue;
          for (const k of indexKeysOf(e, seq)) void this.#idx.remove(k);
          void this.#idx.remove(idKey(e.id, seq));
          void this.#entries.remove(seq);
          deleted++;
        }
        void this.#meta.put('count', this.#count - deleted);
      }),
    );
    this.#writes = write.catch(() => undefined);
    await write;
    this.#count -= deleted;
    return deleted;
  }

  /** Entry count, bytes in use (pages of the entry and index trees) and the last seq. */
  stats(): StoreStats {
    const used = (s: { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number }): number =>
      (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize;
    const es = this.#entries.getStats() as Parameters<typeof used>[0];
    const is = this.#idx.getStats() as Parameters<typeof used>[0];
    return { entries: this.#count, usedBytes: used(es) + used(is), lastSeq: this.#lastSeq };
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
