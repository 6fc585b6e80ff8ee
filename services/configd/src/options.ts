/**
 * configd options: one object, exported defaults, `resolveConfigdOptions()` fills defaults and
 * rejects contradictions naming both fields.
 */
import type { NatsSecurity } from '@palisade/nats-kit';
import { AddressError, SYSTEM_CLOCK, isLoopbackHost, parseHostPort, type Clock, type Logger } from '@palisade/service-kit';
import { ConfigdError } from './errors.js';
import type { TokenEntry } from './rpc/auth.js';
import { DEFAULT_HISTORY_DEPTH, DEFAULT_MAX_LOG_REVISIONS } from './store/lmdb-mirror.js';
import { DEFAULT_MAX_DOCUMENT_BYTES } from './store/document-store.js';
import type { DocumentValidator } from './store/document-validator.js';
import { DEFAULT_BUCKET, DEFAULT_PROBE_INTERVAL_MS, DEFAULT_WRITE_DEADLINE_MS, DEFAULT_WRITE_TIMEOUT_MS } from './replication/jetstream-log.js';

/** NATS credentials and the servers' CA (nats-kit's, from the --nats-* flags). */
export type { NatsSecurity } from '@palisade/nats-kit';

/**
 * The gRPC listener's certificate chain and private key (PEM), from `--tls-cert` and `--tls-key`;
 * with `ca` (`--tls-ca`), mutual TLS.
 */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly ca?: Buffer;
}

/**
 * Everything `createConfigd` takes: the command-line flags and a few settings for tests. Fields
 * left out take `CONFIGD_DEFAULTS`; `resolveConfigdOptions` refuses bad values and contradictions.
 */
export interface ConfigdOptions {
  /** Node name (like the pmxcfs node), recorded as the writer of each revision. */
  readonly node: string;
  /** NATS URLs, local server first. */
  readonly natsServers: readonly string[];
  /** gRPC listen address `host:port` (port 0 = any free port). */
  readonly listen: string;
  /** Data directory (the LMDB mirror lives in `<dataDir>/mirror`). */
  readonly dataDir: string;
  /** Replicas of the bucket when configd creates it ('auto': 3 in a ≥ 3-server cluster, else 1). */
  readonly replicas?: number | 'auto';
  /** Tokens; undefined = open access, loopback only. */
  readonly tokens?: readonly TokenEntry[];
  readonly tls?: TlsFiles;
  /** How configd authenticates to NATS (closed servers, `deploy/nats/`); default none: an open server. */
  readonly natsSecurity?: NatsSecurity;
  /** Default 1 MiB; always capped below NATS' max_payload. */
  readonly maxDocumentBytes?: number;
  /** Revisions per document kept in the stream and for history (≤ 64). Default 64. */
  readonly historyDepth?: number;
  /** Log entries kept locally for watch resume. Default 100 000. */
  readonly maxLogRevisions?: number;
  /** Time one publish attempt waits for a JetStream ack before the write retries it. Default 1500 ms. */
  readonly writeTimeoutMs?: number;
  /**
   * Longest time a write retries through a leader change or a lost connection before it fails as
   * `not-quorate`: a cap on the gRPC call's deadline (the shorter one applies). The bucket's
   * duplicate window is raised to at least this. Default 15 000 ms.
   */
  readonly writeDeadlineMs?: number;
  /** JetStream quorum probe period; writes wait (without publishing) while the last probe failed. Default 500 ms. */
  readonly probeIntervalMs?: number;
  /** Time shutdown waits for calls to finish before forcing. Default 5000 ms. */
  readonly shutdownGraceMs?: number;
  /** KV bucket name. Default "palisade". */
  readonly bucket?: string;
  /**
   * Commit-confirmed: how long a configd that claimed an expired change's rollback may take
   * before another configd takes it over. Default 5000 ms.
   */
  readonly confirmTakeoverMs?: number;
  /**
   * How long a read waits for the local mirror to apply the writes this configd acknowledged
   * (read-your-writes) before answering anyway. Default 2000 ms.
   */
  readonly applyWaitMs?: number;
  /** How long a read with `min_revision` waits for the mirror. Default 5000 ms. */
  readonly readWaitMs?: number;
  /**
   * Largest gRPC request accepted except Import, bytes: just above one document. Default
   * maxDocumentBytes + 64 KiB. The transport refuses a larger body from its length prefix.
   */
  readonly grpcMaxReceiveBytes?: number;
  /** Largest Import request, bytes. Default the larger of 16 MiB and 16 × maxDocumentBytes. */
  readonly grpcMaxImportBytes?: number;
  /** Calls in flight on one gRPC connection; more are refused RESOURCE_EXHAUSTED. Default 100. */
  readonly grpcMaxConcurrentStreams?: number;
  /** Open watches of one token. Default 64. */
  readonly maxWatchesPerToken?: number;
  /** Open watches in all. Default 256. */
  readonly maxWatches?: number;
  /** Diffs computed at once (more are refused `resource-exhausted`). Default 4. */
  readonly maxConcurrentDiffs?: number;
  /** Most changed lines a diff shows; beyond it the answer is "too different to show". Default 20 000. */
  readonly diffMaxChangedLines?: number;
  /** Largest gRPC response sent, bytes. Default the larger of 256 MiB and 4 × maxDocumentBytes. */
  readonly grpcMaxSendBytes?: number;
  /** gRPC keepalive ping period, ms. Default 30 000. */
  readonly grpcKeepaliveTimeMs?: number;
  /** How long a gRPC keepalive ping may go unanswered before the connection is closed, ms. Default 10 000. */
  readonly grpcKeepaliveTimeoutMs?: number;
  /** Serve Prometheus metrics on `host:port` (`GET /metrics`); default none. */
  readonly metricsListen?: string;
  /**
   * Serve Proxmox's `/api2/json` firewall API over HTTPS on `host:port`; default none. Without
   * tokens only a loopback address is allowed.
   */
  readonly restListen?: string;
  /** Certificate and key of the REST listener; default a self-signed pair in `<dataDir>/rest/`. */
  readonly restTls?: { readonly cert: Buffer; readonly key: Buffer };
  /** palisade-logger (`host:port`, bearer token) that answers the REST log endpoints; default none. */
  readonly restLogger?: { readonly address: string; readonly token?: string };
  /** Validation of written documents; default: `@palisade/fw-lang`. */
  readonly validator?: DocumentValidator;
  readonly logger: Logger;
  /** Time for write deadlines and timers; default the system clock. */
  readonly clock?: Clock;
}

