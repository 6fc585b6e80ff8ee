export { AuthError, MIN_SECRET_LENGTH, TokenAuthenticator, parseTokensFile, type AuthErrorCode, type Principal, type RoleTable, type TokenEntry } from './tokens.js';
export { callSignal, deadlineMs, type CallLike, type CallSignal } from './call-signal.js';
export { KIT_STATUS, createStatusMapper, type KitErrorCode, type StatusMapping, type ToServiceError } from './status.js';
export { RequestError, createRpcHandlers, tolerantService, type CallContext, type RpcHandlers, type RpcHandlersOptions } from './handlers.js';
export { GRPC_SERVER_DEFAULTS, GrpcServerError, createGrpcServer, type GrpcServer, type GrpcServerOptions, type GrpcTlsFiles } from './server.js';
