/**
 * The replicated document log on NATS JetStream.
 *
 * Documents live in the KV bucket `<bucket>` (stream `KV_<bucket>`, subjects `$KV.<bucket>.<path>`),
 * created on first start with `history` revisions per key and R1/R3 replication. Writes are
 * published straight onto the KV subjects so that every revision carries Palisade's metadata in
 * headers (author, time, message, digest, writer node); `KV-Operation: DEL` marks deletions,
 * exactly as the KV API does, so `nats kv` tools still read the bucket. Compare-and-set uses
 * JetStream's `Nats-Expected-Last-Subject-Sequence`. A write is reported as done only once
 * JetStream acknowledged it (stored on a quorum of the stream's replicas).
 *
 * A write is retried inside its deadline (see `append`): a leader change costs latency, not a
 * refused write. Every attempt carries the same `Nats-Msg-Id` and a CAS expectation, so at most
 * one attempt of a write can ever be stored.
 *
 * `follow()` feeds the local mirror in stream order with an ordered consumer, restarting it
 * from the mirror's revision + 1 after any interruption (the mirror drops duplicates).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders, errors as natsErrors, nuid } from '@nats-io/nats-core';
import {
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NextMsgRequest,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
export { sha256Hex, type AppendOptions, type LogSink, type LogWrite } from '../log-record.js';
import { BoundedQueue, SYSTEM_CLOCK, type Clock, type Logger, type QueueStats } from '@palisade/service-kit';
import { ConfigdError } from '../errors.js';
import { sha256Hex, type AppendOptions, type LogRecord, type LogSink, type LogWrite } from '../log-record.js';

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
}

/** Default bound of the follower → mirror queue, in records (also bounded to 64 MiB of content). */
export const DEFAULT_FOLLOWER_QUEUE_RECORDS = 4096;
const FOLLOWER_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

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


const H = {
  author: 'Palisade-Author',
  time: 'Palisade-Time',
  message: 'Palisade-Message',
  digest: 'Palisade-Digest',
  node: 'Palisade-Node',
  kvOp: 'KV-Operation',
} as const;


export class JetStreamLog {
  readonly #opts: JetStreamLogOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #stream: string;
  readonly #subjectPrefix: string;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #probeJsm: JetStreamManager | undefined;
  #ready = false;
  #connected = false;
  #quorate = false;
  #replicas = 0;
  #maxPayload = 1024 * 1024;
  #streamLastSeq = 0;
  #lastDelivery: number;
  #sink: LogSink | undefined;
  #messages: ConsumerMessages | undefined;
  #closed = false;
  #abort = new AbortController();
  #tasks: Promise<void>[] = [];
  /** Followed records not yet handed to the sink (bounded: the follower waits for room). */
  readonly #pending: BoundedQueue<LogRecord>;
  #probing: Promise<void> | undefined;

