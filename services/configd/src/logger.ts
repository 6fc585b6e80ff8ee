/** The process-wide root logger of configd: service-kit's, with `service: configd` bound. */
import { createRootLogger, type LogLevel, type Logger } from '@palisade/service-kit';
import type { DestinationStream } from 'pino';
import { CONFIGD_VERSION } from './version.js';

/** configd's root logger for `node` (JSON lines to stdout unless `destination` is given). */
export function createLogger(node: string, level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return createRootLogger({ service: 'configd', node, version: CONFIGD_VERSION, level, ...(destination ? { destination } : {}) });
}
