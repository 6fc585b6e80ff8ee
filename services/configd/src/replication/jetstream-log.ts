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
 * `follow()` feeds the local mirror in stream order with an ordered consumer, restarting it
 * from the mirror's revision + 1 after any interruption (the mirror drops duplicates).
 */
import { createHash } from 'node:crypto';
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
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { Logger } from 'pino';
import { ConfigdError } from '../errors.js';
import type { LogRecord } from '../store/lmdb-mirror.js';

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
  /** How long a write waits for JetStream's acknowledgement before it fails as not quorate. */
  readonly writeTimeoutMs: number;
  /** Period of the quorum/progress probe. */
  readonly probeIntervalMs: number;
  readonly logger: Logger;
}

/** Default bucket name. */
export const DEFAULT_BUCKET = 'palisade';
/** Default time a write waits for a JetStream ack (keeps "not quorate" answers under 2 s). */
export const DEFAULT_WRITE_TIMEOUT_MS = 1500;
/** Default quorum probe period. */
export const DEFAULT_PROBE_INTERVAL_MS = 500;
/** Deadline of one quorum probe request. */
export const PROBE_TIMEOUT_MS = 750;
/** Bytes of a NATS message kept free for Palisade headers and the CAS header. */
export const HEADER_RESERVE_BYTES = 4096;

/** A write to append to the log. */
export interface LogWrite {
  readonly path: string;
  readonly op: 'put' | 'delete';
  readonly content: Uint8Array;
  /** CAS: the document's last revision in the stream (0 = never written). */
  readonly expectedRevision?: number;
  readonly author: string;
  readonly message: string;
}

/** Where followed records go: the mirror. */
export interface LogSink {
  /** Revision the sink has applied (the follower resumes at revision + 1). */
  readonly revision: number;
  bindStream(identity: string): void;
  /** Commits records in order; resolves when committed. */
  apply(records: readonly LogRecord[]): Promise<void>;
}

const H = {
  author: 'Palisade-Author',
  time: 'Palisade-Time',
  message: 'Palisade-Message',
  digest: 'Palisade-Digest',
  node: 'Palisade-Node',
  kvOp: 'KV-Operation',
} as const;

/** SHA-256 hex of a document's content. */
export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

export class JetStreamLog {
  readonly #opts: JetStreamLogOptions;
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
  #lastDelivery = Date.now();
  #sink: LogSink | undefined;
  #messages: ConsumerMessages | undefined;
  #closed = false;
  #abort = new AbortController();
  #tasks: Promise<void>[] = [];
  #pending: LogRecord[] = [];
  #flushScheduled = false;

  constructor(opts: JetStreamLogOptions) {
    this.#opts = opts;
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
    this.#tasks.push(this.#run());
  }

