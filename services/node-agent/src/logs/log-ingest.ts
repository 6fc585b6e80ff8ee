/**
 * The agent's log capture: NFLOG of the compiled log rules' group, in the agent's target
 * namespace (`openNflogListener`, a reader process there), decoded into log entries
 * (`buildPacketEntry`), losses counted exactly (kernel sequence gaps, ENOBUFS overruns, decode
 * errors, spool overflow) and published to JetStream (`LogPublisher`).
 */
import type { NatsSecurity } from '@palisade/nats-kit';
import { randomBytes } from 'node:crypto';
import { decodeNflogDatagram, openNflogListener, type NflogListener, type NflogSetupOptions } from '@palisade/nft-netlink';
import type { Clock, Logger } from '@palisade/service-kit';
import { Counter, Gauge, type Registry } from 'prom-client';
import { buildPacketEntry } from './entry-builder.js';
import { LogPublisher, type LogPublisherOptions } from './log-publisher.js';
import { RuleMap, type RulesetInForce } from './rule-map.js';
import { SequenceGaps } from './sequence-gaps.js';

/**
 * Options of `LogIngest`, from the agent's `--nats`, `--netns` and log group; `publisher` tunes
 * the spool and batching (defaults in `LOG_PUBLISHER_DEFAULTS`).
 */
export interface LogIngestOptions {
  readonly node: string;
  readonly group: number;
  readonly netns?: string;
  /** NATS servers (`--nats`). */
  readonly servers: readonly string[];
  /** NATS credentials and CA for the publisher. */
  readonly security?: NatsSecurity;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The name of an interface by index in the namespace (the agent's rtnetlink facts, kept
   * current from notifications); undefined: the entry shows the index, as pvefw-logger does
   * when its cache misses.
   */
  readonly interfaceName: (index: number) => string | undefined;
  /** Prometheus registry of the agent (`--metrics`); omitted: none. */
  readonly registry?: Registry;
  /** Receive buffer of the NFLOG socket, bytes. Default 8 MiB. */
  readonly recvBufferBytes?: number;
  /** NFLOG instance settings (copy range, queue threshold, timeout, kernel buffer). */
  readonly nflog?: NflogSetupOptions;
  readonly publisher?: Partial<Pick<LogPublisherOptions, 'spoolMaxEntries' | 'spoolMaxBytes' | 'maxInFlight' | 'maxEntriesPerMessage' | 'maxMessageBytes' | 'flushOnCloseMs'>>;
}

/** What the log pipeline did since start (entries unless said otherwise). */
export interface LogPipelineStats {
  readonly group: number;
  readonly listening: boolean;
  readonly natsConnected: boolean;
  readonly received: number;
  readonly published: number;
  /** JetStream messages the published entries travelled in (batches). */
  readonly publishedMessages: number;
  readonly spooled: number;
  readonly spoolPending: number;
  /** Lost in the kernel: sequence gaps (with or without an ENOBUFS report). */
  readonly lostKernel: number;
  /** Receive-buffer overruns (ENOBUFS) reported by the socket (events, not entries). */
  readonly enobufs: number;
  readonly lostSpool: number;
  /** Messages that could not be decoded (skipped). */
  readonly decodeErrors: number;
}

/**
 * The log capture (see the file comment): `rulesetApplied` keeps its rule names current; a
 * failing capture is bound again in the background rather than thrown at the agent.
 */
export class LogIngest {
  readonly #o: LogIngestOptions;
  readonly #log: Logger;
  readonly #rules = new RuleMap();
  readonly #gaps = new SequenceGaps();
  readonly #publisher: LogPublisher;
  readonly #bootId = randomBytes(6).toString('hex');
  #seq = 0;
  #listener: NflogListener | undefined;
  #received = 0;
  #lostKernel = 0;
  #enobufs = 0;
  #overrunSinceLastPacket = false;
  #decodeErrors = 0;
  #lastPacketUs = 0;
  #closed = false;
  #rebindTimer: NodeJS.Timeout | undefined;
  #rebindDelayMs = 1_000;
  #metrics: { received: Counter; lost: Counter<'reason'>; decodeErrors: Counter; enobufs: Counter } | undefined;