/**
 * `ConfigdOptions` with every default filled in (the fields that are optional by nature stay
 * optional) and the gRPC address split into `host` and `port`: what the rest of configd reads.
 */
export type ResolvedConfigdOptions = Required<Omit<ConfigdOptions, 'tokens' | 'tls' | 'validator' | 'metricsListen' | 'restListen' | 'restTls' | 'restLogger'>> &
  Pick<ConfigdOptions, 'tokens' | 'tls' | 'validator' | 'metricsListen' | 'restListen' | 'restTls' | 'restLogger'> & { readonly host: string; readonly port: number };

/** Least Import request limit (the default when 16 × maxDocumentBytes is smaller). */
export const DEFAULT_GRPC_MAX_IMPORT_BYTES = 16 * 1024 * 1024;
/** Least gRPC response limit (the default when 4 × maxDocumentBytes is smaller). */
export const DEFAULT_GRPC_MAX_SEND_BYTES = 256 * 1024 * 1024;
/** Room a request needs beside one document (path, message, expectations). */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;

/** Defaults of every optional field (the gRPC message limits also depend on maxDocumentBytes). */
export const CONFIGD_DEFAULTS = {
  replicas: 'auto',
  maxDocumentBytes: DEFAULT_MAX_DOCUMENT_BYTES,
  historyDepth: DEFAULT_HISTORY_DEPTH,
  maxLogRevisions: DEFAULT_MAX_LOG_REVISIONS,
  writeTimeoutMs: DEFAULT_WRITE_TIMEOUT_MS,
  writeDeadlineMs: DEFAULT_WRITE_DEADLINE_MS,
  probeIntervalMs: DEFAULT_PROBE_INTERVAL_MS,
  shutdownGraceMs: 5000,
  bucket: DEFAULT_BUCKET,
  confirmTakeoverMs: 5000,
  applyWaitMs: 2000,
  readWaitMs: 5000,
  grpcKeepaliveTimeMs: 30_000,
  grpcKeepaliveTimeoutMs: 10_000,
  grpcMaxConcurrentStreams: 100,
  maxWatchesPerToken: 64,
  maxWatches: 256,
  maxConcurrentDiffs: 4,
  diffMaxChangedLines: 20_000,
  clock: SYSTEM_CLOCK,
  natsSecurity: {},
} as const;

/**
 * Fills in the defaults and checks the options before anything is opened; throws `ConfigdError`
 * `invalid-argument` naming the field (both fields of a contradiction), which main.ts reports as a
 * usage error.
 */
