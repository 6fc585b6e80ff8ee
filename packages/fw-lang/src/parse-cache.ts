/**
 * A parse cache for `loadTree`: the parsed document of a path is kept with the input and the
 * context it was parsed with (the cluster document for names, the guest type, the size limit),
 * and given back — the same object — while all of them are unchanged. A caller that loads the
 * same tree again after one document changed (the node agent, 2,000 documents on a large node)
 * then parses one document instead of all; documents are immutable values, so an unchanged
 * object is a cheap test for "unchanged" further on (the incremental compiler keys on it).
 * Pure: no I/O.
 */
import type { Diagnostic, FwDocument, GuestType, ParsedDocument } from './model.js';
import { classifyPath, type PathInfo } from './paths.js';

/** One cached parse and what it depended on. */
interface CachedParse {
  readonly input: string | Uint8Array;
  readonly cluster: FwDocument | undefined;
  readonly guestType: GuestType | undefined;
  readonly maxBytes: number | undefined;
  readonly doc: ParsedDocument;
}

/** The cross-document reference check of one document, with the cluster document it ran against. */
interface CachedReferences {
  readonly cluster: FwDocument | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** The parse cache of `loadTree` (`LoadTreeOptions.cache`); holds one tree's documents at a time. */
export interface ParseCache {
  /** Parses by path. */
  readonly parses: Map<string, CachedParse>;
  /** Reference checks by document object. */
  readonly references: WeakMap<FwDocument, CachedReferences>;
  /** `classifyPath` by path (a path's kind never changes). */
  readonly kinds: Map<string, PathInfo | undefined>;
  /** Documents parsed (not taken from the cache) by the last `loadTree` call with this cache. */
  parsedLastLoad: number;
  /** The paths of the last load, sorted, and as a set (`sortedPaths`). */
  lastPaths?: { readonly sorted: readonly string[]; readonly set: ReadonlySet<string> };
}

/** An empty parse cache. */
export function createParseCache(): ParseCache {
  return { parses: new Map(), references: new WeakMap(), kinds: new Map(), parsedLastLoad: 0 };
}

/** `classifyPath(path)`, remembered in the cache. */
export function cachedClassify(cache: ParseCache | undefined, path: string): PathInfo | undefined {
  if (!cache) return classifyPath(path);
  if (cache.kinds.has(path)) return cache.kinds.get(path);
  const info = classifyPath(path);
  cache.kinds.set(path, info);
  return info;
}

function sameInput(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The document of `path` parsed from `input` in this context: the cached one when input and
 * context are the same as last time, else `parse()` (and cached). Without a cache: `parse()`.
 */
export function cachedParse<T extends ParsedDocument>(
  cache: ParseCache | undefined,
  path: string,
  input: string | Uint8Array,
  context: { readonly cluster?: FwDocument | undefined; readonly guestType?: GuestType | undefined; readonly maxBytes?: number | undefined },
  parse: () => T,
): T {
  if (!cache) return parse();
  const hit = cache.parses.get(path);
  if (hit && hit.cluster === context.cluster && hit.guestType === context.guestType && hit.maxBytes === context.maxBytes && sameInput(hit.input, input)) {
    return hit.doc as T;
  }
  const doc = parse();
  cache.parsedLastLoad++;
  cache.parses.set(path, { input, cluster: context.cluster, guestType: context.guestType, maxBytes: context.maxBytes, doc });
  return doc;
}

/** `check()`'s diagnostics for `doc` against `cluster`, cached by document object. */
export function cachedReferences(cache: ParseCache | undefined, doc: FwDocument, cluster: FwDocument | undefined, check: () => Diagnostic[]): readonly Diagnostic[] {
  if (!cache) return check();
  const hit = cache.references.get(doc);
  if (hit && hit.cluster === cluster) return hit.diagnostics;
  const diagnostics = check();
  cache.references.set(doc, { cluster, diagnostics });
  return diagnostics;
}

/**
 * The paths of `files`, sorted, and whether they are those of the last load with this cache:
 * then the last load's sorted list is given back (sorting 2,000 paths per load cost more than
 * checking that none came or went) and nothing needs pruning.
 */
export function sortedPaths(cache: ParseCache | undefined, files: ReadonlyMap<string, unknown>): { readonly sorted: readonly string[]; readonly unchanged: boolean } {
  const last = cache?.lastPaths;
  if (last !== undefined && last.set.size === files.size) {
    let same = true;
    for (const p of files.keys()) {
      if (!last.set.has(p)) {
        same = false;
        break;
      }
    }
    if (same) return { sorted: last.sorted, unchanged: true };
  }
  return { sorted: [...files.keys()].sort(), unchanged: false };
}

/**
 * Drops the parses of paths not in `sorted` (documents deleted since the last load) and keeps
 * `sorted` as the last load's paths: only a load that got this far skips the pruning next time.
 */
export function pruneParseCache(cache: ParseCache | undefined, sorted: readonly string[]): void {
  if (!cache) return;
  const paths = new Set(sorted);
  for (const path of cache.parses.keys()) if (!paths.has(path)) cache.parses.delete(path);
  for (const path of cache.kinds.keys()) if (!paths.has(path)) cache.kinds.delete(path);
  cache.lastPaths = { sorted, set: paths };
}
