/** The process-wide root logger of palisade-logger: service-kit's, with `service: logger` bound. */
import { createRootLogger, type LogLevel, type Logger } from '@palisade/service-kit';
import type { DestinationStream } from 'pino';
import { LOGGER_VERSION } from './version.js';

/** The root logger (JSON lines to stdout unless `destination` is given). */
export function createLogger(name: string, level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return createRootLogger({ service: 'logger', node: name, version: LOGGER_VERSION, level, ...(destination ? { destination } : {}) });
}