export function resolveConfigdOptions(o: ConfigdOptions): ResolvedConfigdOptions {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(o.node)) {
    throw new ConfigdError('invalid-argument', `node: '${o.node}' is not a valid node name`);
  }
  if (o.natsServers.length === 0) throw new ConfigdError('invalid-argument', 'nats: at least one NATS URL is required');
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseHostPort(o.listen, 'listen'));
  } catch (err) {
    if (err instanceof AddressError) throw new ConfigdError('invalid-argument', err.message, {}, { cause: err });
    throw err;
  }
  if (!o.tokens && !isLoopbackHost(host)) {
    throw new ConfigdError(
      'invalid-argument',
      `listen: ${o.listen} is not a loopback address, and tokens is not set: open access is only allowed on loopback (give --tokens FILE)`,
    );
  }
  if (o.metricsListen !== undefined) {
    try {
      parseHostPort(o.metricsListen, 'metrics');
    } catch (err) {
      if (err instanceof AddressError) throw new ConfigdError('invalid-argument', err.message, {}, { cause: err });
      throw err;
    }
  }
  if (o.restListen !== undefined) {
    let restHost: string;
    try {
      ({ host: restHost } = parseHostPort(o.restListen, 'rest-listen'));
    } catch (err) {
      if (err instanceof AddressError) throw new ConfigdError('invalid-argument', err.message, {}, { cause: err });
      throw err;
    }
    if (!o.tokens && !isLoopbackHost(restHost)) {
      throw new ConfigdError('invalid-argument', `restListen: ${o.restListen} is not a loopback address, and tokens is not set: open access is only allowed on loopback (give --tokens FILE)`);
    }
  }
  const given = stripUndefined(o);
  const maxDocumentBytes = given.maxDocumentBytes ?? CONFIGD_DEFAULTS.maxDocumentBytes;
  const r = {
    ...CONFIGD_DEFAULTS,
    grpcMaxReceiveBytes: maxDocumentBytes + REQUEST_OVERHEAD_BYTES,
    grpcMaxImportBytes: Math.max(DEFAULT_GRPC_MAX_IMPORT_BYTES, maxDocumentBytes * 16),
    grpcMaxSendBytes: Math.max(DEFAULT_GRPC_MAX_SEND_BYTES, maxDocumentBytes * 4),
    ...given,
    host,
    port,
  };
  if (r.historyDepth < 1 || r.historyDepth > 64) throw new ConfigdError('invalid-argument', 'historyDepth must be within 1..64');
  if (r.replicas !== 'auto' && (r.replicas < 1 || r.replicas > 5)) throw new ConfigdError('invalid-argument', 'replicas must be within 1..5');
  if (r.maxDocumentBytes < 1024) throw new ConfigdError('invalid-argument', 'maxDocumentBytes must be at least 1024');
  if (r.writeTimeoutMs < 100) throw new ConfigdError('invalid-argument', 'writeTimeoutMs must be at least 100');
  if (r.writeDeadlineMs < r.writeTimeoutMs) {
    throw new ConfigdError('invalid-argument', `writeDeadlineMs (${r.writeDeadlineMs}) must be at least writeTimeoutMs (${r.writeTimeoutMs})`);
  }
  for (const field of ['applyWaitMs', 'readWaitMs', 'grpcKeepaliveTimeMs', 'grpcKeepaliveTimeoutMs'] as const) {
    if (!Number.isInteger(r[field]) || r[field] < 0) throw new ConfigdError('invalid-argument', `${field} must be a non-negative integer, got ${r[field]}`);
  }
  for (const field of ['grpcMaxConcurrentStreams', 'maxWatchesPerToken', 'maxWatches', 'maxConcurrentDiffs', 'diffMaxChangedLines'] as const) {
    if (!Number.isInteger(r[field]) || r[field] < 1) throw new ConfigdError('invalid-argument', `${field} must be a positive integer, got ${r[field]}`);
  }
  if (r.grpcMaxImportBytes < r.grpcMaxReceiveBytes) {
    throw new ConfigdError('invalid-argument', `grpcMaxImportBytes (${r.grpcMaxImportBytes}) must be at least grpcMaxReceiveBytes (${r.grpcMaxReceiveBytes})`);
  }
  if (r.grpcMaxReceiveBytes < r.maxDocumentBytes + REQUEST_OVERHEAD_BYTES) {
    throw new ConfigdError(
      'invalid-argument',
      `grpcMaxReceiveBytes (${r.grpcMaxReceiveBytes}) must be at least maxDocumentBytes (${r.maxDocumentBytes}) + ${REQUEST_OVERHEAD_BYTES}: a Put of the largest document would be refused by gRPC`,
    );
  }
  if (r.grpcMaxSendBytes < r.maxDocumentBytes + REQUEST_OVERHEAD_BYTES) {
    throw new ConfigdError(
      'invalid-argument',
      `grpcMaxSendBytes (${r.grpcMaxSendBytes}) must be at least maxDocumentBytes (${r.maxDocumentBytes}) + ${REQUEST_OVERHEAD_BYTES}: a Get of the largest document could not be answered`,
    );
  }
  if (r.grpcKeepaliveTimeoutMs >= r.grpcKeepaliveTimeMs) {
    throw new ConfigdError('invalid-argument', `grpcKeepaliveTimeoutMs (${r.grpcKeepaliveTimeoutMs}) must be less than grpcKeepaliveTimeMs (${r.grpcKeepaliveTimeMs})`);
  }
  if (r.maxLogRevisions < r.historyDepth) {
    throw new ConfigdError('invalid-argument', `maxLogRevisions (${r.maxLogRevisions}) must be at least historyDepth (${r.historyDepth})`);
  }
  return r;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
