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
import { nuid } from '@nats-io/nats-core';
import {
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NextMsgRequest,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { QuorumVerdict, classifyPublishError, connectNats, probeStreamQuorum, retryBackoffMs, streamHasQuorum, type NatsClient } from '@palisade/nats-kit';
import { BoundedQueue, SYSTEM_CLOCK, type Clock, type Logger, type QueueStats } from '@palisade/service-kit';
import { ConfigdError } from '../errors.js';
import { abortable, errText, settledWithin, sleep } from './async-util.js';
import { decodeRecord, encodeHeaders } from './record-codec.js';
import type { AppendOptions, LogRecord, LogSink, LogWrite } from '../log-record.js';
import {
  DEFAULT_FOLLOWER_QUEUE_RECORDS,
  FOLLOWER_QUEUE_MAX_BYTES,
  MIN_ATTEMPT_TIMEOUT_MS,
  PROBE_TIMEOUT_MS,
  WRITE_REPLY_MARGIN_MS,
  type JetStreamLogOptions,
} from './jetstream-log-options.js';

export { sha256Hex, type AppendOptions, type LogSink, type LogWrite } from '../log-record.js';
export { classifyPublishError, retryBackoffMs, streamHasQuorum, type PublishFailure } from '@palisade/nats-kit';

export {
  DEFAULT_BUCKET,
  DEFAULT_FOLLOWER_QUEUE_RECORDS,
  DEFAULT_PROBE_INTERVAL_MS,
  DEFAULT_WRITE_DEADLINE_MS,
  DEFAULT_WRITE_TIMEOUT_MS,
  HEADER_RESERVE_BYTES,
  MIN_ATTEMPT_TIMEOUT_MS,
  PROBE_TIMEOUT_MS,
  WRITE_REPLY_MARGIN_MS,
  type JetStreamLogOptions,
} from './jetstream-log-options.js';

/** The replicated document log on one JetStream KV bucket (see the file comment). */
export class JetStreamLog {
  readonly #opts: JetStreamLogOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #stream: string;
  readonly #subjectPrefix: string;
  #client: NatsClient | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #probeJsm: JetStreamManager | undefined;
  #ready = false;
  /** Woken when readiness, the connection or the quorum changes (see `whenReady`). */
  readonly #waiters = new Set<() => void>();
  /** The quorum as probes and acknowledgements show it (only a real loss reads as not quorate). */
  readonly #quorum = new QuorumVerdict(false);
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
    return this.#client?.connected ?? false;
  }
  /** Whether the last write or probe reached a JetStream quorum. */
  get quorate(): boolean {
    return this.#quorate && this.connected;
  }
  /** Replicas of the stream (0 until known). */
  get replicas(): number {
    return this.#replicas;
  }
  /** Largest NATS message the server accepts (headers included). */
  get maxPayload(): number {
    return this.#maxPayload;
  }
  /** The NATS connection once made (configd's other JetStream records share it: commit-confirmed). */
  get natsClient(): NatsClient | undefined {
    return this.#client;
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
      const left = deadline - this.#clock.now();
      if (left <= 0) throw new ConfigdError('unavailable', 'NATS JetStream not ready');
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#waiters.delete(done);
          cancel();
          resolve();
        };
        const cancel = this.#clock.setTimer(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** Publishes the verdict's current state (wakes waiters on a change). */
  #setQuorate(quorate: boolean): void {
    if (quorate === this.#quorate) return;
    this.#quorate = quorate;
    this.#notify();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted && !this.#client) {
      try {
        this.#client = await connectNats({
          servers: this.#opts.servers,
          name: `palisade-configd ${this.#opts.node}`,
          logger: this.#log,
          ...(this.#opts.auth ? { auth: this.#opts.auth } : {}),
          ...(this.#opts.tlsCa !== undefined ? { tlsCa: this.#opts.tlsCa } : {}),
        });
      } catch (err) {
        this.#log.warn({ err }, 'cannot connect to NATS yet; serving reads from the local mirror');
        await sleep(500, signal);
      }
    }
    const client = this.#client;
    if (!client || signal.aborted) return;
    const nc = client.connection;
    this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
    this.#tasks.push(this.#watchStatus(client, signal));
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
    this.#notify();
    this.#tasks.push(this.#probeLoop());
    await this.#followLoop();
  }

  /** Wakes `whenReady` and waiting writes on every connection change. */
  async #watchStatus(client: NatsClient, signal: AbortSignal): Promise<void> {
    for await (const _ of client.states(signal)) this.#notify();
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
    this.#setQuorate(this.#quorum.answered(streamHasQuorum(info)));
    this.#sink?.bindStream(`${this.#stream}@${info.created}`);
    this.#log.info(
      { stream: this.#stream, replicas: this.#replicas, lastRevision: info.state.last_seq, created: info.created },
      'replication bucket ready',
    );
  }

  #autoReplicas(): number {
    const info = this.#client?.connection.info;
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
    const started = this.#clock.now();
    try {
      // Quorum: the stream has a leader, and the leader has heard from enough replicas
      // recently. (Stream info alone is no test: without a quorum it can be answered from
      // the stale state of a leader that has not stepped down yet.)
      const { quorate, lastSeq, info } = await probeStreamQuorum(this.#probeJsm!, this.#stream);
      this.#streamLastSeq = lastSeq;
      if (quorate !== this.#quorate) this.#log.info({ quorate, cluster: info.cluster }, 'JetStream quorum changed');
      this.#setQuorate(this.#quorum.answered(quorate));
    } catch (err) {
      // A failed probe is a loss only when it says something about the servers (see
      // QuorumVerdict): not for a single replica, not when the event loop delayed its timeout.
      const elapsedMs = this.#clock.now() - started;
      const quorate = this.#quorum.failed({ elapsedMs, timeoutMs: PROBE_TIMEOUT_MS, replicas: this.#replicas });
      this.#log.debug({ err: errText(err), elapsedMs, consecutive: this.#quorum.consecutiveFailures }, 'quorum probe failed');
      if (this.#quorate && !quorate) this.#log.warn({ err: errText(err) }, 'JetStream quorum lost');
      this.#setQuorate(quorate);
    }
  }

  /** Periodically checks JetStream reachability and restarts a stalled follower. */
  async #probeLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      await sleep(this.#opts.probeIntervalMs, signal);
      if (signal.aborted || !this.connected) continue;
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
          await this.#pending.pushWait(decodeRecord({ seq: m.seq, subject: m.subject, headers: m.headers, data: m.data, storedMs: Math.floor(m.info.timestampNanos / 1e6) }, this.#subjectPrefix), signal);
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
   * arrived by the next turn of the event loop after a lone first record, or whatever queued up
   * while the previous batch committed. Ends once the queue is closed and empty (at close).
   */
  async #applyLoop(sink: LogSink): Promise<void> {
    for (;;) {
      const first = await this.#pending.take();
      if (first === undefined) return;
      // A record that arrived alone: let the rest of its burst arrive first. Records that
      // queued up during the previous commit go at once (no turn of the event loop between
      // two commits).
      if (this.#pending.size === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = [first, ...this.#pending.drain()];
      try {
        await sink.apply(batch);
      } catch (err) {
        this.#log.error({ err }, 'cannot apply replicated records to the mirror; restarting the follower');
        this.#messages?.stop();
      }
    }
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
   * abort or close. Once the deadline is spent: `outcome-unknown` when an attempt may have been
   * stored (and may still be applied, once), else `not-quorate` when the probes say the quorum
   * is gone, else `unavailable` ("nothing was written" in both).
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
    // Whether the last wait was for a quorum the probes said was gone.
    let quorumLost = false;
    const fail = (code: 'not-quorate' | 'outcome-unknown' | 'cancelled' | 'unavailable', what: string, cause?: unknown): ConfigdError => {
      const tried = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${this.#clock.now() - started} ms`;
      const outcome = maybeStored
        ? `outcome unknown: an attempt may have been stored and may still be applied (at most once)${quorumLost ? ' when the quorum returns' : ''}; read the document to find out, or retry with expected_revision`
        : 'nothing was written';
      return new ConfigdError(code, `${what} (${tried}${reason ? `; last: ${reason}` : ''}); ${outcome}`, { path: write.path }, { cause });
    };
    for (;;) {
      if (signal.aborted) {
        throw fail('cancelled', this.#closed ? 'write cancelled: configd is shutting down' : 'write cancelled by the client');
      }
      if (this.#clock.now() >= until) break;
      if (!this.#ready || !this.connected || !this.#js || !this.#quorate) {
        // Do not publish without a known quorum: a message proposed to a leader that lost its
        // quorum may be committed long after this write gave up.
        reason = !this.connected || !this.#js ? 'not connected to NATS' : !this.#ready ? 'the replication bucket is not ready' : 'JetStream has no quorum';
        quorumLost = this.connected && this.#ready && !this.#quorate;
        await this.#waitWritable(until, signal);
        continue;
      }
      attempts++;
      quorumLost = false;
      try {
        const ack = await this.#publishAttempt(subject, write, timeMs, msgID, expected, until, signal);
        if (ack.duplicate && !ack.seq) {
          // The leader has staged our message id but not stored it yet: ask again.
          maybeStored = true;
          reason = 'an earlier attempt is still being stored';
          await sleep(Math.min(retryBackoffMs(++failures), until - this.#clock.now()), signal);
          continue;
        }
        this.#setQuorate(this.#quorum.acknowledged());
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
              this.#setQuorate(this.#quorum.acknowledged());
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
        // A failed attempt is no proof of a lost quorum (a blocked event loop times out
        // attempts whose ack is already in the socket): the next attempt waits for a probe,
        // which alone decides, and for the backoff. The same msg id and CAS make it safe.
        const pause = sleep(Math.min(retryBackoffMs(failures), until - this.#clock.now()), signal);
        await settledWithin(this.#probe(), until - this.#clock.now());
        await pause;
      }
    }
    // The true reason: an attempt may be stored (its own code: a caller must not read it as
    // "nothing happened"), else the quorum is gone, else JetStream did not answer.
    if (maybeStored) throw fail('outcome-unknown', 'no JetStream acknowledgement within the write deadline');
    if (quorumLost) throw fail('not-quorate', 'not quorate: JetStream has lost its quorum');
    throw fail('unavailable', 'JetStream did not acknowledge the write within the write deadline');
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
    const h = encodeHeaders(write, this.#opts.node, timeMs);
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
      if (this.connected && this.#probeJsm) {
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
    if (this.#ready && this.connected && this.#probeJsm) {
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
    // Drains, closing after NATS_CONNECT_DEFAULTS.drainTimeoutMs at the latest.
    await this.#client?.close();
    await Promise.allSettled(this.#tasks);
  }
}


/** Pause between checks while a write waits for NATS or a quorum. */
const WAIT_POLL_MS = 100;
