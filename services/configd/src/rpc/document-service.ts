/**
 * gRPC DocumentService: decode, call the DocumentStore, encode; and the limits of the work a
 * caller can start (diffs in progress, open watches per token and in all).
 */
import {
  WatchEventType,
  type DocumentMeta,
  type DocumentServiceServer,
  type Document,
  type WatchResponse,
} from '@palisade/api';
import { ConfigdError } from '../errors.js';
import { metaOf, type DocumentStore } from '../store/document-store.js';
import type { LogRecord } from '../store/lmdb-mirror.js';
import { DEFAULT_DIFF_LIMITS, type DiffLimits } from '../store/unified-diff.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, DEFAULT_WATCH_BATCH_BYTES, type WatchEvent } from '../store/watch.js';
import type { Clock } from '@palisade/service-kit';
import { callerOf, type ConfigdHandlers } from './handler.js';
import { withConfirmWindow } from '../confirm/confirming-store.js';

/** Zero-copy view of stored bytes as the Buffer ts-proto expects. */
export function asBuffer(bytes: Uint8Array | undefined): Buffer {
  if (!bytes) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A record's metadata as the wire `DocumentMeta`; the FirewallService uses it too, so that both
 * services describe a written revision alike.
 */
export function encodeMeta(r: LogRecord): DocumentMeta {
  return metaOf(r);
}

/**
 * A record as the wire `Document`; without `withContent` the content is left empty, so that a List
 * or History without `include_content` does not send every document's bytes.
 */
export function encodeDocument(r: LogRecord, withContent: boolean): Document {
  return { meta: encodeMeta(r), content: withContent ? asBuffer(r.content) : Buffer.alloc(0) };
}

const MAX_PREFIXES = 64;

/** The bounds of the work one caller can make the DocumentService do. */
export interface DocumentServiceLimits {
  /** Diffs computed at once; more are refused `resource-exhausted`. */
  readonly maxConcurrentDiffs: number;
  readonly diff: DiffLimits;
  /** Open watches of one token (of everybody when access is open). */
  readonly maxWatchesPerToken: number;
  /** Open watches in all. */
  readonly maxWatches: number;
  /** Unsent bytes one watch may leave with grpc-js before it stops reading the store. */
  readonly maxWatchBufferedBytes: number;
  /** Content bytes of one watch log read past its first record. */
  readonly watchBatchBytes: number;
}

/** Defaults: 4 diffs, 64 watches a token, 256 in all, 256 KiB unsent and read per watch. */
export const DEFAULT_DOCUMENT_SERVICE_LIMITS: DocumentServiceLimits = {
  maxConcurrentDiffs: 4,
  diff: DEFAULT_DIFF_LIMITS,
  maxWatchesPerToken: 64,
  maxWatches: 256,
  maxWatchBufferedBytes: 256 * 1024,
  watchBatchBytes: DEFAULT_WATCH_BATCH_BYTES,
};

/** Bytes of a watch event besides its content (metadata, framing). */
const WATCH_EVENT_OVERHEAD_BYTES = 512;

/** Counts open watches per token and in all, refusing past the limits. */
class WatchSlots {
  readonly #byToken = new Map<string, number>();
  #total = 0;
  constructor(private readonly limits: DocumentServiceLimits) {}

  /** Takes a slot or throws `resource-exhausted`; the returned function gives it back (once). */
  take(token: string): () => void {
    const mine = this.#byToken.get(token) ?? 0;
    if (mine >= this.limits.maxWatchesPerToken) {
      throw new ConfigdError('resource-exhausted', `token '${token}' has ${mine} watches open, the limit per token; close one first`);
    }
    if (this.#total >= this.limits.maxWatches) {
      throw new ConfigdError('resource-exhausted', `configd has ${this.#total} watches open, its limit; retry later`);
    }
    this.#byToken.set(token, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#byToken.get(token) ?? 1) - 1;
      if (left === 0) this.#byToken.delete(token);
      else this.#byToken.set(token, left);
    };
  }
}

/**
 * Builds the DocumentService implementation over a store; `clock` dates the writes' deadlines;
 * `confirm` serves Confirm and ListConfirmations (commit-confirmed, `confirm/`).
 */