  constructor(o: LogIngestOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'log-ingest' });
    this.#publisher = new LogPublisher({ node: o.node, servers: o.servers, ...(o.security ? { security: o.security } : {}), clock: o.clock, logger: this.#log, ...o.publisher }, () => this.#nextId());
    if (o.registry) this.#registerMetrics(o.registry);
  }

  #nextId(): string {
    return `${this.#o.node}:${this.#bootId}:${this.#seq++}`;
  }

  /** A ruleset is in force: entries are named to its rules from now on (the previous map is kept for entries in flight). */
  rulesetApplied(ruleset: RulesetInForce): void {
    this.#rules.update(ruleset);
  }

  get stats(): LogPipelineStats {
    const p = this.#publisher.stats;
    return {
      group: this.#o.group,
      listening: this.#listener !== undefined,
      natsConnected: p.natsConnected,
      received: this.#received,
      published: p.published,
      publishedMessages: p.messages,
      spooled: p.spooled,
      spoolPending: p.spoolPending,
      lostKernel: this.#lostKernel,
      enobufs: this.#enobufs,
      lostSpool: p.lostSpool,
      decodeErrors: this.#decodeErrors,
    };
  }

  /**
   * Binds the group in the namespace and starts publishing. Rejects when the group cannot be
   * bound at once, and keeps trying in the background (1 s doubling to 30 s), as it does
   * whenever the reader fails later; until then `stats.listening` is false.
   */
  async start(): Promise<void> {
    this.#publisher.start();
    try {
      await this.#bind();
    } catch (err) {
      this.#rebindLater();
      throw err;
    }
  }

  async #bind(): Promise<void> {
    this.#gaps.reset(); // a new kernel instance numbers from 0
    const listener = await openNflogListener({
      group: this.#o.group,
      ...(this.#o.netns ? { netns: this.#o.netns } : {}),
      ...(this.#o.recvBufferBytes !== undefined ? { recvBufferBytes: this.#o.recvBufferBytes } : {}),
      ...this.#o.nflog,
      onDatagram: (b) => this.#datagram(b),
      onOverrun: () => {
        this.#enobufs++;
        this.#metrics?.enobufs.inc();
        this.#overrunSinceLastPacket = true;
      },
      onError: (err) => {
        if (this.#closed) return;
        this.#log.error({ err }, 'NFLOG capture stopped; binding the group again');
        this.#listener = undefined;
        this.#rebindLater();
      },
    });
    if (this.#closed) {
      await listener.close();
      return;
    }
    this.#listener = listener;
    this.#rebindDelayMs = 1_000;
    this.#log.info({ group: this.#o.group, netns: this.#o.netns ?? null }, 'capturing firewall log entries');
  }

  #rebindLater(): void {
    if (this.#closed || this.#rebindTimer) return;
    const delay = this.#rebindDelayMs;
    this.#rebindDelayMs = Math.min(30_000, delay * 2);
    this.#rebindTimer = setTimeout(() => {
      this.#rebindTimer = undefined;
      this.#bind().catch((err: unknown) => {
        this.#log.warn({ err, retryInMs: this.#rebindDelayMs }, 'cannot bind the NFLOG group; retrying');
        this.#rebindLater();
      });
    }, delay);
  }

  #datagram(bytes: Uint8Array): void {
    const nowUs = this.#o.clock.now() * 1000;
    const d = decodeNflogDatagram(bytes);
    if (d.errors.length > 0) {
      this.#decodeErrors += d.errors.length;
      this.#metrics?.decodeErrors.inc(d.errors.length);
      this.#publisher.recordLoss('decode-error', d.errors.length, nowUs, nowUs);
      if (this.#decodeErrors <= 10) this.#log.warn({ errors: d.errors.slice(0, 3) }, 'NFLOG messages skipped (cannot decode)');
    }
    for (const p of d.packets) {
      if (p.group !== this.#o.group) continue;
      const lost = this.#gaps.observe(p.seq);
      const timeUs = p.timestampUs ?? nowUs;
      if (lost > 0) {
        const reason = this.#overrunSinceLastPacket ? 'kernel-enobufs' : 'kernel-sequence-gap';
        this.#lostKernel += lost;
        this.#metrics?.lost.inc({ reason }, lost);
        this.#publisher.recordLoss(reason, lost, this.#lastPacketUs || timeUs, timeUs);
      }
      this.#overrunSinceLastPacket = false;
      this.#lastPacketUs = timeUs;
      this.#received++;
      this.#metrics?.received.inc();
      this.#publisher.enqueue(
        buildPacketEntry(p, { node: this.#o.node, id: this.#nextId(), nowUs, ifname: this.#o.interfaceName, rule: (id) => this.#rules.lookup(id) }),
      );
    }
  }

  #registerMetrics(registry: Registry): void {
    const registers = [registry];
    this.#metrics = {
      received: new Counter({ name: 'palisade_agent_log_received_total', help: 'Log entries received from the kernel (NFLOG)', registers }),
      lost: new Counter({ name: 'palisade_agent_log_lost_total', help: 'Log entries lost, by reason (kernel-sequence-gap, kernel-enobufs, spool-overflow)', labelNames: ['reason'], registers }),
      decodeErrors: new Counter({ name: 'palisade_agent_log_decode_errors_total', help: 'NFLOG messages that could not be decoded (skipped)', registers }),
      enobufs: new Counter({ name: 'palisade_agent_log_enobufs_total', help: 'NFLOG receive-buffer overruns reported by the socket (ENOBUFS events)', registers }),
    };
    const publisher = this.#publisher;
    new Gauge({ name: 'palisade_agent_log_published', help: 'Log entries stored in JetStream (counter semantics)', registers, collect() { this.set(publisher.stats.published); } });
    new Gauge({ name: 'palisade_agent_log_spooled', help: 'Log entries put into the spool (counter semantics)', registers, collect() { this.set(publisher.stats.spooled); } });
    new Gauge({ name: 'palisade_agent_log_spool_pending', help: 'Log entries waiting in the spool', registers, collect() { this.set(publisher.stats.spoolPending); } });
    new Gauge({ name: 'palisade_agent_log_lost_spool', help: 'Log entries dropped because the spool was full (counter semantics)', registers, collect() { this.set(publisher.stats.lostSpool); } });
  }

  /** Stops capturing (the kernel unbinds the group), delivers what is spooled (bounded), closes NATS. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#rebindTimer);
    const l = this.#listener;
    this.#listener = undefined;
    await l?.close();
    await this.#publisher.close();
  }
}
