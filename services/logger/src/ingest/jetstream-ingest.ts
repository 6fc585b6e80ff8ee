/**
 * The logger's ingest: a durable JetStream pull consumer on `PALISADE_LOG` (one per logger,
 * named by `--consumer`), written to the store in batches. A message is acknowledged only after
 * the LMDB transaction holding it has committed, so a crash loses nothing (JetStream redelivers
 * what was not acknowledged) and the store drops what it already holds (by entry id).
 *
 * A message holds one entry or a batch of them (`decodeLogMessage`: agents publish batches).
 * Batching: the first message starts a commit; messages arriving meanwhile form the next batch
 * (so batches grow with the load, up to `maxBatch` waiting entries, then reading pauses).
 * Undecodable messages, and each bad entry of a batch, are acknowledged and recorded as
 * `decode-error` loss entries of the node named by their subject, so a query shows them.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiError, StorageType, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import {
  LOG_STREAM,
  LOG_STREAM_DEFAULT_MAX_AGE_MS,
  LOG_SUBJECT_PREFIX,
  LogModelError,
  decodeLogMessage,
  isValidNodeName,
  logStreamSettings,
  type LogEntry,
} from '@palisade/log-model';
import { connectNats, type NatsAuth, type NatsClient } from '@palisade/nats-kit';
import { sleep, type Logger } from '@palisade/service-kit';
import type { LogStore } from '../store/log-store.js';

/**
 * Options of `JetStreamIngest`, filled by `createLogService` from the resolved logger options (the
 * defaults are `INGEST_DEFAULTS`, via `LOGGER_DEFAULTS`).
 */
export interface IngestOptions {
  readonly servers: readonly string[];
  readonly auth?: NatsAuth;
  /** PEM CA of the servers' client TLS certificates. */
  readonly tlsCa?: string;
  /** Durable consumer name, unique per logger (each logger keeps a complete store). */
  readonly consumer: string;
  /** Replicas of the stream when the logger creates it. */
  readonly replicas: number | 'auto';
  /** Age limit of the stream when the logger creates it, ms (0 = none). */
  readonly streamMaxAgeMs: number;
  /** How long JetStream waits for an ack before redelivering, ms. */
  readonly ackWaitMs: number;
  /** Entries waiting for the next commit before reading pauses. */
  readonly maxBatch: number;
  readonly store: LogStore;
  readonly logger: Logger;
}

/** Ingest counters since start. */
export interface IngestStats {
  readonly received: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly decodeErrors: number;
  readonly commitFailures: number;
  /** Whether the consumer is bound and reading now. */
  readonly consuming: boolean;
}

/** Ingest defaults. */
export const INGEST_DEFAULTS = {
  replicas: 'auto',
  streamMaxAgeMs: LOG_STREAM_DEFAULT_MAX_AGE_MS,
  ackWaitMs: 30_000,
  maxBatch: 8192,
} as const;

/** Messages one pull asks for at most (128 batch messages of 256 entries, the agent's default, are ~25 MB). */
export const PULL_MAX_MESSAGES = 128;

/**
 * The ingest loop (see the file comment). A lost connection or a failed commit is logged and
 * retried (reconnecting with a backoff of up to 5 s), never thrown to the caller; `close()`
 * commits what was read first.
 */
export class JetStreamIngest {
  readonly #o: IngestOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #client: NatsClient | undefined;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #flushing: Promise<void> | undefined;
  #batch: JsMsg[] = [];
  /** The entries of `#batch`'s messages, decoded as they arrived. */
  #batchEntries: LogEntry[] = [];
  #stats = { received: 0, stored: 0, duplicates: 0, decodeErrors: 0, commitFailures: 0, consuming: false };
  #readyWaiters: (() => void)[] = [];

