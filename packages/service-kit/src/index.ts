export { COMMON_ERROR_CODES, PalisadeError, abortedByDeadline, classifyForeignError, errorFrom, type CommonErrorCode } from './errors.js';
export { ManualClock, SYSTEM_CLOCK, type Clock } from './clock.js';
export { LOG_LEVELS, REDACTED_PATHS, SILENT_LOGGER, createRootLogger, type LogFn, type LogLevel, type Logger, type RootLoggerOptions } from './logger.js';
export { createCloser, exitOnStopSignals, withCloser, type Closable, type Closer, type CloserOptions, type SignalSource } from './lifecycle.js';
export { AddressError, formatHostPort, isLoopbackHost, parseHostPort } from './host-port.js';
export { BoundedQueue, OVERFLOW_POLICIES, QueueError, type BoundedQueueOptions, type OverflowPolicy, type QueueStats } from './bounded-queue.js';
export {
  Counter,
  Gauge,
  Histogram,
  MetricsServerError,
  Registry,
  createMetricsRegistry,
  startMetricsServer,
  startOptionalMetricsServer,
  type MetricsServer,
  type OptionalMetricsServerOptions,
} from './metrics-server.js';
export { isEntryPoint } from './entry-point.js';
export {
  COMMON_SERVICE_ARGS,
  SERVER_TLS_ARGS,
  parseServiceCommandLine,
  splitList,
  stringArgs,
  type ServerTlsFiles,
  type ServiceArgConfig,
  type ServiceArgValues,
  type ServiceCommandLine,
  type ServiceCommandLineSpec,
  type ServiceProcess,
  type StartServiceOptions,
} from './command-line.js';
export { sleep } from './sleep.js';
