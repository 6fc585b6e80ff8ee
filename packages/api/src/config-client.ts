/**
 * A promise-based client of `palisade.config.v1.DocumentService` for the CLI, agents and tests:
 * bearer token, optional TLS, deadlines, and failures as `ConfigClientError` with the decoded
 * `ErrorDetail` (closed code, diagnostics, conflict revision).
 */
import {
  credentials as grpcCredentials,
  Metadata,
  status as GrpcStatus,
  type ChannelCredentials,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { isApiErrorCode, type ApiErrorCode } from './error-codes.js';
import { ErrorDetail } from './gen/palisade/config/v1/document.js';
import * as firewall from './gen/palisade/config/v1/firewall_service.js';
import { FirewallServiceClient, type FirewallServiceService } from './gen/palisade/config/v1/firewall_service.js';
import {
  ConfirmRequest,
  DeleteRequest,
  DiffRequest,
  DocumentServiceClient,
  ListConfirmationsRequest,
  GetRequest,
  HistoryRequest,
  ImportRequest,
  ListRequest,
  PutRequest,
  RollbackRequest,
  StatusRequest,
  WatchRequest,
  type ConfirmResponse,
  type ListConfirmationsResponse,
  type DeleteResponse,
  type DiffResponse,
  type GetResponse,
  type HistoryResponse,
  type ImportResponse,
  type ListResponse,
  type PutResponse,
  type RollbackResponse,
  type StatusResponse,
  type WatchResponse,
} from './gen/palisade/config/v1/document_service.js';

/** Binary trailer carrying an encoded `ErrorDetail` on every failed Palisade call. */
export const ERROR_DETAIL_METADATA_KEY = 'palisade-error-bin';

export interface ConfigClientOptions {
  /** `host:port` of configd. */
  readonly address: string;
  /** Bearer secret; omitted = no authorization header (open access). */
  readonly token?: string;
  /** TLS: CA to trust (PEM); with `cert`/`key` for mutual TLS. Omitted = plaintext. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** Deadline of each unary call, ms. Default 30 000. */
  readonly timeoutMs?: number;
}

/** Default unary deadline. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** A failed call: the gRPC status, message and Palisade's error detail. */
export class ConfigClientError extends Error {
  override readonly name = 'ConfigClientError';
  constructor(
    /** gRPC status code. */
    readonly grpcCode: number,
    message: string,
    /** Decoded trailer; undefined for transport errors (connection refused, deadline…). */
    readonly detail: ErrorDetail | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * Palisade's closed error code, or a transport-level one. A code this client does not know
   * (a newer server) reads as `internal`; `detail.code` keeps the original.
   */
  get code(): ApiErrorCode {
    if (this.detail?.code) return isApiErrorCode(this.detail.code) ? this.detail.code : 'internal';
    if (this.grpcCode === (GrpcStatus.UNAVAILABLE as number)) return 'unavailable';
    if (this.grpcCode === (GrpcStatus.DEADLINE_EXCEEDED as number)) return 'deadline-exceeded';
    if (this.grpcCode === (GrpcStatus.CANCELLED as number)) return 'cancelled';
    return 'internal';
  }
}

/** Converts a grpc-js error into a `ConfigClientError`. */
export function toConfigClientError(err: ServiceError): ConfigClientError {
  const raw = err.metadata?.get(ERROR_DETAIL_METADATA_KEY)[0];
  let detail: ErrorDetail | undefined;
  if (raw && typeof raw !== 'string') {
    try {
      detail = ErrorDetail.decode(raw);
    } catch {
      detail = undefined;
    }
  }
  return new ConfigClientError(err.code, err.details || err.message, detail, { cause: err });
}

interface Methods {
  get: [GetRequest, GetResponse];
  put: [PutRequest, PutResponse];
  delete: [DeleteRequest, DeleteResponse];
  list: [ListRequest, ListResponse];
  history: [HistoryRequest, HistoryResponse];
  diff: [DiffRequest, DiffResponse];
  rollback: [RollbackRequest, RollbackResponse];
  status: [StatusRequest, StatusResponse];
  import: [ImportRequest, ImportResponse];
  confirm: [ConfirmRequest, ConfirmResponse];
  listConfirmations: [ListConfirmationsRequest, ListConfirmationsResponse];
}
export type ConfigMethod = keyof Methods;
export type ConfigRequest<M extends ConfigMethod> = Methods[M][0];
export type ConfigResponse<M extends ConfigMethod> = Methods[M][1];

const REQUEST_TYPES: { [M in ConfigMethod]: { fromPartial(o: Partial<Methods[M][0]>): Methods[M][0] } } = {
  get: GetRequest,
  put: PutRequest,
  delete: DeleteRequest,
  list: ListRequest,
  history: HistoryRequest,
  diff: DiffRequest,
  rollback: RollbackRequest,
  status: StatusRequest,
  import: ImportRequest,
  confirm: ConfirmRequest,
  listConfirmations: ListConfirmationsRequest,
};

type FwService = typeof FirewallServiceService;
/** FirewallService methods, by their lower-camel name (`listRules`, `createRule`…). */
export type FirewallMethod = keyof FwService;
export type FirewallRequest<M extends FirewallMethod> = ReturnType<FwService[M]['requestDeserialize']>;
export type FirewallResponse<M extends FirewallMethod> = ReturnType<FwService[M]['responseDeserialize']>;

/** The promise-based client of DocumentService and FirewallService. */
export interface ConfigClient {
  /** Calls a FirewallService method. */
  fw<M extends FirewallMethod>(method: M, request: Partial<FirewallRequest<M>>, signal?: AbortSignal): Promise<FirewallResponse<M>>;
  /** Calls a unary method (fields left out take their protobuf defaults). */
  call<M extends ConfigMethod>(method: M, request: Partial<ConfigRequest<M>>, signal?: AbortSignal): Promise<ConfigResponse<M>>;
  /** Opens a watch stream (cancel it to stop). */
  watch(request: Partial<WatchRequest>): ClientReadableStream<WatchResponse>;
  /** The underlying generated client. */
  readonly raw: DocumentServiceClient;
  close(): void;
}

function channelCredentials(tls: ConfigClientOptions['tls']): ChannelCredentials {
  if (!tls) return grpcCredentials.createInsecure();
  return grpcCredentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/** Creates a client; the connection is made lazily on the first call. */
export function createConfigClient(opts: ConfigClientOptions): ConfigClient {
  const raw = new DocumentServiceClient(opts.address, channelCredentials(opts.tls), {
    'grpc.max_receive_message_length': 256 * 1024 * 1024,
    'grpc.max_send_message_length': 256 * 1024 * 1024,
    // After a long configd outage grpc-js would wait up to 2 min between reconnects; agents
    // must resume within seconds of configd coming back.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2000,
  });
  const fwRaw = new FirewallServiceClient(opts.address, channelCredentials(opts.tls), { channelOverride: raw.getChannel() });
  const metadata = (): Metadata => {
    const md = new Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    return md;
  };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const unary = <R>(client: object, method: string, req: unknown, signal?: AbortSignal): Promise<R> =>
    new Promise((resolve, reject) => {
      const fn = (client as Record<string, unknown>)[method] as (
        req: unknown,
        md: Metadata,
        o: { deadline: number },
        cb: (e: ServiceError | null, r: unknown) => void,
      ) => { cancel(): void };
      const call = fn.call(client, req, metadata(), { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(toConfigClientError(e)) : resolve(r as R),
      );
      if (!signal) return;
      const cancel = (): void => call.cancel();
      if (signal.aborted) cancel();
      signal.addEventListener('abort', cancel, { once: true });
      // Remove the listener once the call is over, so a long-lived signal does not collect them.
      (call as unknown as NodeJS.EventEmitter).once('status', () => signal.removeEventListener('abort', cancel));
    });
  return {
    raw,
    fw(method, request, signal) {
      // Request types follow the RPC names: listRules -> ListRulesRequest.
      const typeName = `${method.charAt(0).toUpperCase()}${method.slice(1)}Request`;
      const type = (firewall as unknown as Record<string, { fromPartial(o: object): unknown }>)[typeName]!;
      return unary(fwRaw, method, type.fromPartial(request as object), signal);
    },
    call(method, request, signal) {
      const req = (REQUEST_TYPES[method] as { fromPartial(o: object): unknown }).fromPartial(request);
      return unary(raw, method, req, signal);
    },
    watch(request) {
      return raw.watch(WatchRequest.fromPartial(request), metadata());
    },
    close() {
      fwRaw.close();
      raw.close();
    },
  };
}
