/**
 * The logger's Prometheus figures (`--metrics HOST:PORT`): ingest counters, stored entries and
 * bytes, retention deletions, open Tail streams.
 */
import { Counter, Gauge, type Registry } from '@palisade/service-kit';
import type { IngestStats } from './ingest/jetstream-ingest.js';
import type { StoreStats } from './store/log-store.js';

/**
 * Where the figures come from: read at each scrape, so the gauges show the current counters without
 * the ingest or the store pushing updates.
 */
export interface LoggerMetricSources {
  readonly ingest: () => IngestStats;
  readonly store: () => StoreStats;
  readonly openStreams: () => number;
}

/** Registers the figures; returns the retention callback. */
export function createLoggerMetrics(registry: Registry, s: LoggerMetricSources): { onDeleted: (byAge: number, bySize: number) => void } {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number): void =>
    void new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge('palisade_logger_received_total', 'Messages read from the log stream', () => s.ingest().received);
  gauge('palisade_logger_stored_total', 'Entries stored', () => s.ingest().stored);
  gauge('palisade_logger_duplicates_total', 'Entries dropped because their id was already stored', () => s.ingest().duplicates);
  gauge('palisade_logger_decode_errors_total', 'Messages that were not log entries (recorded as decode-error losses)', () => s.ingest().decodeErrors);
  gauge('palisade_logger_commit_failures_total', 'Batches whose LMDB commit failed (redelivered by JetStream)', () => s.ingest().commitFailures);
  gauge('palisade_logger_consuming', '1 while the durable consumer is bound', () => (s.ingest().consuming ? 1 : 0));
  gauge('palisade_logger_entries', 'Entries in the store', () => s.store().entries);
  gauge('palisade_logger_store_bytes', 'Bytes of LMDB pages the entry and index trees use', () => s.store().usedBytes);
  gauge('palisade_logger_tail_streams', 'Tail streams open now', () => s.openStreams());
  const deleted = new Counter({ name: 'palisade_logger_retention_deleted_total', help: 'Entries deleted by retention, by reason', labelNames: ['reason'] as const, registers });
  return {
    onDeleted(byAge, bySize) {
      if (byAge) deleted.inc({ reason: 'age' }, byAge);
      if (bySize) deleted.inc({ reason: 'size' }, bySize);
    },
  };
}
