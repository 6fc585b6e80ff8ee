/**
 * The records replication and the store exchange: a write appended to the log, a revision
 * followed from it into the mirror, and the sink interface between the two. Its own module so
 * that `store/` and `replication/` depend on it, not on each other.
 */
import { createHash } from 'node:crypto';

/** One revision of one document, as replicated and mirrored. */
export interface LogRecord {
  readonly revision: number;
  readonly path: string;
  readonly op: 'put' | 'delete';
  /** SHA-256 hex of the content ("" for deletions). */
  readonly digest: string;
  readonly author: string;
  readonly timeMs: number;
  readonly message: string;
  readonly writerNode: string;
  readonly size: number;
  /** Present for puts. */
  readonly content?: Uint8Array;
  /** When JetStream stored it (ms, the stream leader's clock; identical on every node). */
  readonly storedMs?: number;
  /** Set on a document written by an atomic import (staged until its batch commits). */
  readonly batch?: BatchMark;
}

/**
 * Marks a write as part of an atomic batch (`Palisade-Batch`): records 1..count-1 are staged,
 * record `count` commits the batch; an `abort` record (on the batch control key) or any record
 * stored after `deadlineMs` before the commit aborts it. See `store/batch-staging.ts`.
 */
export interface BatchMark {
  readonly id: string;
  /** 1-based position in the batch. */
  readonly index: number;
  readonly count: number;
  /** Stream time (ms since the epoch) after which the batch can no longer commit. */
  readonly deadlineMs: number;
  readonly abort?: boolean;
}

/** A write to append to the log. */
export interface LogWrite {
  readonly path: string;
  readonly op: 'put' | 'delete';
  readonly content: Uint8Array;
  /** CAS: the document's last revision in the stream (0 = never written); a mismatch is a `conflict`. */
  readonly expectedRevision?: number;
  /**
   * Without `expectedRevision`: the document's last revision as this node knows it (0 = none,
   * the default). The log still publishes with it as JetStream's expectation and, on a mismatch,
   * again on the revision JetStream reports, so that a retried write is stored at most once
   * (last writer wins as before; a stale hint costs one round trip).
   */
  readonly knownRevision?: number;
  readonly author: string;
  readonly message: string;
  /**
   * JetStream message id (`Nats-Msg-Id`) carried by every attempt; default a fresh NUID. A caller
   * that retries a write itself passes the same id: a write already stored under it is answered
   * with its revision instead of being stored again.
   */
  readonly writeId?: string;
  /** Part of an atomic batch (an import). */
  readonly batch?: BatchMark;
}

/** Bounds of one `append`. */
export interface AppendOptions {
  /**
   * When the caller stops waiting, in ms since the epoch (the gRPC call's deadline); default and
   * `Infinity`: none. The write answers `WRITE_REPLY_MARGIN_MS` before it, and never later than
   * `writeDeadlineMs` after it started.
   */
  readonly deadlineMs?: number;
  /** Client cancel: stops retrying and fails with `cancelled` (so does closing the log). */
  readonly signal?: AbortSignal;
}

/** Where followed records go: the mirror. `apply` is awaited: the follower sends the next batch when it resolves. */
export interface LogSink {
  /** Revision the sink has applied (the follower resumes at revision + 1). */
  readonly revision: number;
  bindStream(identity: string): void;
  /** Commits records in order; resolves when committed. */
  apply(records: readonly LogRecord[]): Promise<void>;
}

/** The KV key of batch control records (aborts); never a document path (paths do not start with `_`). */
export const BATCH_CONTROL_KEY = '_batch';

/** SHA-256 hex of a document's content. */
export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}
