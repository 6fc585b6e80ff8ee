/**
 * Logging: one pino root logger per process (JSON lines to stdout, `service`, `node` and
 * `version` bound, secrets redacted); components receive the small `Logger` interface and
 * derive children with `{ component }`. Pure packages never log.
 */
import { pino, type DestinationStream } from 'pino';

/** A structured log method: an object of fields (errors under `err`) and a message. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** What components need of a logger (pino's `Logger` satisfies it). */
export interface Logger {
  readonly fatal: LogFn;
  readonly error: LogFn;
  readonly warn: LogFn;
  readonly info: LogFn;
  readonly debug: LogFn;
  readonly trace: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** pino's levels from most to least severe, plus `silent`; `--log-level` accepts exactly these. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A level as `createRootLogger` and `--log-level` take it. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Field paths whose values never reach the log. */
export const REDACTED_PATHS = ['authorization', '*.authorization', 'secret', '*.secret', 'token', '*.token', 'tokens'] as const;

/**
 * Options of `createRootLogger`. `service`, `node` and `version` are bound to every line, so that
 * the logs of several services and nodes can be merged and still told apart.
 */
export interface RootLoggerOptions {
  /** Service name bound to every line (`configd`, `node-agent`, `logger`). */
  readonly service: string;
  /** Node the process runs for. */
  readonly node: string;
  readonly version: string;
  /** Default `info`. */
  readonly level?: LogLevel;
  /** Default: stdout. */
  readonly destination?: DestinationStream;
}

/** Creates the process's root logger. */
export function createRootLogger(o: RootLoggerOptions): Logger & pino.Logger {
  return pino(
    {
      level: o.level ?? 'info',
      base: { service: o.service, node: o.node, version: o.version },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    o.destination,
  );
}

/** A logger that drops everything (for tests and library defaults). */
export const SILENT_LOGGER: Logger = createSilent();

function createSilent(): Logger {
  const nothing = (): void => undefined;
  const logger: Logger = { fatal: nothing, error: nothing, warn: nothing, info: nothing, debug: nothing, trace: nothing, child: () => logger };
  return logger;
}
