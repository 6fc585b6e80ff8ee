/**
 * The options of `JetStreamLog` and their defaults: bucket, replication, write timeouts and
 * deadline, probe period, follower queue bound, credentials.
 */
import type { NatsAuth } from '@palisade/nats-kit';
import type { Clock, Logger } from '@palisade/service-kit';

/**
 * Options of `JetStreamLog`; configd fills them from its own (its `historyDepth` is `history`
 * here), and the constants below are the defaults and fixed bounds of the log.
 */
export interface JetStreamLogOptions {
  /** NATS server URLs, tried in the order given (the local server first). */
  readonly servers: readonly string[];
  /** KV bucket name. */
  readonly bucket: string;
  /** Stream replicas when the bucket is created; 'auto' = 3 when the cluster has ≥ 3 servers, else 1. */
  readonly replicas: number | 'auto';
  /** Revisions kept per document in the stream (≤ 64). */
  readonly history: number;
  /** This node's name (recorded as the writer of each revision). */
  readonly node: string;
  /** How long one publish attempt waits for JetStream's acknowledgement before it is retried. */
  readonly writeTimeoutMs: number;
  /**
   * Longest time a write keeps retrying (a cap on the caller's deadline); the bucket's
   * duplicate window is raised to at least this on start.
   */
  readonly writeDeadlineMs: number;
  /** Period of the quorum/progress probe. */
  readonly probeIntervalMs: number;
  readonly logger: Logger;
  /**
   * Most followed records waiting for the mirror; the follower stops reading from NATS while it
   * is full (back-pressure, nothing dropped). Default `DEFAULT_FOLLOWER_QUEUE_RECORDS`.
   */
  readonly followerQueueRecords?: number;
  /** Time for write deadlines and delivery stalls; default the system clock. */
  readonly clock?: Clock;
  /** NATS credentials (closed servers, `deploy/nats/`); default none. */
  readonly auth?: NatsAuth;
  /** PEM CA of the servers' client TLS; default none. */
  readonly tlsCa?: string;
}

/** Default bound of the follower → mirror queue, in records (also bounded to 64 MiB of content). */
export const DEFAULT_FOLLOWER_QUEUE_RECORDS = 4096;
/** Bound of the follower → mirror queue in bytes of content. */
export const FOLLOWER_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

/** Default bucket name. */
export const DEFAULT_BUCKET = 'palisade';
/** Default time one publish attempt waits for a JetStream ack before the write retries it. */
export const DEFAULT_WRITE_TIMEOUT_MS = 1500;
/**
 * Default cap on how long a write retries: above NATS' raft election timeout (4–9 s after a
 * stream leader stops answering) plus the client's stale-connection detection (2 pings of 2 s),
 * so a leader crash or hang costs latency, not a refused write.
 */
export const DEFAULT_WRITE_DEADLINE_MS = 15_000;
/** A write answers this long before the caller's deadline, so the caller gets the reason, not DEADLINE_EXCEEDED. */
export const WRITE_REPLY_MARGIN_MS = 200;
/** Shortest ack timeout of one publish attempt (the last one before the deadline). */
export const MIN_ATTEMPT_TIMEOUT_MS = 100;
/** Default quorum probe period. */
export const DEFAULT_PROBE_INTERVAL_MS = 500;
/** Deadline of one quorum probe request. */
export const PROBE_TIMEOUT_MS = 750;
/** Bytes of a NATS message kept free for Palisade headers and the CAS header. */
export const HEADER_RESERVE_BYTES = 4096;
