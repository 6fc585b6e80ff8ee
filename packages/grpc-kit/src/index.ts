export { AuthError, MIN_SECRET_LENGTH, TokenAuthenticator, parseTokensFile, tokenAdmission, type AuthErrorCode, type Principal, type RoleTable, type TokenEntry } from './tokens.js';
export { callSignal, deadlineMs, type CallLike, type CallSignal } from './call-signal.js';
export { KIT_STATUS, MAX_STATUS_MESSAGE_CHARS, createStatusMapper, truncateText, type KitErrorCode, type StatusMapping, type ToServiceError } from './status.js';
export { DEFAULT_MAX_BUFFERED_STREAM_BYTES, RequestError, createRpcHandlers, tolerantService, type RequestErrorCode, type StreamFlowOptions, type CallContext, type RpcHandlers, type RpcHandlersOptions } from './handlers.js';
export { GRPC_SERVER_DEFAULTS, GrpcServerError, createGrpcServer, type GrpcServer, type GrpcServerOptions, type GrpcTlsFiles } from './server.js';
export { admissionInterceptor, type Admit, type AdmissionOptions, type Refusal } from './admission.js';
