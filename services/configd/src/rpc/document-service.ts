/**
 * gRPC DocumentService: decode, call the DocumentStore, encode. No logic of its own.
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
import { DEFAULT_PROGRESS_INTERVAL_MS, type WatchEvent } from '../store/watch.js';
import type { Clock } from '@palisade/service-kit';
import { callerOf, type ConfigdHandlers } from './handler.js';
import { withConfirmWindow } from '../confirm/confirming-store.js';

/** Zero-copy view of stored bytes as the Buffer ts-proto expects. */
export function asBuffer(bytes: Uint8Array | undefined): Buffer {
  if (!bytes) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeMeta(r: LogRecord): DocumentMeta {
  return metaOf(r);
}

export function encodeDocument(r: LogRecord, withContent: boolean): Document {
  return { meta: encodeMeta(r), content: withContent ? asBuffer(r.content) : Buffer.alloc(0) };
}

const MAX_PREFIXES = 64;

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
): DocumentServiceServer {
  const { unary, serverStream } = rpc;
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
    diff: unary('read', async (req) => {
      if (!req.fromRevision) throw new ConfigdError('invalid-argument', 'from_revision is required');
      const d = await store.diff(req.path, req.fromRevision, req.toRevision, req.contextLines ?? 3);
      return { from: encodeMeta(d.from), to: encodeMeta(d.to), unified: d.unified, identical: d.unified === '' };
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
    watch: serverStream<Parameters<DocumentServiceServer['watch']>[0]['request'], WatchResponse>('watch', (req, { signal }) => {
      if (req.prefixes.length > MAX_PREFIXES) {
        throw new ConfigdError('invalid-argument', `at most ${MAX_PREFIXES} prefixes per watch`);
      }
      const interval = req.progressIntervalMs ? Math.max(100, req.progressIntervalMs) : DEFAULT_PROGRESS_INTERVAL_MS;
      const events = store.watch(
        { prefixes: req.prefixes.length > 0 ? req.prefixes : [''], startRevision: req.startRevision, progressIntervalMs: interval },
        signal,
      );
      return watchResponses(events, req.metadataOnly);
    }),
  };
}

/** The wire form of the store's watch events. */
async function* watchResponses(events: AsyncIterable<WatchEvent>, metadataOnly: boolean): AsyncGenerator<WatchResponse> {
  for await (const ev of events) {
    if (!('record' in ev)) {
      yield {
        type: ev.type === 'progress' ? WatchEventType.WATCH_EVENT_TYPE_PROGRESS : WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END,
        meta: undefined,
        content: Buffer.alloc(0),
        revision: ev.revision,
      };
      continue;
    }
    const type =
      ev.type === 'snapshot'
        ? WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT
        : ev.type === 'put'
          ? WatchEventType.WATCH_EVENT_TYPE_PUT
          : WatchEventType.WATCH_EVENT_TYPE_DELETE;
    yield { type, meta: encodeMeta(ev.record), content: metadataOnly ? Buffer.alloc(0) : asBuffer(ev.record.content), revision: ev.record.revision };
  }
}
