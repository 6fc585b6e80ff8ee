/**
 * Publishes log entries to JetStream (`palisade.log.<node>`, header `Nats-Msg-Id` = entry id,
 * so a retried publish is stored once) through a bounded spool: while NATS is away entries
 * wait in order, and when the spool is full new entries are dropped (policy `drop-newest`,
 * so what is spooled stays a gap-free prefix) and counted; every loss, whatever its reason,
 * travels as a `loss` entry of its own once there is room again.
 *
 * Entries travel in batch messages (`encodeLogBatch`: up to `maxEntriesPerMessage` entries or
 * `maxMessageBytes`, header `Nats-Msg-Id` = `<first entry id>+<n>`), because JetStream's cost
 * is per message: one message per entry capped a node at a few thousand entries a second.
 * `maxEntriesPerMessage: 1` publishes the first wire form (one entry per message, its id as
 * the message id) for loggers that predate batches. Up to `maxInFlight` messages are
 * outstanding at once (a window refilled as acks come); failed messages are retried (after a
 * backoff) before anything newer is sent, so after an outage entries arrive in order, except
 * that a retried message can land after a later one of the same window that had succeeded.
 * Entries are encoded (`logEntryJson`, which validates) when they are published, not when they
 * are captured, so that a burst costs the capture path only the decode and the entry; the pump
 * yields to the event loop after every message so that the capture is not starved. The
 * JetStream client itself runs on a worker thread (`publish-channel.ts`); this class keeps every
 * decision.
 */
import { retryBackoffMs, type NatsSecurity } from '@palisade/nats-kit';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  LOG_BATCH_MAX_ENTRIES,
  LOG_MESSAGE_MAX_BYTES,
  batchMessageId,
  encodeLogBatch,
  logEntryJson,
  logSubject,
  type LogEntry,
  type LossReason,
} from '@palisade/log-model';
import { BoundedQueue, sleep, type Clock, type Logger } from '@palisade/service-kit';
import { AgentError } from '../errors.js';
import { PublishChannel, type PublishOutcome } from './publish-channel.js';

/**
 * Defaults of `LogPublisherOptions`: the spool bounds (what an outage of NATS may cost in
 * memory) and the batching that keeps JetStream's per-message cost low.
 */
export const LOG_PUBLISHER_DEFAULTS = {
  /** Entries the spool holds while NATS is away. */
  spoolMaxEntries: 200_000,
  /** Bytes the spool holds (estimated encoded size). */
  spoolMaxBytes: 128 << 20,
  /** Messages outstanding at once (the pump's window). */
  maxInFlight: 16,
  /** Entries one message holds at most (1: one entry per message, the first wire form). */
  maxEntriesPerMessage: 256,
  /** Bytes one batch message holds at most (its entries' JSON; a single larger entry still goes alone). */
  maxMessageBytes: 256 * 1024,
  /** Time given to a graceful close to deliver what is spooled, ms. */
  flushOnCloseMs: 2_000,
} as const;

/**
 * Options of `LogPublisher`; the optional bounds default to `LOG_PUBLISHER_DEFAULTS` and are
 * checked by `resolveLogPublisherOptions`.
 */
export interface LogPublisherOptions {
  readonly node: string;
  /** NATS servers (`--nats`). */
  readonly servers: readonly string[];
  /** Credentials and the servers' CA (`--nats-user`…, `--nats-ca`); omitted: none. */
  readonly security?: NatsSecurity;
  readonly spoolMaxEntries?: number;
  readonly spoolMaxBytes?: number;
  readonly maxInFlight?: number;
  readonly maxEntriesPerMessage?: number;
  readonly maxMessageBytes?: number;
  readonly flushOnCloseMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** {@link LogPublisherOptions} with every default filled in. */
export type ResolvedLogPublisherOptions = Required<Omit<LogPublisherOptions, 'security'>> & Pick<LogPublisherOptions, 'security'>;

/** Counters of the publisher (entries unless said otherwise). */
export interface LogPublisherStats {
  published: number;
  spooled: number;
  /** Entries dropped because the spool was full. */
  lostSpool: number;
  /** Entries the server refused for good (too large, permissions). */
  refused: number;
  /** Messages stored (a message holds up to `maxEntriesPerMessage` entries). */
  messages: number;
  natsConnected: boolean;
}

/** A spooled entry; encoded (and validated) only when it is published, off the capture path. */
interface Spooled {
  readonly entry: LogEntry;
  /** Estimated encoded size, bytes (for the spool's byte bound). */
  readonly size: number;
}

/** One message: how many entries it holds, its message id and body. */
interface OutgoingMessage {
  readonly entries: number;
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** A published message waiting for the server's ack. */
interface InFlightMessage {
  readonly message: OutgoingMessage;
  readonly done: Promise<PublishOutcome>;
}

/** Size estimate of an entry's JSON: its packet text plus the fixed fields. */
const estimatedSize = (e: LogEntry): number => (e.kind === 'packet' ? 420 + e.packet.length + (e.rule?.text.length ?? 0) : 200);

interface PendingLoss {
  count: number;
  fromUs: number;
  untilUs: number;
}

/**
 * The publisher (see the file comment), owned by `LogIngest`. The constructor throws on a bad
 * bound; publishing never throws at the capture path, losses are counted and sent as entries.
 */
export class LogPublisher {
  readonly #o: ResolvedLogPublisherOptions;
  readonly #subject: string;
  readonly #spool: BoundedQueue<Spooled>;
  readonly #losses = new Map<LossReason, PendingLoss>();
  readonly #stop = new AbortController();
  readonly #stats: LogPublisherStats = { published: 0, spooled: 0, lostSpool: 0, refused: 0, messages: 0, natsConnected: false };
  readonly #nextId: (() => string);
  readonly #channel: PublishChannel;
  #pump: Promise<void> | undefined;
  #closing = false;
  /** Entries taken from the spool and not stored yet (a batch being published or retried). */
  #inFlight = 0;

