/**
 * configd options: one object, exported defaults, `resolveConfigdOptions()` fills defaults and
 * rejects contradictions naming both fields.
 */
import type { Logger } from 'pino';
import { ConfigdError } from './errors.js';
import type { TokenEntry } from './rpc/auth.js';
import { DEFAULT_HISTORY_DEPTH, DEFAULT_MAX_LOG_REVISIONS } from './store/lmdb-mirror.js';
import { DEFAULT_MAX_DOCUMENT_BYTES } from './store/document-store.js';
import type { DocumentValidator } from './store/document-validator.js';
import { DEFAULT_BUCKET, DEFAULT_PROBE_INTERVAL_MS, DEFAULT_WRITE_DEADLINE_MS, DEFAULT_WRITE_TIMEOUT_MS } from './replication/jetstream-log.js';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly ca?: Buffer;
}

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
  /** Validation of written documents; default: `@palisade/fw-lang`. */
  readonly validator?: DocumentValidator;
  readonly logger: Logger;
}

export type ResolvedConfigdOptions = Required<Omit<ConfigdOptions, 'tokens' | 'tls' | 'validator'>> &
  Pick<ConfigdOptions, 'tokens' | 'tls' | 'validator'> & { readonly host: string; readonly port: number };

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
} as const;

/** Splits `host:port` / `[v6]:port`. */
export function parseHostPort(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new ConfigdError('invalid-argument', `listen: expected HOST:PORT, got '${listen}'`);
  return { host: m[1] ?? m[2] ?? '', port };
}

/** Whether a host name or address only reaches this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function resolveConfigdOptions(o: ConfigdOptions): ResolvedConfigdOptions {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(o.node)) {
    throw new ConfigdError('invalid-argument', `node: '${o.node}' is not a valid node name`);
  }
  if (o.natsServers.length === 0) throw new ConfigdError('invalid-argument', 'nats: at least one NATS URL is required');
  const { host, port } = parseHostPort(o.listen);
  if (!o.tokens && !isLoopbackHost(host)) {
    throw new ConfigdError(
      'invalid-argument',
      `listen: ${o.listen} is not a loopback address, and tokens is not set: open access is only allowed on loopback (give --tokens FILE)`,
    );
  }
  const r = { ...CONFIGD_DEFAULTS, ...stripUndefined(o), host, port };
  if (r.historyDepth < 1 || r.historyDepth > 64) throw new ConfigdError('invalid-argument', 'historyDepth must be within 1..64');
  if (r.replicas !== 'auto' && (r.replicas < 1 || r.replicas > 5)) throw new ConfigdError('invalid-argument', 'replicas must be within 1..5');
  if (r.maxDocumentBytes < 1024) throw new ConfigdError('invalid-argument', 'maxDocumentBytes must be at least 1024');
  if (r.writeTimeoutMs < 100) throw new ConfigdError('invalid-argument', 'writeTimeoutMs must be at least 100');
  if (r.writeDeadlineMs < r.writeTimeoutMs) {
    throw new ConfigdError('invalid-argument', `writeDeadlineMs (${r.writeDeadlineMs}) must be at least writeTimeoutMs (${r.writeTimeoutMs})`);
  }
  if (r.maxLogRevisions < r.historyDepth) {
    throw new ConfigdError('invalid-argument', `maxLogRevisions (${r.maxLogRevisions}) must be at least historyDepth (${r.historyDepth})`);
  }
  return r;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
