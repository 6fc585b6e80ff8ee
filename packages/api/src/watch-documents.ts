/**
 * A resumable watch over configd's `Watch` stream: reconnects with backoff after a lost
 * connection and resumes from the last revision seen, so the consumer sees every change exactly
 * once; when its resume point has been compacted away it starts again from a snapshot (a
 * `reset` event that replaces everything the consumer held).
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { sleep } from '@palisade/service-kit';
import { ConfigClientError, toConfigClientError, type ConfigClient } from './config-client.js';
import type { DocumentMeta } from './gen/palisade/config/v1/document.js';
import { WatchEventType, type WatchResponse } from './gen/palisade/config/v1/document_service.js';

/** One current document, as a snapshot carries it. */
export interface WatchedDocument {
  readonly path: string;
  readonly content: Uint8Array;
  readonly meta: DocumentMeta;
}

/**
 * What `watchDocuments` yields. `reset` carries every current document under the prefixes at
 * `revision` (at the start from revision 0 and after a compaction): the consumer replaces its
 * state. `put`/`delete` follow in revision order. `progress` advances the resume point.
 * `interrupted` reports a lost stream; the next event comes after the reconnection.
 */
export type DocumentWatchEvent =
  | { readonly kind: 'reset'; readonly revision: number; readonly documents: readonly WatchedDocument[] }
  | { readonly kind: 'put'; readonly revision: number; readonly document: WatchedDocument }
  | { readonly kind: 'delete'; readonly revision: number; readonly path: string; readonly meta: DocumentMeta }
  | { readonly kind: 'progress'; readonly revision: number }
  | { readonly kind: 'interrupted'; readonly error: ConfigClientError; readonly retryInMs: number; readonly resumeFrom: number };

/** Options of `watchDocuments`; the timing fields left out take `WATCH_DOCUMENTS_DEFAULTS`. */
export interface WatchDocumentsOptions {
  /** Path prefixes (none: everything). */
  readonly prefixes?: readonly string[];
  /** 0 (default): start with a snapshot. N: every change from revision N on (no snapshot). */
  readonly fromRevision?: number;
  /** Ends the iteration (it returns normally). */
  readonly signal?: AbortSignal;
  /** PROGRESS interval asked of configd, ms. Default 1000. */
  readonly progressIntervalMs?: number;
  /** Leave content out of the events (metadata only). Default false. */
  readonly metadataOnly?: boolean;
  /** First reconnect delay, ms; doubles per failed attempt. Default 100. */
  readonly backoffInitialMs?: number;
  /** Longest reconnect delay, ms. Default 5000. */
  readonly backoffMaxMs?: number;
}

/**
 * The timing defaults of `watchDocuments`, ms: a PROGRESS every second, and reconnects from 100 ms
 * doubling up to 5 s, so that a restarted configd is followed again within seconds.
 */
export const WATCH_DOCUMENTS_DEFAULTS = { progressIntervalMs: 1000, backoffInitialMs: 100, backoffMaxMs: 5000 } as const;

/** Errors after which reconnecting cannot help: they end the iteration by being thrown. */
const PERMANENT_CODES = new Set(['unauthenticated', 'permission-denied', 'invalid-argument']);

/** A bound on events buffered between the gRPC stream and a slow consumer (the stream is paused beyond it). */
const HIGH_WATER_EVENTS = 1024;

/**
 * Follows configd under `prefixes`. Never ends by itself: it returns when `signal` aborts (or the
 * consumer stops iterating) and throws a `ConfigClientError` only for permanent failures
 * (unauthenticated, permission-denied, invalid-argument). Every other failure is reported as an
 * `interrupted` event and retried with exponential backoff, resuming after the last revision
 * seen; `compacted` restarts from a snapshot.
 */
export async function* watchDocuments(client: ConfigClient, options: WatchDocumentsOptions = {}): AsyncGenerator<DocumentWatchEvent, void, undefined> {
  const o = { ...WATCH_DOCUMENTS_DEFAULTS, ...options };
  let next = o.fromRevision ?? 0;
  let failures = 0;
  while (!o.signal?.aborted) {
    const stream = client.watch({ prefixes: [...(o.prefixes ?? [])], startRevision: next, progressIntervalMs: o.progressIntervalMs, metadataOnly: o.metadataOnly ?? false });
    const queue: (WatchResponse | { end: ConfigClientError | undefined })[] = [];
    let wake: (() => void) | undefined;
    const push = (item: WatchResponse | { end: ConfigClientError | undefined }): void => {
      queue.push(item);
      if (queue.length >= HIGH_WATER_EVENTS) stream.pause();
      wake?.();
    };
    const onAbort = (): void => stream.cancel();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (ev: WatchResponse) => push(ev));
    stream.on('error', (e: ServiceError) => push({ end: e.code === GrpcStatus.CANCELLED ? undefined : toConfigClientError(e) }));
    stream.on('end', () => push({ end: undefined }));
    let snapshot: WatchedDocument[] | undefined = next === 0 ? [] : undefined;
    let outcome: ConfigClientError | undefined;
    try {
      for (;;) {
        if (queue.length === 0) {
          stream.resume();
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
          continue;
        }
        const item = queue.shift()!;
        if ('end' in item) {
          outcome = item.end;
          break;
        }
        failures = 0;
        const ev = item;
        switch (ev.type) {
          case WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT:
            if (ev.meta) snapshot?.push({ path: ev.meta.path, content: ev.content, meta: ev.meta });
            break;
          case WatchEventType.WATCH_EVENT_TYPE_SNAPSHOT_END:
            next = ev.revision + 1;
            yield { kind: 'reset', revision: ev.revision, documents: snapshot ?? [] };
            snapshot = undefined;
            break;
          case WatchEventType.WATCH_EVENT_TYPE_PUT:
            next = ev.revision + 1;
            if (ev.meta) yield { kind: 'put', revision: ev.revision, document: { path: ev.meta.path, content: ev.content, meta: ev.meta } };
            break;
          case WatchEventType.WATCH_EVENT_TYPE_DELETE:
            next = ev.revision + 1;
            if (ev.meta) yield { kind: 'delete', revision: ev.revision, path: ev.meta.path, meta: ev.meta };
            break;
          case WatchEventType.WATCH_EVENT_TYPE_PROGRESS:
            next = Math.max(next, ev.revision + 1);
            yield { kind: 'progress', revision: ev.revision };
            break;
          default:
            break;
        }
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      stream.cancel();
    }
    if (o.signal?.aborted) return;
    if (outcome && PERMANENT_CODES.has(outcome.code)) throw outcome;
    // A compacted resume point cannot be resumed: a snapshot replaces what the consumer holds.
    if (outcome?.code === 'compacted') next = 0;
    const error = outcome ?? new ConfigClientError(GrpcStatus.UNAVAILABLE, 'watch stream ended', undefined);
    const retryInMs = Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** Math.min(failures, 16));
    failures++;
    yield { kind: 'interrupted', error, retryInMs, resumeFrom: next };
    await sleep(retryInMs, o.signal);
  }
}