  constructor(o: LogPublisherOptions, nextId: () => string) {
    this.#o = resolveLogPublisherOptions(o);
    this.#subject = logSubject(o.node);
    this.#nextId = nextId;
    this.#spool = new BoundedQueue<Spooled>({ maxItems: this.#o.spoolMaxEntries, maxBytes: this.#o.spoolMaxBytes, sizeOf: (s) => s.size, overflow: 'drop-newest' });
    this.#channel = new PublishChannel({ servers: o.servers, ...(o.security ? { security: o.security } : {}), name: `palisade-agent-logs-${o.node}` }, o.logger);
  }

  /** Counters; `spoolPending` counts the entries not stored yet (spooled or being published). */
  get stats(): Readonly<LogPublisherStats> & { readonly spoolPending: number } {
    return { ...this.#stats, natsConnected: this.#channel.connected, spoolPending: this.#spool.size + this.#inFlight };
  }

  /** Connects in the background (retrying) and starts delivering. */
  start(): void {
    this.#pump ??= this.#run();
  }

  /** Spools an entry for publishing; a full spool drops it and records the loss. */
  enqueue(entry: LogEntry): void {
    if (this.#closing) return;
    this.#flushLosses();
    if (this.#spool.push({ entry, size: estimatedSize(entry) })) this.#stats.spooled++;
    else {
      this.#stats.lostSpool++;
      this.recordLoss('spool-overflow', 1, entry.timeUs, entry.timeUs);
    }
  }

  /** Records `count` lost entries between two times (µs); sent as one `loss` entry per reason when there is room. */
  recordLoss(reason: LossReason, count: number, fromUs: number, untilUs: number): void {
    if (count <= 0) return;
    const p = this.#losses.get(reason);
    if (p) {
      p.count += count;
      p.fromUs = Math.min(p.fromUs, fromUs);
      p.untilUs = Math.max(p.untilUs, untilUs);
    } else this.#losses.set(reason, { count, fromUs, untilUs });
    if (reason !== 'spool-overflow') this.#flushLosses();
  }

  /** Loss entries go into the spool as soon as it has room for them. */
  #flushLosses(): void {
    for (const [reason, p] of this.#losses) {
      const entry: LogEntry = { kind: 'loss', id: this.#nextId(), node: this.#o.node, timeUs: this.#o.clock.now() * 1000, count: p.count, fromUs: p.fromUs, untilUs: p.untilUs, reason };
      if (!this.#spool.push({ entry, size: estimatedSize(entry) })) return;
      this.#stats.spooled++;
      this.#losses.delete(reason);
    }
  }

  /**
   * The pump: a window of up to `maxInFlight` messages outstanding, refilled as soon as the
   * oldest is stored, so that encoding the next messages overlaps the server's acks. A failed
   * message stops the refill: the window settles, its failed messages are retried in order
   * until stored (or refused), then the pump goes on, so an outage reorders at most a window.
   */
  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    this.#channel.start();
    // Entries wait in the spool (bounded) until the worker's connection is first up.
    if (!(await this.#channel.whenConnected(signal).then(() => true, () => false))) return;
    const window: InFlightMessage[] = [];
    let spooled: Promise<'spooled'> | undefined;
    while (!signal.aborted) {
      while (window.length < this.#o.maxInFlight && this.#spool.size > 0) {
        const entries = this.#spool.drain(this.#o.maxEntriesPerMessage);
        this.#inFlight += entries.length;
        for (const m of this.#encode(entries)) window.push(this.#send(m));
        this.#flushLosses();
        await yieldToEventLoop(); // let the capture run between messages
      }
      const oldest = window[0];
      if (window.length < this.#o.maxInFlight && !this.#spool.closed) {
        // Room in the window and nothing spooled: wake for a new entry or the oldest's ack.
        spooled ??= this.#spool.ready(signal).then(
          () => 'spooled' as const,
          () => 'spooled' as const,
        );
        const woke = oldest ? await Promise.race([oldest.done, spooled]) : await spooled;
        if (woke === 'spooled') {
          spooled = undefined;
          continue;
        }
      } else if (!oldest) break; // closed and delivered
      window.shift();
      if ((await oldest!.done) === 'retry') await this.#retry([oldest!.message, ...(await this.#settleAll(window.splice(0)))], signal);
    }
  }

  /** Waits for every message of the window; returns the ones to retry, in order. */
  async #settleAll(window: InFlightMessage[]): Promise<OutgoingMessage[]> {
    const again: OutgoingMessage[] = [];
    for (const m of window) if ((await m.done) === 'retry') again.push(m.message);
    return again;
  }

  /** Encodes entries into messages (more than one when they exceed `maxMessageBytes`); an entry off the contract is dropped and counted. */
  #encode(entries: Spooled[]): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    const single = this.#o.maxEntriesPerMessage === 1;
    let parts: string[] = [];
    let firstId = '';
    let bytes = 0;
    const close = (): void => {
      if (parts.length === 0) return;
      out.push(single ? { entries: 1, id: firstId, bytes: encoder.encode(parts[0]) } : { entries: parts.length, id: batchMessageId(firstId, parts.length), bytes: encodeLogBatch(parts) });
      parts = [];
      bytes = 0;
    };
    for (const s of entries) {
      let json: string;
      try {
        json = logEntryJson(s.entry);
      } catch (err) {
        // Not the contract (a field off its bounds): never publishable; counted as a loss.
        this.#inFlight--;
        this.#o.logger.warn({ err, id: s.entry.id }, 'log entry cannot be encoded; dropped');
        this.recordLoss('decode-error', 1, s.entry.timeUs, s.entry.timeUs);
        continue;
      }
      if (parts.length > 0 && bytes + json.length + 1 > this.#o.maxMessageBytes) close();
      if (parts.length === 0) firstId = s.entry.id;
      parts.push(json);
      bytes += json.length + 1;
    }
    close();
    return out;
  }

  /** Publishes one message; `done` settles with what became of it (never rejects). */
  #send(message: OutgoingMessage): InFlightMessage {
    return { message, done: this.#channel.publish(this.#subject, message.id, message.bytes).then((o) => this.#outcome(message, o)) };
  }

  /** Counts a message's result: stored, refused for good (dropped; the channel logs why), or to be retried. */
  #outcome(m: OutgoingMessage, outcome: PublishOutcome): PublishOutcome {
    if (outcome === 'stored') {
      this.#stats.published += m.entries;
      this.#stats.messages++;
    } else if (outcome === 'refused') this.#stats.refused += m.entries;
    if (outcome !== 'retry') this.#inFlight -= m.entries;
    return outcome;
  }

  /** Publishes failed messages again, after a backoff, until they are stored, refused or the publisher stops. */
  async #retry(todo: OutgoingMessage[], signal: AbortSignal): Promise<void> {
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (attempt === 1 || attempt % 50 === 0) this.#o.logger.warn({ failed: todo.length, attempt }, 'log messages not stored yet; retrying');
      await this.#channel.whenConnected(signal).catch(() => undefined);
      await sleep(retryBackoffMs(attempt), signal);
      if (signal.aborted) return;
      const results = await Promise.all(todo.map((m) => this.#send(m).done));
      todo = todo.filter((_, i) => results[i] === 'retry');
    }
  }

  /** Delivers what is spooled (bounded by `flushOnCloseMs`), then closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing) return this.#pump?.catch(() => undefined);
    this.#closing = true;
    const deadline = this.#o.clock.now() + this.#o.flushOnCloseMs;
    while (this.#channel.connected && this.#spool.size + this.#inFlight > 0 && this.#o.clock.now() < deadline) await sleep(20);
    this.#stop.abort();
    this.#spool.close();
    await this.#pump?.catch(() => undefined);
    await this.#channel.close();
  }
}

const encoder = new TextEncoder();

/**
 * The publisher's options with the defaults filled in; refuses a non-positive or fractional
 * bound and a batch larger than the log model allows, naming the option.
 */
export function resolveLogPublisherOptions(o: LogPublisherOptions): ResolvedLogPublisherOptions {
  const r = { ...LOG_PUBLISHER_DEFAULTS, ...o };
  const bounds = [
    ['spoolMaxEntries', r.spoolMaxEntries, Number.MAX_SAFE_INTEGER],
    ['spoolMaxBytes', r.spoolMaxBytes, Number.MAX_SAFE_INTEGER],
    ['maxInFlight', r.maxInFlight, 65_536],
    ['maxEntriesPerMessage', r.maxEntriesPerMessage, LOG_BATCH_MAX_ENTRIES],
    ['maxMessageBytes', r.maxMessageBytes, LOG_MESSAGE_MAX_BYTES - 2],
  ] as const;
  for (const [name, value, max] of bounds) {
    if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new AgentError('invalid-argument', `log publisher option ${name} must be an integer 1–${max}, got ${value}`, { field: name });
  }
  return r;
}
