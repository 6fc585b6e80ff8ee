/**
 * A promise-based client of `palisade.log.v1.LogService` for the CLI and tests: bearer token,
 * optional TLS, deadlines on unary calls, `tail()` as an AsyncIterable of model entries that
 * ends when the signal aborts. Failures are `ConfigClientError`s (same status/trailer mapping).
 */
import type { ServiceError } from '@grpc/grpc-js';
import type { LogEntry } from '@palisade/log-model';
import { clientChannelArgs, createClientChannel } from './client-channel.js';
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

/**
 * Options of `createLogClient`, shaped like `ConfigClientOptions` but for palisade-logger.
 * `timeoutMs` bounds the unary calls only: `tail()` runs until its signal aborts.
 */
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

/** Creates a client; the connection is made lazily on the first call. */
export function createLogClient(opts: LogClientOptions): LogClient {
  const channel = createClientChannel({ token: opts.token, tls: opts.tls, timeoutMs: opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, toError: toConfigClientError });
  const raw = new LogServiceClient(opts.address, channel.credentials, clientChannelArgs({ maxReceiveBytes: 64 * 1024 * 1024 }));
  const { metadata } = channel;
  const unary = <R>(method: string, req: unknown, signal?: AbortSignal): Promise<R> => channel.unary<R>(raw, method, req, signal);
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
