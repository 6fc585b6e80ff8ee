/**
 * Follows configd with `watchDocuments` (resumable; re-snapshots after a compaction) into the
 * node's in-memory documents, telling the reconciler what changed. While configd is away the
 * agent keeps enforcing what it has; the watch reconnects with backoff and resumes.
 */
import { watchDocuments, type ConfigClient } from '@palisade/api';
import type { Logger } from '@palisade/service-kit';
import type { Reconciler } from '../apply/reconciler.js';
import { nodeWatchPrefixes, type NodeDocuments } from './node-documents.js';

/** Options of `createStoreFollower`; the backoff bounds (ms) default to `watchDocuments`' own. */
export interface StoreFollowerOptions {
  readonly client: ConfigClient;
  readonly node: string;
  readonly documents: NodeDocuments;
  readonly reconciler: Reconciler;
  readonly logger: Logger;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

/** Handle of the configd watch loop; `start()` is idempotent. */
export interface StoreFollower {
  /** Starts following (returns at once). */
  start(): void;
  /** Ends the watch stream. */
  close(): Promise<void>;
}

/**
 * Creates a stopped follower. It never throws at the caller: interruptions are retried by the
 * watch; a permanent failure (a refused token) is logged and the agent keeps the ruleset in force.
 */
export function createStoreFollower(o: StoreFollowerOptions): StoreFollower {
  const log = o.logger.child({ component: 'follower' });
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  let interrupted = false;
  const follow = async (): Promise<void> => {
    const events = watchDocuments(o.client, {
      prefixes: nodeWatchPrefixes(o.node),
      signal: abort.signal,
      progressIntervalMs: 1000,
      ...(o.backoffInitialMs !== undefined ? { backoffInitialMs: o.backoffInitialMs } : {}),
      ...(o.backoffMaxMs !== undefined ? { backoffMaxMs: o.backoffMaxMs } : {}),
    });
    for await (const ev of events) {
      if (ev.kind !== 'interrupted') {
        o.reconciler.setConnected(true);
        o.reconciler.setStoreRevision(ev.revision);
        if (interrupted) log.info({ revision: ev.revision }, 'watch resumed');
        interrupted = false;
      }
      switch (ev.kind) {
        case 'reset':
          o.documents.reset(ev.documents.map((d) => ({ path: d.path, content: d.content, revision: d.meta.revision })));
          log.info({ revision: ev.revision, documents: ev.documents.length }, 'snapshot of the store received');
          o.reconciler.synced();
          break;
        case 'put':
          if (o.documents.put(ev.document.path, ev.document.content, ev.revision)) o.reconciler.changed(ev.document.meta.timeMs || undefined);
          break;
        case 'delete':
          if (o.documents.delete(ev.path)) o.reconciler.changed(ev.meta.timeMs || undefined);
          break;
        case 'progress':
          break;
        case 'interrupted':
          o.reconciler.setConnected(false);
          if (!interrupted) log.warn({ err: ev.error, resumeFrom: ev.resumeFrom }, 'configd watch interrupted; enforcing the ruleset in force and reconnecting');
          interrupted = true;
          break;
      }
    }
  };
  return {
    start() {
      loop ??= follow().catch((err: unknown) => {
        o.reconciler.setConnected(false);
        log.error({ err }, 'watch failed permanently (check --token); enforcing the ruleset in force without following configd');
      });
    },
    async close() {
      abort.abort();
      await loop;
    },
  };
}
