/**
 * A promise-based client of `palisade.config.v1.DocumentService` for the CLI, agents and tests:
 * bearer token, optional TLS, deadlines, and failures as `ConfigClientError` with the decoded
 * `ErrorDetail` (closed code, diagnostics, conflict revision).
 */
import { status as GrpcStatus, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { clientChannelArgs, createClientChannel } from './client-channel.js';
import { apiErrorCodeOf, isApiErrorCode, type ApiErrorCode } from './error-codes.js';
import { ErrorCode } from './gen/palisade/common/v1/errors.js';
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

/**
 * Options of `createConfigClient`. Nothing connects until the first call, so an unreachable configd
 * shows up as an `unavailable` failure of that call, not here.
 */
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
   * Palisade's closed error code (the detail's `palisade.common.v1.ErrorCode`, or its text from
   * a server that predates the enum), or a transport-level one. A code this client does not
   * know (a newer server) reads as `internal`; `detail` keeps the original.
   */
  get code(): ApiErrorCode {
    const d = this.detail;
    if (d && d.errorCode !== ErrorCode.ERROR_CODE_UNSPECIFIED) return apiErrorCodeOf(d.errorCode) ?? 'internal';
    if (d?.code) return isApiErrorCode(d.code) ? d.code : 'internal';
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
/**
 * The unary DocumentService methods `call()` accepts, by their lower-camel name; `watch` is not one
 * of them because it streams (`ConfigClient.watch`).
 */
export type ConfigMethod = keyof Methods;
/**
 * The request message of a DocumentService method; `call()` takes it in part and leaves the missing
 * fields at their protobuf defaults.
 */
export type ConfigRequest<M extends ConfigMethod> = Methods[M][0];
/** The response message a DocumentService method resolves with. */
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
/**
 * The request message of a FirewallService method, read off the generated service definition so
 * that a new RPC needs no entry here.
 */
export type FirewallRequest<M extends FirewallMethod> = ReturnType<FwService[M]['requestDeserialize']>;
/**
 * The response message a FirewallService method resolves with (from the generated definition, like
 * `FirewallRequest`).
 */
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

/** Creates a client; the connection is made lazily on the first call. */
export function createConfigClient(opts: ConfigClientOptions): ConfigClient {
  const channel = createClientChannel({ token: opts.token, tls: opts.tls, timeoutMs: opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, toError: toConfigClientError });
  const raw = new DocumentServiceClient(opts.address, channel.credentials, clientChannelArgs({ maxReceiveBytes: 256 * 1024 * 1024, maxSendBytes: 256 * 1024 * 1024 }));
  const fwRaw = new FirewallServiceClient(opts.address, channel.credentials, { channelOverride: raw.getChannel() });
  const { unary, metadata } = channel;
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
