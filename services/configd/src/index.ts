/**
 * @palisade/configd as a library, for tests and embedding (the demo runs it in-process).
 * The service itself starts from `main.ts` (`palisade-configd`).
 */
export { createConfigd, type Configd } from './app.js';
export { resolveConfigdOptions, CONFIGD_DEFAULTS, type ConfigdOptions, type TlsFiles } from './options.js';
export { ConfigdError, CONFIGD_ERROR_CODES, type ConfigdErrorCode, type DiagnosticInfo } from './errors.js';
export { parseTokensFile, ROLES, type Role, type TokenEntry } from './rpc/auth.js';
export { createLogger } from './logger.js';
export { NO_VALIDATION, FwLangValidator, type DocumentValidator } from './store/document-validator.js';