export function createDocumentService(
  rpc: ConfigdHandlers,
  store: DocumentStore,
  version: string,
  clock: Clock,
  confirm: Pick<DocumentServiceServer, 'confirm' | 'listConfirmations'>,
  limits: DocumentServiceLimits = DEFAULT_DOCUMENT_SERVICE_LIMITS,
): DocumentServiceServer {
  const { unary, serverStream } = rpc;
  const watchSlots = new WatchSlots(limits);
  let diffsRunning = 0;
  return {
    ...confirm,
    get: unary('read', async (req, { signal }) => {
      const { record, storeRevision } = await store.get(
        req.path,
        { revision: req.revision, minRevision: req.minRevision },
        signal,
      );
      return { document: encodeDocument(record, true), storeRevision };
    }),
    put: unary('write', async (req, ctx) => {
      const written: Awaited<ReturnType<DocumentStore['put']>> & { confirmDeadlineMs?: number } = await store.put(
        {
          path: req.path,
          content: req.content,
          ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}),
          ...(req.expectedDigest ? { expectedDigest: req.expectedDigest } : {}),
          createOnly: req.createOnly,
          message: req.message,
        },
        withConfirmWindow(callerOf(ctx, clock), req.confirmWindowMs),
      );
      return { meta: encodeMeta(written.record), diagnostics: written.diagnostics, confirmDeadlineMs: written.confirmDeadlineMs ?? 0 };
    }),
    delete: unary('write', async (req, ctx) => {
      const record = await store.delete(
        {
          path: req.path,
          ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}),
          ...(req.expectedDigest ? { expectedDigest: req.expectedDigest } : {}),
          message: req.message,
        },
        withConfirmWindow(callerOf(ctx, clock), req.confirmWindowMs),
      );
      return { meta: encodeMeta(record) };
    }),
    list: unary('read', async (req, { signal }) => {
      const { records, storeRevision } = await store.list(req.prefix, { minRevision: req.minRevision }, signal);
      return { documents: records.map((r) => encodeDocument(r, req.includeContent)), storeRevision };
    }),
    history: unary('read', async (req) => {
      const { records, storeRevision } = await store.history(req.path, req.limit);
      return { revisions: records.map((r) => encodeDocument(r, req.includeContent)), storeRevision };
    }),
    diff: unary('read', async (req, { signal }) => {
      if (!req.fromRevision) throw new ConfigdError('invalid-argument', 'from_revision is required');
      if (diffsRunning >= limits.maxConcurrentDiffs) {
        throw new ConfigdError('resource-exhausted', `${diffsRunning} diffs are in progress, the limit; retry later`);
      }
      diffsRunning++;
      try {
        const d = await store.diff(req.path, req.fromRevision, req.toRevision, Math.min(req.contextLines ?? 3, 1000), { limits: limits.diff, signal });
        const r = d.result;
        return {
          from: encodeMeta(d.from),
          to: encodeMeta(d.to),
          unified: r.kind === 'diff' ? r.unified : '',
          identical: r.kind === 'identical',
          tooDifferent: r.kind === 'too-different',
          tooDifferentReason: r.kind === 'too-different' ? r.reason : '',
        };
      } finally {
        diffsRunning--;
      }
    }),
    rollback: unary('write', async (req, ctx) => {
      if (!req.revision) throw new ConfigdError('invalid-argument', 'revision is required');
      const record = await store.rollback(
        {
          path: req.path,
          revision: req.revision,
          ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}),
          message: req.message,
        },
        callerOf(ctx, clock),
      );
      return { meta: encodeMeta(record) };
    }),
    status: unary('read', () => {
      const s = store.status();
      return { ...s, version };
    }),
    import: unary('write', async (req, ctx) => {
      const r = await store.import(
        req.documents.map((d) => ({ path: d.path, content: d.content })),
        { force: req.force, dryRun: req.dryRun, message: req.message },
        callerOf(ctx, clock),
      );
      return { written: r.written.map(encodeMeta), unchanged: r.unchanged, diagnostics: r.diagnostics };
    }),
    watch: serverStream<Parameters<DocumentServiceServer['watch']>[0]['request'], WatchResponse>(
      'watch',
      (req, { signal, principal }) => {
        if (req.prefixes.length > MAX_PREFIXES) {
          throw new ConfigdError('invalid-argument', `at most ${MAX_PREFIXES} prefixes per watch`);
        }
        const interval = req.progressIntervalMs ? Math.max(100, req.progressIntervalMs) : DEFAULT_PROGRESS_INTERVAL_MS;
        return slotted(watchSlots, principal.name, () =>
          watchResponses(
            store.watch(
              {
                prefixes: req.prefixes.length > 0 ? req.prefixes : [''],
                startRevision: req.startRevision,
                progressIntervalMs: interval,
                metadataOnly: req.metadataOnly,
                maxBatchBytes: limits.watchBatchBytes,
              },
              signal,
            ),
            req.metadataOnly,
          ),
        );
      },
      { sizeOf: (ev) => ev.content.length + WATCH_EVENT_OVERHEAD_BYTES, maxBufferedBytes: limits.maxWatchBufferedBytes },
    ),
  };
}

/** Runs a watch in a slot taken when the stream starts and given back however it ends. */
function slotted<T>(slots: WatchSlots, token: string, open: () => AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const release = slots.take(token);
      let it: AsyncIterator<T>;
      try {
        it = open()[Symbol.asyncIterator]();
      } catch (err) {
        release();
        throw err;
      }
      return {
        next: async () => {
          try {
            const r = await it.next();
            if (r.done) release();
            return r;
          } catch (err) {
            release();
            throw err;
          }
        },
        return: async () => {
          release();
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** The wire form of one watch event. */
function wireEvent(ev: WatchEvent, metadataOnly: boolean): WatchResponse {
  if (!('record' in ev)) {
    return {
      type: ev.type === 'progress' ? WatchEventType.WATCH_EVENT_TYPE_PROGRESS : WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END,
      meta: undefined,
      content: Buffer.alloc(0),
      revision: ev.revision,
    };
  }
  const type =
    ev.type === 'snapshot'
      ? WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT
      : ev.type === 'put'
        ? WatchEventType.WATCH_EVENT_TYPE_PUT
        : WatchEventType.WATCH_EVENT_TYPE_DELETE;
  return { type, meta: encodeMeta(ev.record), content: metadataOnly ? Buffer.alloc(0) : asBuffer(ev.record.content), revision: ev.record.revision };
}

/**
 * The wire form of the store's watch events, mapped one by one without a generator frame of its
 * own, so that an event waiting for a slow client is referenced by nothing here.
 */
function watchResponses(events: AsyncIterable<WatchEvent>, metadataOnly: boolean): AsyncIterable<WatchResponse> {
  return {
    [Symbol.asyncIterator]: () => {
      const it = events[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: wireEvent(r.value, metadataOnly) };
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
