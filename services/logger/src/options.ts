/**
 * Logger options: one object, exported defaults, `resolveLoggerOptions()` fills defaults and
 * rejects contradictions naming the fields. Also the parsers of `--retention` and `--max-bytes`.
 */
import { AddressError, SYSTEM_CLOCK, isLoopbackHost, parseHostPort, type Clock, type Logger } from '@palisade/service-kit';
import { formatPvefwTime, LogModelError } from '@palisade/log-model';
import { LoggerError } from './errors.js';
import { INGEST_DEFAULTS } from './ingest/jetstream-ingest.js';
import type { NatsSecurity } from '@palisade/nats-kit';
import type { TokenEntry } from './rpc/auth.js';

/**
 * The gRPC server's TLS material: PEM contents, not paths (main.ts reads the files named by
 * `--tls-cert`, `--tls-key` and `--tls-ca`).
 */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly ca?: Buffer;
}

/**
 * Everything `createLogService` needs, built by main.ts from the command line or directly by
 * tests; optional fields default to `LOGGER_DEFAULTS`.
 */
export interface LoggerOptions {
  /** NATS URLs, local server first. */
  readonly natsServers: readonly string[];
  /** gRPC listen address `host:port` (port 0 = any free port). */
  readonly listen: string;
  /** NATS credentials and the servers' CA; default none (a server without authorization). */
  readonly nats?: NatsSecurity;
  /** Data directory (the LMDB store lives in `<dataDir>/log`). */
  readonly dataDir: string;
  /** Durable consumer name, unique per logger ([A-Za-z0-9_-]). */
  readonly consumer: string;
  /** Keep entries this long (by entry time), ms; 0 = no age limit. Default 7 days. */
  readonly retentionMs?: number;
  /** Keep the store under this many bytes (LMDB pages in use); 0 = no size limit. Default 0. */
  readonly maxBytes?: number;
  /** Period of the retention sweep, ms. Default 10 000. */
  readonly sweepIntervalMs?: number;
  /** Tokens; undefined = open access, loopback only. */
  readonly tokens?: readonly TokenEntry[];
  readonly tls?: TlsFiles;
  /** Serve Prometheus metrics on `host:port` (`GET /metrics`); default none. */
  readonly metricsListen?: string;
  /** Replicas of the log stream when the logger creates it ('auto': 3 in a ≥ 3-server cluster). */
  readonly replicas?: number | 'auto';
  /** Age limit of the log stream when the logger creates it, ms. Default 7 days. */
  readonly streamMaxAgeMs?: number;
  /** JetStream's redelivery timeout of an unacknowledged message, ms. Default 30 000. */
  readonly ackWaitMs?: number;
  /** Messages waiting for the next commit before reading pauses. Default 8192. */
  readonly maxBatch?: number;
  /** IANA zone of the Proxmox-format lines when the request names none; default the local zone. */
  readonly timeZone?: string;
  /** LMDB map size, bytes. Default 1 TiB (address space; the file grows with the data). */
  readonly mapSizeBytes?: number;
  /** Time shutdown waits for calls to finish before forcing. Default 5000 ms. */
  readonly shutdownGraceMs?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * `LoggerOptions` after `resolveLoggerOptions`: every defaulted field present and checked; tokens,
 * TLS, metrics, time zone and NATS security stay optional because their absence means something.
 */
export type ResolvedLoggerOptions = Required<Omit<LoggerOptions, 'tokens' | 'tls' | 'metricsListen' | 'timeZone' | 'nats'>> &
  Pick<LoggerOptions, 'tokens' | 'tls' | 'metricsListen' | 'timeZone' | 'nats'>;

const DAY_MS = 24 * 3600 * 1000;

/** Defaults of every optional field. */
export const LOGGER_DEFAULTS = {
  retentionMs: 7 * DAY_MS,
  maxBytes: 0,
  sweepIntervalMs: 10_000,
  replicas: INGEST_DEFAULTS.replicas,
  streamMaxAgeMs: INGEST_DEFAULTS.streamMaxAgeMs,
  ackWaitMs: INGEST_DEFAULTS.ackWaitMs,
  maxBatch: INGEST_DEFAULTS.maxBatch,
  mapSizeBytes: 2 ** 40,
  shutdownGraceMs: 5000,
  clock: SYSTEM_CLOCK,
} as const;

/** The default gRPC port of palisade-logger. */
export const DEFAULT_LOGGER_PORT = 7402;

const bad = (message: string, field?: string): never => {
  throw new LoggerError('invalid-argument', message, field ? { field } : {});
};

function checkAddress(value: string, what: string): { host: string; port: number } {
  try {
    return parseHostPort(value, what);
  } catch (err) {
    if (err instanceof AddressError) bad(err.message, what);
    throw err;
  }
}

/**
 * Fills the defaults and checks the options before anything is opened. Throws `LoggerError`
 * `invalid-argument` with `field` set for the first problem (open access off loopback included).
 */
export function resolveLoggerOptions(o: LoggerOptions): ResolvedLoggerOptions {
  if (o.natsServers.length === 0) bad('nats: at least one NATS URL is required', 'nats');
  const { host } = checkAddress(o.listen, 'listen');
  if (!o.tokens && !isLoopbackHost(host)) {
    bad(`listen: ${o.listen} is not a loopback address, and tokens is not set: open access is only allowed on loopback (give --tokens FILE)`, 'listen');
  }
  if (o.metricsListen !== undefined) checkAddress(o.metricsListen, 'metrics');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.consumer)) bad(`consumer: '${o.consumer}' is not a consumer name (1–64 of A-Z a-z 0-9 _ -)`, 'consumer');
  if (o.timeZone !== undefined) {
    try {
      formatPvefwTime(0, o.timeZone);
    } catch (err) {
      if (err instanceof LogModelError) bad(`time zone: ${err.message}`, 'timeZone');
      throw err;
    }
  }
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as LoggerOptions;
  const r = { ...LOGGER_DEFAULTS, ...given } as ResolvedLoggerOptions;
  for (const f of ['retentionMs', 'maxBytes', 'sweepIntervalMs', 'streamMaxAgeMs', 'ackWaitMs', 'maxBatch', 'mapSizeBytes', 'shutdownGraceMs'] as const) {
    if (!Number.isSafeInteger(r[f]) || r[f] < 0) bad(`${f} must be a non-negative integer, got ${r[f]}`, f);
  }
  if (r.sweepIntervalMs < 100) bad(`sweepIntervalMs must be at least 100, got ${r.sweepIntervalMs}`, 'sweepIntervalMs');
  if (r.maxBatch < 1) bad('maxBatch must be at least 1', 'maxBatch');
  if (r.ackWaitMs < 1000) bad(`ackWaitMs must be at least 1000, got ${r.ackWaitMs}`, 'ackWaitMs');
  if (r.replicas !== 'auto' && (!Number.isInteger(r.replicas) || r.replicas < 1 || r.replicas > 5)) bad('replicas must be within 1..5', 'replicas');
  if (r.maxBytes !== 0 && r.maxBytes < 1024 * 1024) bad(`maxBytes must be 0 (no limit) or at least 1 MiB, got ${r.maxBytes}`, 'maxBytes');
  if (r.maxBytes > r.mapSizeBytes) bad(`maxBytes (${r.maxBytes}) must not exceed mapSizeBytes (${r.mapSizeBytes})`, 'maxBytes');
  return r;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

/** `30d`, `12h`, `90m`, `45s`, `500ms`, `2w`, or `0` (none) → ms. Throws `invalid-argument`. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m || (m[2] === undefined && m[1] !== '0')) return bad(`${what}: expected a number with a unit (ms, s, m, h, d, w) or 0, got '${text}'`);
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!;
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `1048576`, `512M`, `20G`, `1T` (binary units, optional `B`/`iB`) → bytes. Throws `invalid-argument`. */
export function parseBytes(text: string, what = 'size'): number {
  const m = /^(\d+)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) return bad(`${what}: expected bytes with an optional K, M, G or T suffix, got '${text}'`);
  return Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!;
}
