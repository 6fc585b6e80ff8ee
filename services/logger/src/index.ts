/**
 * @palisade/logger as a library, for tests, the benchmark and embedding. The service itself
 * starts from `main.ts` (`palisade-logger`).
 */
export { createLogService, type LogService } from './app.js';
export { LOGGER_DEFAULTS, DEFAULT_LOGGER_PORT, parseBytes, parseDuration, resolveLoggerOptions, type LoggerOptions, type TlsFiles } from './options.js';
export { LoggerError, type LoggerErrorCode } from './errors.js';
export { parseTokensFile, ROLES, type Role, type TokenEntry } from './rpc/auth.js';
export { createLogger } from './logger.js';
export { LogStore, type StoredEntry } from './store/log-store.js';
export { parseLogFilter, type LogQueryFilter, type LogFilterInput } from './store/filter.js';
export { countMatches, explainPlan, queryEntries, type QueryHit, type QueryPlan } from './store/query.js';
export { LOGGER_VERSION } from './version.js';
export { syntheticEntry, type SyntheticOptions } from './synthetic-entries.js';