  constructor(o: IngestOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'ingest' });
  }

  get stats(): IngestStats {
    return { ...this.#stats };
  }

  /** Starts consuming in the background (retrying until `close()`). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves once the consumer is bound (or at close). */
  whenConsuming(): Promise<void> {
    if (this.#stats.consuming || this.#stop.signal.aborted) return Promise.resolve();
    return new Promise((r) => this.#readyWaiters.push(r));
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        this.#client ??= await connectNats({
          servers: this.#o.servers,
          name: `palisade-logger ${this.#o.consumer}`,
          ...(this.#o.auth ? { auth: this.#o.auth } : {}),
          ...(this.#o.tlsCa ? { tlsCa: this.#o.tlsCa } : {}),
          logger: this.#log,
        });
        await this.#consume(this.#client);
        attempt = 0;
      } catch (err) {
        if (signal.aborted) break;
        this.#log.warn({ err, attempt }, 'log ingest interrupted; retrying');
      }
      this.#stats.consuming = false;
      if (signal.aborted) break;
      await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt++, 5)), signal);
    }
  }

  async #consume(client: NatsClient): Promise<void> {
    const nc = client.connection;
    const jsm = await jetstreamManager(nc);
    await this.#ensureStream(jsm, client);
    try {
      await jsm.consumers.info(LOG_STREAM, this.#o.consumer);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10014) throw err;
      await jsm.consumers.add(LOG_STREAM, {
        durable_name: this.#o.consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.#o.ackWaitMs),
        max_ack_pending: this.#o.maxBatch * 4,
        description: 'palisade-logger: every node firewall log entry into this logger store',
      });
      this.#log.info({ consumer: this.#o.consumer }, 'durable consumer created');
    }
    const consumer = await jetstream(nc).consumers.get(LOG_STREAM, this.#o.consumer);
    if (this.#stop.signal.aborted) return;
    // Pulls of at most PULL_MAX_MESSAGES: 4,096 batch messages are ~200 MB, more than the server
    // lets a client have pending (it cuts a slow consumer off, and the pull starts over).
    const messages = await consumer.consume({ max_messages: Math.min(this.#o.maxBatch, PULL_MAX_MESSAGES), expires: 5000 });
    this.#messages = messages;
    this.#stats.consuming = true;
    for (const w of this.#readyWaiters.splice(0)) w();
    this.#log.info({ consumer: this.#o.consumer, stream: LOG_STREAM }, 'consuming the log stream');
    try {
      for await (const m of messages) {
        this.#stats.received++;
        this.#batch.push(m);
        for (const e of this.#decode(m)) this.#batchEntries.push(e);
        this.#flushing ??= this.#flushAll();
        if (this.#batchEntries.length >= this.#o.maxBatch) await this.#flushing;
      }
    } finally {
      this.#messages = undefined;
      await this.#flushing;
    }
  }

  async #ensureStream(jsm: Awaited<ReturnType<typeof jetstreamManager>>, client: NatsClient): Promise<void> {
    try {
      const existing = await jsm.streams.info(LOG_STREAM);
      // An agent may have created the stream without an age limit: it would grow without
      // bound (the loggers' retention does not shrink it), so the logger sets its own.
      if (!existing.config.max_age && this.#o.streamMaxAgeMs > 0) {
        await jsm.streams.update(LOG_STREAM, { max_age: nanos(this.#o.streamMaxAgeMs) });
        this.#log.info({ stream: LOG_STREAM, maxAgeMs: this.#o.streamMaxAgeMs }, 'log stream had no age limit; set it');
      }
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err;
    }
    const info = client.connection.info;
    const servers = 1 + (info?.connect_urls?.length ?? 0);
    const replicas = this.#o.replicas === 'auto' ? (info?.cluster && servers >= 3 ? 3 : 1) : this.#o.replicas;
    try {
      await jsm.streams.add({ ...logStreamSettings(this.#o.streamMaxAgeMs), storage: StorageType.File, num_replicas: replicas });
      this.#log.info({ stream: LOG_STREAM, replicas }, 'log stream created');
    } catch (err) {
      // Another logger or an agent created it at the same moment.
      await jsm.streams.info(LOG_STREAM).catch(() => {
        throw err;
      });
    }
  }

  /** Commits batches until none is waiting. */
  async #flushAll(): Promise<void> {
    try {
      while (this.#batch.length > 0) {
        const batch = this.#batch;
        const entries = this.#batchEntries;
        this.#batch = [];
        this.#batchEntries = [];
        await this.#commit(batch, entries);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  #decode(m: JsMsg): LogEntry[] {
    const subjectNode = m.subject.startsWith(LOG_SUBJECT_PREFIX) ? m.subject.slice(LOG_SUBJECT_PREFIX.length) : '';
    const out: LogEntry[] = [];
    const lost = (err: unknown, id: string): void => {
      this.#stats.decodeErrors++;
      if (this.#stats.decodeErrors <= 10 || this.#stats.decodeErrors % 1000 === 0) {
        this.#log.warn({ err, subject: m.subject, seq: m.seq, decodeErrors: this.#stats.decodeErrors }, 'undecodable log message recorded as a loss');
      }
      if (!isValidNodeName(subjectNode)) return;
      const timeUs = Math.floor(m.info.timestampNanos / 1000);
      out.push({ kind: 'loss', id, node: subjectNode, timeUs, count: 1, fromUs: timeUs, untilUs: timeUs, reason: 'decode-error' });
    };
    try {
      const { entries, errors } = decodeLogMessage(m.data);
      entries.forEach((e, i) => {
        if (e.node === subjectNode) out.push(e);
        else lost(new LogModelError('invalid-log-entry', `entry of node '${e.node}' published on ${m.subject}`, { field: 'node' }), `${subjectNode}:logger-decode:${m.seq}:n${i}`);
      });
      for (const { index, error } of errors) lost(error, `${subjectNode}:logger-decode:${m.seq}:${index}`);
    } catch (err) {
      lost(err, `${subjectNode}:logger-decode:${m.seq}`);
    }
    return out;
  }

  async #commit(batch: JsMsg[], entries: LogEntry[]): Promise<void> {
    try {
      const r = await this.#o.store.put(entries);
      this.#stats.stored += r.stored;
      this.#stats.duplicates += r.duplicates;
    } catch (err) {
      this.#stats.commitFailures++;
      this.#log.error({ err, messages: batch.length }, 'storing log entries failed; JetStream will deliver them again');
      for (const m of batch) m.nak(1000);
      return;
    }
    // Only now: the entries are on disk.
    for (const m of batch) m.ack();
  }

  /** Stops reading, commits and acknowledges what was read, closes the NATS connection. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    for (const w of this.#readyWaiters.splice(0)) w();
    await this.#messages?.close().catch(() => undefined);
    await this.#flushing;
    await this.#client?.close();
    await this.#loop;
  }
}
