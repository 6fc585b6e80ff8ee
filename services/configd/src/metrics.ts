/**
 * configd's Prometheus figures (`--metrics HOST:PORT`), on a registry of its own per process:
 * writes by result and code, refused calls by code, write latency, the mirror's revision and
 * lag behind the stream, open watch streams, and the follower → mirror queues.
 */
import { Counter, Gauge, Histogram, PalisadeError, classifyForeignError, type Clock, type Registry } from '@palisade/service-kit';
import type { ToServiceError } from '@palisade/grpc-kit';
import type { ConfigdHandlers } from './rpc/handler.js';
import { CONFIGD_STATUS } from './rpc/status.js';

/** What the gauges read when scraped. */
export interface ConfigdMetricSources {
  readonly mirrorRevision: () => number;
  /** Last stream revision seen by the quorum probe (0 until known). */
  readonly streamRevision: () => number;
  readonly openWatchStreams: () => number;
  readonly followerQueue: () => { readonly pending: number; readonly dropped: number };
  readonly mirrorQueue: () => { readonly pending: number };
  /** Followed records the mirror skipped (not written by configd), by reason. */
  readonly mirrorSkipped?: () => ReadonlyMap<string, number>;
}

/** Latency buckets of a write, seconds: a quorum round trip (ms) up to a leader change (15 s). */
export const WRITE_LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15] as const;

/** The counters the RPC layer feeds. */
export interface ConfigdMetrics {
  /** A write call ended: `code` is '' on success. */
  observeWrite(code: string, seconds: number): void;
  /** A call of any kind was refused with `code`. */
  observeRefusal(code: string): void;
}

/** Registers configd's figures on `registry`. */
export function createConfigdMetrics(registry: Registry, sources: ConfigdMetricSources): ConfigdMetrics {
  const registers = [registry];
  const writes = new Counter({ name: 'palisade_configd_writes_total', help: 'Write calls by result (ok, refused) and error code', labelNames: ['result', 'code'] as const, registers });
  const refusals = new Counter({ name: 'palisade_configd_refusals_total', help: 'Calls (reads, writes, watches) refused, by error code', labelNames: ['code'] as const, registers });
  const latency = new Histogram({
    name: 'palisade_configd_write_duration_seconds',
    help: 'Time from a write call to its answer, seconds',
    buckets: [...WRITE_LATENCY_BUCKETS_S],
    registers,
  });
  new Gauge({ name: 'palisade_configd_mirror_revision', help: 'Revision the local LMDB mirror has applied', registers, collect() { this.set(sources.mirrorRevision()); } });
  new Gauge({
    name: 'palisade_configd_mirror_lag_revisions',
    help: 'Revisions the stream is ahead of the local mirror (as last seen by the quorum probe)',
    registers,
    collect() {
      this.set(Math.max(0, sources.streamRevision() - sources.mirrorRevision()));
    },
  });
  new Gauge({ name: 'palisade_configd_watch_streams', help: 'Watch streams open now', registers, collect() { this.set(sources.openWatchStreams()); } });
  new Gauge({ name: 'palisade_configd_follower_queue_pending', help: 'Followed records waiting for the mirror', registers, collect() { this.set(sources.followerQueue().pending); } });
  new Gauge({ name: 'palisade_configd_follower_queue_dropped', help: 'Followed records dropped by the follower queue (its policy waits: always 0)', registers, collect() { this.set(sources.followerQueue().dropped); } });
  new Counter({
    name: 'palisade_configd_mirror_skipped_records_total',
    help: 'Replicated records the mirror skipped: a key that is no document path, binary content, a digest that does not match (written to NATS without configd)',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      // The mirror owns the counts: set them (a counter has no set; reset, then add).
      this.reset();
      for (const [reason, n] of sources.mirrorSkipped?.() ?? []) this.inc({ reason }, n);
    },
  });
  new Gauge({ name: 'palisade_configd_mirror_queue_pending', help: 'Records waiting for the next LMDB commit', registers, collect() { this.set(sources.mirrorQueue().pending); } });
  return {
    observeWrite(code, seconds) {
      writes.inc({ result: code === '' ? 'ok' : 'refused', code });
      latency.observe(seconds);
    },
    observeRefusal(code) {
      refusals.inc({ code });
    },
  };
}

/** The error code a call is refused with, as the status mapper reads it. */
function codeOf(err: unknown): string {
  const code = err instanceof PalisadeError ? (err as PalisadeError<string, object>).code : undefined;
  return code !== undefined && Object.hasOwn(CONFIGD_STATUS, code) ? code : classifyForeignError(err);
}

/** The status mapper, counting every refused call (authentication included) by its code. */
export function countingRefusals(toServiceError: ToServiceError, metrics: ConfigdMetrics): ToServiceError {
  return (err, logger) => {
    metrics.observeRefusal(codeOf(err));
    return toServiceError(err, logger);
  };
}

/** Handlers that record every write's result (by code) and latency. */
export function withWriteMetrics(rpc: ConfigdHandlers, metrics: ConfigdMetrics, clock: Clock): ConfigdHandlers {
  return {
    unary: (permission, fn) =>
      permission !== 'write'
        ? rpc.unary(permission, fn)
        : rpc.unary(permission, async (req, ctx) => {
            const started = clock.now();
            try {
              const res = await fn(req, ctx);
              metrics.observeWrite('', (clock.now() - started) / 1000);
              return res;
            } catch (err) {
              metrics.observeWrite(codeOf(err), (clock.now() - started) / 1000);
              throw err;
            }
          }),
    serverStream: rpc.serverStream,
    get openStreams() {
      return rpc.openStreams;
    },
  };
}
