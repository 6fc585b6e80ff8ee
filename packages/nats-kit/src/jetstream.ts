/**
 * JetStream for services: how a failed publish is handled (retry, conflict, too large,
 * refused), the retry backoff, and the quorum probe of a replicated stream. Pure except for
 * `probeStreamQuorum`.
 */
import { errors as natsErrors } from '@nats-io/nats-core';
import { JetStreamApiError, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';

/** How a failed publish attempt is handled (see `classifyPublishError`). */
export type PublishFailure =
  /** CAS mismatch: the subject's last revision is `currentRevision`. */
  | { readonly kind: 'conflict'; readonly currentRevision: number; readonly cause: unknown }
  /** The message exceeds what the server or stream accepts. */
  | { readonly kind: 'too-large'; readonly detail: string; readonly cause: unknown }
  /** A definite refusal that a retry would not change. */
  | { readonly kind: 'refused'; readonly detail: string; readonly cause: unknown }
  /**
   * Leader missing, no answer, connection lost: retry. `mayBeStored` when the attempt may have
   * reached a leader (no answer), false when it was refused before being proposed.
   */
  | { readonly kind: 'retry'; readonly mayBeStored: boolean; readonly reason: string; readonly cause: unknown };

/** JetStream API error codes (nats-server `errors.json`) of a missing or changing leader. */
const LEADERLESS_API_CODES: ReadonlySet<number> = new Set([
  10008, // JSClusterNotAvailErr: JetStream system temporarily unavailable
  10009, // JSClusterNotLeaderErr: JetStream cluster can not handle request
  10005, // JSClusterNoPeersErrF: no suitable peers for placement
]);
/** 10071 JSStreamWrongLastSequenceErrF, 10164 its constant form: a CAS mismatch. */
const CAS_API_CODES: ReadonlySet<number> = new Set([10071, 10164]);
/** 10054 JSStreamMessageExceedsMaximumErr, 10097 JSStreamHeaderExceedsMaximumErr. */
const TOO_LARGE_API_CODES: ReadonlySet<number> = new Set([10054, 10097]);

/** Sorts a failed JetStream publish into what `append` does next. Pure. */
export function classifyPublishError(err: unknown): PublishFailure {
  if (err instanceof JetStreamApiError) {
    const api = err.apiError();
    const d = api.description ?? '';
    if (CAS_API_CODES.has(api.err_code ?? 0) || /wrong last sequence/i.test(d)) {
      return { kind: 'conflict', currentRevision: Number(/wrong last sequence: (\d+)/.exec(d)?.[1] ?? 0), cause: err };
    }
    if (TOO_LARGE_API_CODES.has(api.err_code ?? 0) || /maximum.*size|exceeds maximum|max_payload|too large/i.test(d)) {
      return { kind: 'too-large', detail: d, cause: err };
    }
    if (/insufficient resources/i.test(d)) return { kind: 'refused', detail: d, cause: err };
    // Leader changes: the stream or meta group has no leader, a proposal raced a step-down
    // (503 without err_code, from a failed raft propose).
    if (LEADERLESS_API_CODES.has(api.err_code ?? 0) || (api.code === 503 && !api.err_code) || /temporarily unavailable|no suitable peers|not leader|no leader|leaderless|raft/i.test(d)) {
      return { kind: 'retry', mayBeStored: false, reason: d || `JetStream error ${api.code}`, cause: err };
    }
    return { kind: 'refused', detail: d || `JetStream error ${api.code}/${api.err_code ?? 0}`, cause: err };
  }
  const text = errText(err);
  if (/max_payload|payload.*exceeded/i.test(text)) return { kind: 'too-large', detail: text, cause: err };
  if (err instanceof natsErrors.PermissionViolationError || err instanceof natsErrors.AuthorizationError) {
    return { kind: 'refused', detail: text, cause: err };
  }
  if (isNoResponders(err) || isNoResponders(err instanceof Error ? err.cause : undefined)) {
    // No responders: nothing subscribed to the subject took the message.
    return { kind: 'retry', mayBeStored: false, reason: 'no responders (no JetStream server took the message)', cause: err };
  }
  if (err instanceof natsErrors.TimeoutError) return { kind: 'retry', mayBeStored: true, reason: 'no acknowledgement (timeout)', cause: err };
  // Connection closed, lost or draining, request errors: the message may have gone out.
  return { kind: 'retry', mayBeStored: true, reason: text, cause: err };
}

/** nats.js reports "no responders" as a RequestError, wrapped by JetStream publish as `JetStreamNotEnabled`. */
function isNoResponders(err: unknown): boolean {
  return (err instanceof natsErrors.RequestError && err.isNoResponders()) || err instanceof natsErrors.NoRespondersError;
}

/** Pause before retry `n` (1 = after the first failure): 50 ms doubling, at most 500 ms. Pure. */
export function retryBackoffMs(n: number): number {
  return Math.min(500, 50 * 2 ** Math.max(0, n - 1));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A replica counts when it is online and was heard from within this many nanoseconds. */
const REPLICA_ACTIVE_NANOS = 3e9;

/** Whether a stream's leader has a majority of live replicas (itself included). */
export function streamHasQuorum(info: StreamInfo): boolean {
  const replicas = info.config.num_replicas;
  if (replicas <= 1) return true;
  const cluster = info.cluster;
  if (!cluster?.leader) return false;
  const live = 1 + (cluster.replicas ?? []).filter((p) => !p.offline && (p.active ?? 0) < REPLICA_ACTIVE_NANOS).length;
  return live > replicas / 2;
}

/** What one quorum probe saw. */
export interface QuorumProbe {
  /** Whether the stream has a leader that heard from a majority of its replicas recently. */
  readonly quorate: boolean;
  /** Last sequence of the stream as its leader reported it. */
  readonly lastSeq: number;
  readonly info: StreamInfo;
}

/**
 * Asks for the stream's info and reads its quorum (stream info alone is no test: without a
 * quorum it can be answered from the stale state of a leader that has not stepped down yet).
 * Rejects with the request's error (timeout, no responders): treat that as not quorate. The
 * `jsm`'s request timeout bounds it.
 */
export async function probeStreamQuorum(jsm: JetStreamManager, stream: string): Promise<QuorumProbe> {
  const info = await jsm.streams.info(stream);
  return { quorate: streamHasQuorum(info), lastSeq: info.state.last_seq, info };
}
