/** The process-wide pino root logger of configd (JSON to stdout, secrets redacted). */
import { pino, type Logger, type DestinationStream } from 'pino';
import { CONFIGD_VERSION } from './version.js';

export function createLogger(node: string, level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'configd', node, version: CONFIGD_VERSION },
      redact: { paths: ['authorization', '*.authorization', 'secret', '*.secret', 'tokens'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
