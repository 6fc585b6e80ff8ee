/**
 * `@palisade/log-model`: the firewall log entry contract between the node agent and the logger —
 * stream and subject names, the validated JSON codec, pvefw-logger's line format, and binary
 * addresses for indexing. Pure: no I/O, no clock, no logging.
 */
export {
  LOG_ACTIONS,
  LOG_DIRECTIONS,
  LOG_ENTRY_MAX_BYTES,
  LOG_STREAM,
  LOG_STREAM_DEFAULT_MAX_AGE_MS,
  LOG_STREAM_DUPLICATE_WINDOW_MS,
  LOG_STREAM_SUBJECTS,
  LOG_SUBJECT_PREFIX,
  LOSS_REASONS,
  logStreamSettings,
} from './entry.js';
export type { LogAction, LogDirection, LogEntry, LogRuleOrigin, LogStreamSettings, LossLogEntry, LossReason, PacketLogEntry } from './entry.js';
export { LogModelError } from './errors.js';
export type { LogModelErrorCode, LogModelErrorContext } from './errors.js';
export { NODE_NAME_PATTERN, isValidNodeName, logSubject } from './subject.js';
export { decodeLogEntry, encodeLogEntry, logEntryJson, validateLogEntry } from './codec.js';
export { LOG_BATCH_MAX_ENTRIES, LOG_MESSAGE_MAX_BYTES, batchMessageId, decodeLogMessage, encodeLogBatch } from './message.js';
export type { DecodedLogMessage, LogMessageEntryError } from './message.js';
export { PVEFW_LINE_MAX_BYTES, formatLossLine, formatPvefwLine, formatPvefwTime } from './pvefw-line.js';
export { addressBytes, addressInRange, compareBytes, isIpAddress, parseAddressRange } from './address.js';
export type { AddressRange } from './address.js';