  constructor(opts: JetStreamLogOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#lastDelivery = this.#clock.now();
    this.#pending = new BoundedQueue({
      maxItems: opts.followerQueueRecords ?? DEFAULT_FOLLOWER_QUEUE_RECORDS,
      maxBytes: FOLLOWER_QUEUE_MAX_BYTES,
      sizeOf: (r) => r.size,
      overflow: 'reject',
    });
    this.#log = opts.logger.child({ component: 'replication' });
    this.#stream = `KV_${opts.bucket}`;
    this.#subjectPrefix = `$KV.${opts.bucket}.`;
  }

  /** Whether the NATS connection is up. */
  get connected(): boolean {
    return this.#connected;
  }
  /** Whether the last write or probe reached a JetStream quorum. */
  get quorate(): boolean {
    return this.#quorate && this.#connected;
  }
  /** Replicas of the stream (0 until known). */
  get replicas(): number {
    return this.#replicas;
  }
  /** Largest NATS message the server accepts (headers included). */
  get maxPayload(): number {
    return this.#maxPayload;
  }
  /** Last stream sequence seen by the probe. */
  get streamLastRevision(): number {
    return this.#streamLastSeq;
  }

  /**
   * Starts connecting (in the background: configd serves reads while NATS is away), ensures the
   * bucket exists, and feeds `sink` from its revision + 1. Resolves immediately.
   */
  start(sink: LogSink): void {
    this.#sink = sink;
    this.#tasks.push(this.#applyLoop(sink));
    this.#tasks.push(this.#run());
  }

  /** Followed records waiting for the mirror (pending; none are dropped: the follower waits). */
  get followerQueueStats(): QueueStats {
    return this.#pending.stats;
  }

  /** Resolves once connected, the bucket is ready and quorate, or rejects after `timeoutMs`. */
  async whenReady(timeoutMs: number): Promise<void> {
    const deadline = this.#clock.now() + timeoutMs;
    while (!this.#ready || !this.quorate) {
      if (this.#clock.now() > deadline) throw new ConfigdError('unavailable', 'NATS JetStream not ready');
      await sleep(25);
    }
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted && !this.#nc) {
      try {
        this.#nc = await connect({
          servers: [...this.#opts.servers],
          name: `palisade-configd ${this.#opts.node}`,
          noRandomize: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          reconnectJitter: 100,
          pingInterval: 2000,
          maxPingOut: 2,
          timeout: 2000,
        });
      } catch (err) {
        this.#log.warn({ err }, 'cannot connect to NATS yet; serving reads from the local mirror');
        await sleep(500, signal);
      }
    }
    const nc = this.#nc;
    if (!nc || signal.aborted) return;
    this.#connected = true;
    this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
    this.#log.info({ server: nc.getServer(), maxPayload: this.#maxPayload }, 'connected to NATS');
    this.#tasks.push(this.#watchStatus(nc));
    this.#js = jetstream(nc, { timeout: this.#opts.writeTimeoutMs });
    this.#jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
    this.#probeJsm = await jetstreamManager(nc, { checkAPI: false, timeout: PROBE_TIMEOUT_MS });
    while (!signal.aborted) {
      try {
        await this.#ensureBucket();
        break;
      } catch (err) {
        this.#log.warn({ err }, 'cannot open or create the replication bucket yet');
        await sleep(1000, signal);
      }
    }
    if (signal.aborted) return;
    this.#ready = true;
    this.#tasks.push(this.#probeLoop());
    await this.#followLoop();
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.#connected = false;
        this.#log.warn({ server: s.server }, 'disconnected from NATS');
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#log.info({ server: s.server }, 'reconnected to NATS');
      }
    }
  }

  async #ensureBucket(): Promise<void> {
    const jsm = this.#jsm!;
    let info;
    try {
      info = await jsm.streams.info(this.#stream);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err;
      const replicas = this.#opts.replicas === 'auto' ? this.#autoReplicas() : this.#opts.replicas;
      this.#log.info({ bucket: this.#opts.bucket, replicas, history: this.#opts.history }, 'creating the replication bucket');
      const kvm = new Kvm(this.#js!);
      await kvm.create(this.#opts.bucket, {
        history: this.#opts.history,
        replicas,
        storage: 'file',
        description: 'Palisade configd documents (/etc/pve)',
      } as never);
      info = await jsm.streams.info(this.#stream);
    }
    // A retried write is de-duplicated by its msg id only while the first attempt is inside the
    // stream's duplicate window: keep the window at least as long as a write may retry.
    const windowNs = this.#opts.writeDeadlineMs * 1e6;
    if ((info.config.duplicate_window ?? 0) < windowNs) {
      this.#log.info(
        { stream: this.#stream, duplicateWindowMs: (info.config.duplicate_window ?? 0) / 1e6, writeDeadlineMs: this.#opts.writeDeadlineMs },
        "raising the bucket's duplicate window to the write deadline",
      );
      info = await jsm.streams.update(this.#stream, { duplicate_window: windowNs });
    }
    this.#replicas = info.config.num_replicas;
    this.#streamLastSeq = info.state.last_seq;
    this.#quorate = streamHasQuorum(info);
    this.#sink?.bindStream(`${this.#stream}@${info.created}`);
    this.#log.info(
      { stream: this.#stream, replicas: this.#replicas, lastRevision: info.state.last_seq, created: info.created },
      'replication bucket ready',
    );
  }

  #autoReplicas(): number {
    const info = this.#nc?.info;
    const servers = 1 + (info?.connect_urls?.length ?? 0);
    return info?.cluster && servers >= 3 ? 3 : 1;
  }

  /**
   * One quorum probe; concurrent callers (the probe loop, writes waiting for a quorum) share the
   * request in flight. Never rejects.
   */
  #probe(): Promise<void> {
    if (!this.#probing) {
      // Cleared in a `.finally` (always asynchronous), only if still the one in flight.
      const p: Promise<void> = this.#probeOnce().finally(() => {
        if (this.#probing === p) this.#probing = undefined;
      });
      this.#probing = p;
    }
    return this.#probing;
  }

  async #probeOnce(): Promise<void> {
    try {
      // Quorum: the stream has a leader, and the leader has heard from enough replicas
      // recently. (Stream info alone is no test: without a quorum it can be answered from
      // the stale state of a leader that has not stepped down yet.)
      const info = await this.#probeJsm!.streams.info(this.#stream);
      this.#streamLastSeq = info.state.last_seq;
      const quorate = streamHasQuorum(info);
      if (quorate !== this.#quorate) this.#log.info({ quorate, cluster: info.cluster }, 'JetStream quorum changed');
      this.#quorate = quorate;
    } catch (err) {
      this.#log.debug({ err: errText(err) }, 'quorum probe failed');
      if (this.#quorate) this.#log.warn({ err: errText(err) }, 'JetStream quorum lost');
      this.#quorate = false;
    }
  }

  /** Periodically checks JetStream reachability and restarts a stalled follower. */
  async #probeLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      await sleep(this.#opts.probeIntervalMs, signal);
      if (signal.aborted || !this.#connected) continue;
      await this.#probe();
      const sinkRev = this.#sink?.revision ?? 0;
      if (this.#streamLastSeq > sinkRev && this.#clock.now() - this.#lastDelivery > 3000 && this.#messages) {
        this.#log.info({ mirror: sinkRev, stream: this.#streamLastSeq }, 'follower stalled; restarting it');
        this.#messages.stop();
      }
    }
  }

  async #followLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const from = (this.#sink?.revision ?? 0) + 1;
      try {
        const consumer = await this.#js!.consumers.get(this.#stream, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: from,
        });
        const messages = await consumer.consume({ max_messages: 512, expires: 5000 });
        this.#messages = messages;
        this.#lastDelivery = this.#clock.now();
        this.#log.debug({ from }, 'following the replication stream');
        for await (const m of messages) {
          this.#lastDelivery = this.#clock.now();
          await this.#pending.pushWait(this.#decode(m), signal);
          if (signal.aborted) break;
        }
      } catch (err) {
        if (!signal.aborted) this.#log.warn({ err: errText(err), from }, 'replication follower interrupted');
      } finally {
        this.#messages = undefined;
      }
      if (!signal.aborted) await sleep(250, signal);
    }
  }

  /**
   * Hands followed records to the sink in batches, one batch at a time (`apply` awaited): what
   * arrived by the next turn of the event loop after the first, then whatever queued up while
   * the previous batch committed. Ends once the queue is closed and empty (at close).
   */
  async #applyLoop(sink: LogSink): Promise<void> {
    for (;;) {
      const first = await this.#pending.take();
      if (first === undefined) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = [first, ...this.#pending.drain()];
      try {
        await sink.apply(batch);
      } catch (err) {
        this.#log.error({ err }, 'cannot apply replicated records to the mirror; restarting the follower');
        this.#messages?.stop();
      }
    }
  }

  #decode(m: JsMsg): LogRecord {
    const h = m.headers;
    const op = h?.get(H.kvOp);
    const deleted = op === 'DEL' || op === 'PURGE';
    const content = deleted ? new Uint8Array(0) : m.data;
    const rawMessage = h?.get(H.message) ?? '';
    let message = rawMessage;
    try {
      message = decodeURIComponent(rawMessage);
    } catch {
      /* keep as sent */
    }
    return {
      revision: m.seq,
      path: m.subject.startsWith(this.#subjectPrefix) ? m.subject.slice(this.#subjectPrefix.length) : m.subject,
      op: deleted ? 'delete' : 'put',
      digest: deleted ? '' : (h?.get(H.digest) || sha256Hex(content)),
      author: h?.get(H.author) || 'nats',
      timeMs: Number(h?.get(H.time)) || Math.floor(m.info.timestampNanos / 1e6),
      message,
      writerNode: h?.get(H.node) ?? '',
      size: content.length,
      ...(deleted ? {} : { content: Uint8Array.from(content) }),
    };
  }

  /**
   * Appends a revision; resolves with its revision once JetStream acknowledged it.
   *
   * Inside the write's deadline (`opts.deadlineMs` less `WRITE_REPLY_MARGIN_MS`, at most
   * `writeDeadlineMs` from now) it retries what a leader change or a lost connection causes: no
   * acknowledgement in `writeTimeoutMs`, no responders, JetStream errors meaning no leader
   * (`classifyPublishError`), with `retryBackoffMs` between attempts. While not connected or
   * while the quorum probe fails it does not publish; it re-probes and waits. Every attempt
   * carries the same `Nats-Msg-Id` and a CAS expectation (`expectedRevision`, else
   * `knownRevision`), so at most one attempt is ever stored: a duplicate is answered with the
   * original revision; a CAS mismatch after an attempt that may have been stored is checked
   * against the message id of the subject's next revision (nats-server 2.10 checks the
   * expectation before the msg id in a cluster, so a retry of a stored CAS write is refused as
   * a mismatch, not as a duplicate).
   *
   * Fails with `conflict` on a CAS mismatch (`expectedRevision` given), `too-large` when the
   * message exceeds the server's limits, `unavailable` on a definite refusal, `cancelled` on
   * abort or close, and `not-quorate` once the deadline is spent, saying how long it tried and
   * whether the outcome is unknown (an attempt may have been stored and may still be applied,
   * once) or nothing was written.
   */
  async append(write: LogWrite, opts: AppendOptions = {}): Promise<{ revision: number; timeMs: number }> {
    const started = this.#clock.now();
    const until = Math.min(started + this.#opts.writeDeadlineMs, (opts.deadlineMs ?? Infinity) - WRITE_REPLY_MARGIN_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.#abort.signal]) : this.#abort.signal;
    const subject = this.#subjectPrefix + write.path;
    const msgID = write.writeId ?? nuid.next();
    const timeMs = started;
    let expected = write.expectedRevision ?? write.knownRevision ?? 0;
    // Whether an attempt carrying `expected` may have been stored although no ack said so.
    let maybeStored = write.writeId !== undefined;
    let attempts = 0;
    let failures = 0;
    let reason = '';
    const fail = (code: 'not-quorate' | 'cancelled' | 'unavailable', what: string, cause?: unknown): ConfigdError => {
      const tried = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${this.#clock.now() - started} ms`;
      const outcome = maybeStored
        ? 'outcome unknown: an attempt may have been stored and may still be applied (at most once) when the quorum returns'
        : 'nothing was written';
      return new ConfigdError(code, `${what} (${tried}${reason ? `; last: ${reason}` : ''}); ${outcome}`, { path: write.path }, { cause });
    };
    for (;;) {
      if (signal.aborted) {
        throw fail('cancelled', this.#closed ? 'write cancelled: configd is shutting down' : 'write cancelled by the client');
      }
      if (this.#clock.now() >= until) break;
      if (!this.#ready || !this.#connected || !this.#js || !this.#quorate) {
        // Do not publish without a known quorum: a message proposed to a leader that lost its
        // quorum may be committed long after this write gave up.
        reason = !this.#connected || !this.#js ? 'not connected to NATS' : !this.#ready ? 'the replication bucket is not ready' : 'JetStream has no quorum';
        await this.#waitWritable(until, signal);
        continue;
      }
      attempts++;
      try {
        const ack = await this.#publishAttempt(subject, write, timeMs, msgID, expected, until, signal);
        if (ack.duplicate && !ack.seq) {
          // The leader has staged our message id but not stored it yet: ask again.
          maybeStored = true;
          reason = 'an earlier attempt is still being stored';
          await sleep(Math.min(retryBackoffMs(++failures), until - this.#clock.now()), signal);
          continue;
        }
        this.#quorate = true;
        return { revision: ack.seq, timeMs };
      } catch (err) {
        if (signal.aborted) {
          maybeStored = true;
          continue;
        }
        const f = classifyPublishError(err);
        if (f.kind === 'conflict') {
          if (maybeStored) {
            const own = await this.#findOwnRevision(subject, expected, msgID, until, signal);
            if (typeof own === 'number') {
              this.#quorate = true;
              return { revision: own, timeMs };
            }
            if (own === 'unknown') {
              reason = 'could not check whether an earlier attempt was stored';
              continue;
            }
          }
          // The subject moved past `expected` with someone else's revision: no attempt carrying
          // `expected` can be stored any more.
          maybeStored = false;
          if (write.expectedRevision === undefined) {
            // Last writer wins: publish again on the revision JetStream reported.
            if (f.currentRevision === expected) await sleep(Math.min(retryBackoffMs(++failures), until - this.#clock.now()), signal);
            expected = f.currentRevision;
            continue;
          }
          throw new ConfigdError(
            'conflict',
            `conflict: '${write.path}' changed (expected revision ${write.expectedRevision}, current ${f.currentRevision || 'unknown'})`,
            { path: write.path, currentRevision: f.currentRevision },
            { cause: err },
          );
        }
        if (f.kind === 'too-large') {
          throw new ConfigdError('too-large', `document too large for NATS: ${f.detail}`, { path: write.path }, { cause: err });
        }
        if (f.kind === 'refused') throw fail('unavailable', `JetStream refused the write: ${f.detail}`, err);
        if (f.mayBeStored) maybeStored = true;
        reason = f.reason;
        failures++;
        this.#log.debug({ path: write.path, attempt: attempts, err: f.reason }, 'write attempt failed; retrying');
        // Let the next attempt wait for a probe to confirm the quorum (at once when it is there).
        this.#quorate = false;
        await sleep(Math.min(retryBackoffMs(failures), until - this.#clock.now()), signal);
      }
    }
    throw fail('not-quorate', `not quorate: no JetStream acknowledgement within the write deadline`);
  }

  /** One publish of a write, bounded by the write's deadline and signal; every attempt carries the same time and id. */
  #publishAttempt(
    subject: string,
    write: LogWrite,
    timeMs: number,
    msgID: string,
    expected: number,
    until: number,
    signal: AbortSignal,
  ): Promise<{ seq: number; duplicate: boolean }> {
    const h = natsHeaders();
    h.set(H.author, write.author);
    h.set(H.time, String(timeMs));
    if (write.message) h.set(H.message, encodeURIComponent(write.message));
    h.set(H.node, this.#opts.node);
    if (write.op === 'delete') h.set(H.kvOp, 'DEL');
    else h.set(H.digest, sha256Hex(write.content));
    const timeout = Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.min(this.#opts.writeTimeoutMs, until - this.#clock.now()));
    return abortable(
      this.#js!.publish(subject, write.content, { headers: h, timeout, msgID, expect: { lastSubjectSequence: expected } }),
      signal,
    );
  }

  /**
   * After a CAS mismatch on `expected`: whether the subject's first revision after `expected` is
   * this write's (an earlier attempt stored, its ack lost). Only that revision can be ours: every
   * attempt expected the subject to be at `expected`. Returns its revision, 'not-ours', or
   * 'unknown' when JetStream did not answer before the deadline.
   */
  async #findOwnRevision(subject: string, expected: number, msgID: string, until: number, signal: AbortSignal): Promise<number | 'not-ours' | 'unknown'> {
    for (let n = 1; !signal.aborted && this.#clock.now() < until; n++) {
      if (this.#connected && this.#probeJsm) {
        try {
          // The server's "next by subject" request (`NextMsgRequest`; nats.js' getMessage type
          // omits it, the request is passed through as is).
          const next: NextMsgRequest & { seq: number } = { seq: expected + 1, next_by_subj: subject };
          // Bounded by the write's deadline too (the request's own timeout is the probe's).
          const bounded = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, until - this.#clock.now()))]);
          const sm = await abortable(this.#probeJsm.streams.getMessage(this.#stream, next), bounded);
          return sm && sm.header.get('Nats-Msg-Id') === msgID ? sm.seq : 'not-ours';
        } catch (err) {
          this.#log.debug({ err: errText(err), subject }, 'cannot read the revision after a CAS mismatch yet');
        }
      }
      await sleep(Math.min(retryBackoffMs(n), until - this.#clock.now()), signal);
    }
    return 'unknown';
  }

  /** Waits (one probe, or a short pause while not connected) for a chance to publish. */
  async #waitWritable(until: number, signal: AbortSignal): Promise<void> {
    const started = this.#clock.now();
    if (this.#ready && this.#connected && this.#probeJsm) {
      await settledWithin(this.#probe(), until - started);
      if (this.quorate) return;
    }
    // Probes that fail fast (no responders) must not spin.
    await sleep(Math.min(WAIT_POLL_MS - (this.#clock.now() - started), until - this.#clock.now()), signal);
  }

  /** Stops following, drains the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#messages?.stop();
    // The apply loop hands what is pending to the sink, then ends.
    this.#pending.close();
    const nc = this.#nc;
    if (nc && !nc.isClosed()) {
      try {
        await Promise.race([nc.drain(), sleep(2000)]);
      } catch {
        /* already closing */
      }
      if (!nc.isClosed()) await nc.close();
    }
    await Promise.allSettled(this.#tasks);
  }
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

/** Pause between checks while a write waits for NATS or a quorum. */
const WAIT_POLL_MS = 100;

/** Resolves when `p` settles or after `ms`, whichever is first (the timer is cleared either way). */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    const done = (): void => {
      clearTimeout(t);
      resolve();
    };
    p.then(done, done);
  });
}

/** Settles like `p`, or rejects when `signal` aborts first (`p` is then left to settle unobserved). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new ConfigdError('cancelled', 'cancelled'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(new ConfigdError('cancelled', 'cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
