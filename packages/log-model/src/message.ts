/**
 * Messages of the log stream. A message holds one entry (a JSON object: the first wire form,
 * still read and still written by `maxEntriesPerMessage: 1`) or a batch (a JSON array of entry
 * objects in the node's order), so that a node logging tens of thousands of packets a second
 * publishes a few hundred messages instead: JetStream's cost is per message, not per byte.
 * Readers accept both. Every entry keeps its own id (the store de-duplicates by it); a batch's
 * `Nats-Msg-Id` is {@link batchMessageId}, the same for a retried publish of the same batch.
 */
import { decodeLogEntry, validateParsedEntry } from './codec.js';
import { LOG_ENTRY_MAX_BYTES, type LogEntry } from './entry.js';
import { LogModelError } from './errors.js';
import { jsonTextsClean } from './packet-check.js';

/** Largest message {@link decodeLogMessage} accepts and {@link encodeLogBatch} produces, bytes (nats-server's default `max_payload`). */
export const LOG_MESSAGE_MAX_BYTES = 1024 * 1024;
/** Most entries one batch message may hold. */
export const LOG_BATCH_MAX_ENTRIES = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const OPEN_BRACKET = 0x5b;

/** The `Nats-Msg-Id` of a batch: its first entry's id and how many entries it holds (`<id>+<n>`). */
export function batchMessageId(firstEntryId: string, count: number): string {
  return `${firstEntryId}+${count}`;
}

/**
 * A batch message from entries' JSON texts as `logEntryJson` returns them (validated), in
 * order. Throws `invalid-log-entry` for no entries or more than {@link LOG_BATCH_MAX_ENTRIES},
 * `log-entry-too-large` over {@link LOG_MESSAGE_MAX_BYTES}.
 */
export function encodeLogBatch(entryJson: readonly string[]): Uint8Array {
  if (entryJson.length === 0 || entryJson.length > LOG_BATCH_MAX_ENTRIES) {
    throw new LogModelError('invalid-log-entry', `a log batch holds 1–${LOG_BATCH_MAX_ENTRIES} entries, got ${entryJson.length}`, { field: '(batch)' });
  }
  const bytes = encoder.encode(`[${entryJson.join(',')}]`);
  if (bytes.length > LOG_MESSAGE_MAX_BYTES) {
    throw new LogModelError('log-entry-too-large', `log batch of ${entryJson.length} entries is ${bytes.length} bytes, more than ${LOG_MESSAGE_MAX_BYTES}`);
  }
  return bytes;
}

/** One entry of a batch that is off the contract (the others are kept). */
export interface LogMessageEntryError {
  /** Position in the batch, from 0. */
  readonly index: number;
  readonly error: LogModelError;
}

/** What a message of the log stream holds. */
export interface DecodedLogMessage {
  /** The valid entries, in the message's order. */
  readonly entries: LogEntry[];
  /** Entries of a batch that were refused (always empty for a single-entry message, which throws instead). */
  readonly errors: LogMessageEntryError[];
}

function isBatch(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === OPEN_BRACKET;
  }
  return false;
}

/**
 * The entries of a message: a single entry as {@link decodeLogEntry} reads it (and throws for),
 * or a batch, whose bad entries are reported one by one in `errors` while the good ones are
 * kept. Throws `log-entry-too-large` over {@link LOG_MESSAGE_MAX_BYTES} and `invalid-log-entry`
 * when the batch itself is not UTF-8 JSON or holds more than {@link LOG_BATCH_MAX_ENTRIES}.
 */
export function decodeLogMessage(bytes: Uint8Array): DecodedLogMessage {
  if (!isBatch(bytes)) return { entries: [decodeLogEntry(bytes)], errors: [] };
  if (bytes.length > LOG_MESSAGE_MAX_BYTES) {
    throw new LogModelError('log-entry-too-large', `log batch is ${bytes.length} bytes, more than ${LOG_MESSAGE_MAX_BYTES}`);
  }
  let values: unknown[];
  try {
    values = JSON.parse(decoder.decode(bytes)) as unknown[];
  } catch (err) {
    throw new LogModelError('invalid-log-entry', `log batch is not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`, { field: '(json)' }, { cause: err });
  }
  if (!Array.isArray(values) || values.length > LOG_BATCH_MAX_ENTRIES) {
    throw new LogModelError('invalid-log-entry', `a log batch holds at most ${LOG_BATCH_MAX_ENTRIES} entries`, { field: '(batch)' });
  }
  const entries: LogEntry[] = [];
  const errors: LogMessageEntryError[] = [];
  const textsClean = jsonTextsClean(bytes);
  values.forEach((v, index) => {
    try {
      const e = validateParsedEntry(v, textsClean);
      // The one-entry limit holds inside a batch too; only a large packet text can reach it.
      if (e.kind === 'packet' && e.packet.length > LOG_ENTRY_MAX_BYTES / 2 && encoder.encode(JSON.stringify(e)).length > LOG_ENTRY_MAX_BYTES) {
        throw new LogModelError('log-entry-too-large', `log entry ${e.id} is more than ${LOG_ENTRY_MAX_BYTES} bytes encoded`);
      }
      entries.push(e);
    } catch (err) {
      errors.push({ index, error: err instanceof LogModelError ? err : new LogModelError('invalid-log-entry', String(err), { field: '(entry)' }, { cause: err }) });
    }
  });
  return { entries, errors };
}
