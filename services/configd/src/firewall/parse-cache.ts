/**
 * Parsed firewall documents by (path, revision, context): a firewall call on a guest next to a
 * 1 MiB `cluster.fw` parses only what changed since the last call, not the cluster document
 * every time. A revision never changes its bytes, so an entry never goes stale; the key of a
 * guest or host document also names the revision of the cluster document and the guest type it
 * was parsed against (its diagnostics depend on them).
 *
 * Bounded: at most `maxEntries` documents and `maxSourceBytes` of their source, least recently
 * used first out. Parsed documents are never mutated by the editor, so entries are shared.
 */
import type { FwDocument } from '@palisade/fw-lang';

/** Bounds of a `ParseCache`. */
export interface ParseCacheOptions {
  /** Most documents kept. Default `DEFAULT_PARSE_CACHE_ENTRIES`. */
  readonly maxEntries?: number;
  /** Most source bytes of the kept documents (a parse holds several times its source). Default `DEFAULT_PARSE_CACHE_BYTES`. */
  readonly maxSourceBytes?: number;
}

/** Default bound on cached documents. */
export const DEFAULT_PARSE_CACHE_ENTRIES = 256;
/** Default bound on the source bytes of cached documents: 8 MiB (eight 1 MiB cluster documents). */
export const DEFAULT_PARSE_CACHE_BYTES = 8 * 1024 * 1024;

/** What a parse depends on besides the document's own revision. */
export interface ParseContextKey {
  /** Revision of the cluster document parsed as context (0 = none). */
  readonly clusterRevision: number;
  readonly guestType?: 'qemu' | 'lxc' | undefined;
}

interface Entry {
  readonly doc: FwDocument;
  readonly bytes: number;
}

/** LRU cache of parsed documents; see the module comment. */
export class ParseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(o: ParseCacheOptions = {}) {
    this.#maxEntries = o.maxEntries ?? DEFAULT_PARSE_CACHE_ENTRIES;
    this.#maxBytes = o.maxSourceBytes ?? DEFAULT_PARSE_CACHE_BYTES;
  }

  static key(path: string, revision: number, ctx: ParseContextKey): string {
    return `${path}@${revision}|${ctx.clusterRevision}|${ctx.guestType ?? ''}`;
  }

  /**
   * The cached parse for the key, or the result of `parse()` (kept when the revision is a
   * stored one, i.e. > 0: an absent document parses from nothing and costs nothing).
   */
  getOrParse(path: string, revision: number, ctx: ParseContextKey, sourceBytes: number, parse: () => FwDocument): FwDocument {
    const key = ParseCache.key(path, revision, ctx);
    const hit = this.#entries.get(key);
    if (hit) {
      this.#hits++;
      // Re-insert: Map order is the LRU order.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.doc;
    }
    this.#misses++;
    const doc = parse();
    if (revision > 0) this.put(path, revision, ctx, sourceBytes, doc);
    return doc;
  }

  /** Stores a parse (e.g. the editor's result for the revision a write just created). */
  put(path: string, revision: number, ctx: ParseContextKey, sourceBytes: number, doc: FwDocument): void {
    if (sourceBytes > this.#maxBytes) return;
    const key = ParseCache.key(path, revision, ctx);
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(key, { doc, bytes: sourceBytes });
    this.#bytes += sourceBytes;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.bytes;
    }
  }

  /** Hits, misses, entries and source bytes held (for tests and metrics). */
  get stats(): { readonly hits: number; readonly misses: number; readonly entries: number; readonly sourceBytes: number } {
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size, sourceBytes: this.#bytes };
  }
}
