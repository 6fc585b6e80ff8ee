/**
 * A promise-based client of `palisade.log.v1.LogService` for the CLI and tests: bearer token,
 * optional TLS, deadlines on unary calls, `tail()` as an AsyncIterable of model entries that
 * ends when the signal aborts. Failures are `ConfigClientError`s (same status/trailer mapping).
 */
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { LogEntry } from '@palisade/log-model';
import { ConfigClientError, DEFAULT_CALL_TIMEOUT_MS, toConfigClientError } from './config-client.js';
import {
  GetEntryRequest,
  LogServiceClient,
  type LogFilter,
  ProxmoxLogRequest,
  QueryRequest,
  TailRequest,
  TopRequest,
  type ProxmoxLogResponse,
  type TailResponse,
  type TopResponse,
} from './gen/palisade/log/v1/log_service.js';
import { logEntryFromProto } from './log-entry.js';

export interface LogClientOptions {
  /** `host:port` of palisade-logger. */
  readonly address: string;
  /** Bearer secret; omitted = no authorization header (open access). */
  readonly token?: string;
  /** TLS: CA to trust (PEM); with `cert`/`key` for mutual TLS. Omitted = plaintext. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** Deadline of each unary call, ms. Default 30 000. */
  readonly timeoutMs?: number;
}

/** A request with its filter given in part (unset fields do not filter). */
export type LogRequest<T> = Partial<Omit<T, 'filter'>> & { readonly filter?: Partial<LogFilter> };

/** One page of a query, as model entries. */
export interface LogPage {
  readonly entries: readonly LogEntry[];
  /** Pass back as `cursor` for the next page; undefined when there is none. */
  readonly nextCursor: string | undefined;
}

/** The promise-based client of LogService. */
export interface LogClient {
  query(request: LogRequest<QueryRequest>, signal?: AbortSignal): Promise<LogPage>;
  top(request: LogRequest<TopRequest>, signal?: AbortSignal): Promise<TopResponse>;
  proxmoxLog(request: Partial<ProxmoxLogRequest>, signal?: AbortSignal): Promise<ProxmoxLogResponse>;
  /** The entry with this id, or undefined when the logger has none. */
  getEntry(id: string, signal?: AbortSignal): Promise<LogEntry | undefined>;
  /** Follows the log until `signal` aborts (then the iteration ends without an error). */
  tail(request: LogRequest<TailRequest>, signal?: AbortSignal): AsyncIterable<LogEntry>;
  readonly raw: LogServiceClient;
  close(): void;
}

function channelCredentials(tls: LogClientOptions['tls']): ChannelCredentials {
  if (!tls) return grpcCredentials.createInsecure();
  return grpcCredentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/** Creates a client; the connection is made lazily on the first call. */
export function createLogClient(opts: LogClientOptions): LogClient {
  const raw = new LogServiceClient(opts.address, channelCredentials(opts.tls), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2000,
  });
  const metadata = (): Metadata => {
    const md = new Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    return md;
  };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const unary = <R>(method: string, req: unknown, signal?: AbortSignal): Promise<R> =>
    new Promise((resolve, reject) => {
      const fn = (raw as unknown as Record<string, unknown>)[method] as (
        req: unknown,
        md: Metadata,
        o: { deadline: number },
        cb: (e: ServiceError | null, r: unknown) => void,
      ) => { cancel(): void };
      const call = fn.call(raw, req, metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(toConfigClientError(e)) : resolve(r as R)));
      if (!signal) return;
      const cancel = (): void => call.cancel();
      if (signal.aborted) cancel();
      signal.addEventListener('abort', cancel, { once: true });
      (call as unknown as NodeJS.EventEmitter).once('status', () => signal.removeEventListener('abort', cancel));
    });
  return {
    raw,
    async query(request, signal) {
      const r = await unary<{ entries: Parameters<typeof logEntryFromProto>[0][]; nextCursor: string }>('query', QueryRequest.fromPartial(request), signal);
      return { entries: r.entries.map(logEntryFromProto), nextCursor: r.nextCursor || undefined };
    },
    top: (request, signal) => unary('top', TopRequest.fromPartial(request), signal),
    proxmoxLog: (request, signal) => unary('proxmoxLog', ProxmoxLogRequest.fromPartial(request), signal),
    async getEntry(id, signal) {
      try {
        const r = await unary<{ entry?: Parameters<typeof logEntryFromProto>[0] }>('getEntry', GetEntryRequest.fromPartial({ id }), signal);
        return r.entry ? logEntryFromProto(r.entry) : undefined;
      } catch (err) {
        if (err instanceof ConfigClientError && err.code === 'not-found') return undefined;
        throw err;
      }
    },
    tail(request, signal) {
      return {
        async *[Symbol.asyncIterator]() {
          const call = raw.tail(TailRequest.fromPartial(request), metadata());
          const cancel = (): void => call.cancel();
          if (signal?.aborted) cancel();
          signal?.addEventListener('abort', cancel, { once: true });
          try {
            for await (const msg of call as AsyncIterable<TailResponse>) {
              if (msg.entry) yield logEntryFromProto(msg.entry);
            }
          } catch (err) {
            if (signal?.aborted) return;
            throw toConfigClientError(err as ServiceError);
          } finally {
            signal?.removeEventListener('abort', cancel);
            call.cancel();
          }
        },
      };
    },
    close: () => raw.close(),
  };
}