  /** Resolves once connected, the bucket is ready and quorate, or rejects after `timeoutMs`. */
  async whenReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ready || !this.quorate) {
      if (Date.now() > deadline) throw new ConfigdError('unavailable', 'NATS JetStream not ready');
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

  /** Periodically checks JetStream reachability and restarts a stalled follower. */
  async #probeLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      await sleep(this.#opts.probeIntervalMs, signal);
      if (signal.aborted || !this.#connected) continue;
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
      const sinkRev = this.#sink?.revision ?? 0;
      if (this.#streamLastSeq > sinkRev && Date.now() - this.#lastDelivery > 3000 && this.#messages) {
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
        this.#lastDelivery = Date.now();
        this.#log.debug({ from }, 'following the replication stream');
        for await (const m of messages) {
          this.#lastDelivery = Date.now();
          this.#enqueue(this.#decode(m));
          if (signal.aborted) break;
        }
      } catch (err) {
        if (!signal.aborted) this.#log.warn({ err: errText(err), from }, 'replication follower interrupted');
      } finally {
        this.#messages = undefined;
      }
      this.#flush();
      if (!signal.aborted) await sleep(250, signal);
    }
  }

  #enqueue(record: LogRecord): void {
    this.#pending.push(record);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#sink?.apply(batch).catch((err: unknown) => {
      this.#log.error({ err }, 'cannot apply replicated records to the mirror; restarting the follower');
      this.#messages?.stop();
    });
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
   * Fails with `conflict` when the CAS expectation does not hold, `not-quorate` when no quorum
   * acknowledged it in time (the outcome of a timed-out write is unknown), `too-large` when the
   * message exceeds the server's payload limit.
   */
  async append(write: LogWrite): Promise<{ revision: number; timeMs: number }> {
    if (!this.#ready || !this.#connected || !this.#js) {
      throw new ConfigdError('not-quorate', 'not quorate: not connected to NATS JetStream; writes are refused, reads are served from the local mirror');
    }
    // Refuse without publishing while the probe says there is no quorum: a message published
    // to a leader that lost its quorum may still be committed once the quorum returns, long
    // after the caller was told it failed.
    if (!this.#quorate) {
      throw new ConfigdError(
        'not-quorate',
        'not quorate: JetStream has no quorum (last probe failed); writes are refused, reads are served from the local mirror',
      );
    }
    const h = natsHeaders();
    h.set(H.author, write.author);
    const timeMs = Date.now();
    h.set(H.time, String(timeMs));
    if (write.message) h.set(H.message, encodeURIComponent(write.message));
    h.set(H.node, this.#opts.node);
    if (write.op === 'delete') h.set(H.kvOp, 'DEL');
    else h.set(H.digest, sha256Hex(write.content));
    const opts: Parameters<JetStreamClient['publish']>[2] = {
      headers: h,
      timeout: this.#opts.writeTimeoutMs,
      msgID: nuid.next(),
      ...(write.expectedRevision !== undefined ? { expect: { lastSubjectSequence: write.expectedRevision } } : {}),
    };
    try {
      const ack = await this.#js.publish(this.#subjectPrefix + write.path, write.content, opts);
      this.#quorate = true;
      return { revision: ack.seq, timeMs };
    } catch (err) {
      throw this.#mapWriteError(err, write);
    }
  }

  #mapWriteError(err: unknown, write: LogWrite): ConfigdError {
    if (err instanceof JetStreamApiError) {
      const api = err.apiError();
      if (api.err_code === 10071 || api.err_code === 10164) {
        const m = /wrong last sequence: (\d+)/.exec(api.description ?? '');
        return new ConfigdError(
          'conflict',
          `conflict: '${write.path}' changed (expected revision ${write.expectedRevision ?? '?'}, current ${m?.[1] ?? 'unknown'})`,
          { path: write.path, currentRevision: Number(m?.[1] ?? 0) },
          { cause: err },
        );
      }
      if (/maximum.*size|max_payload|too large/i.test(api.description ?? '')) {
        return new ConfigdError('too-large', `document too large for NATS: ${api.description}`, { path: write.path }, { cause: err });
      }
      if (api.code === 503 || /temporarily unavailable|no suitable peers|insufficient resources/i.test(api.description ?? '')) {
        this.#quorate = false;
        return new ConfigdError('not-quorate', `not quorate: ${api.description}`, { path: write.path }, { cause: err });
      }
      return new ConfigdError('unavailable', `JetStream refused the write: ${api.description}`, { path: write.path }, { cause: err });
    }
    const text = errText(err);
    if (/max_payload|payload.*exceeded/i.test(text)) {
      return new ConfigdError('too-large', `document too large for NATS (${text})`, { path: write.path }, { cause: err });
    }
    if (err instanceof natsErrors.TimeoutError) {
      this.#quorate = false;
      return new ConfigdError(
        'not-quorate',
        `not quorate: no JetStream acknowledgement within ${this.#opts.writeTimeoutMs} ms (outcome unknown: the write may still be applied when the quorum returns)`,
        { path: write.path },
        { cause: err },
      );
    }
    this.#quorate = false;
    return new ConfigdError('not-quorate', `not quorate: ${text}`, { path: write.path }, { cause: err });
  }

  /** Stops following, drains the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#messages?.stop();
    this.#flush();
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
