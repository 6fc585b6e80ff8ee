/**
 * The wire form of log entries: UTF-8 JSON, validated field by field on the way in and out, so
 * that neither side stores or publishes an entry the other cannot read. Unknown fields are
 * dropped on decode (a newer agent may add optional fields).
 */
import { LOG_ENTRY_MAX_BYTES, LOSS_REASONS, type LogEntry, type LossLogEntry } from './entry.js';
import { LogModelError } from './errors.js';
import { common, describe, fail, int, oneOf, type Json } from './field-checks.js';
import { checkedPacketCopy, jsonTextsClean } from './packet-check.js';
import { checkedPacketJson } from './packet-json.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function validateLoss(o: Json): LossLogEntry {
  const base = common(o);
  const count = int(o, 'count', 0, Number.MAX_SAFE_INTEGER);
  const fromUs = int(o, 'fromUs', 0, Number.MAX_SAFE_INTEGER);
  const untilUs = int(o, 'untilUs', 0, Number.MAX_SAFE_INTEGER);
  if (untilUs < fromUs) fail('untilUs', `must not be before fromUs (${fromUs}), got ${untilUs}`);
  const reason = oneOf(o, 'reason', LOSS_REASONS);
  return { kind: 'loss', ...base, count, fromUs, untilUs, reason };
}

/**
 * Checks a value against the entry contract and returns a clean copy holding only the known
 * fields. Throws `invalid-log-entry` naming the first bad field.
 */
export function validateLogEntry(value: unknown): LogEntry {
  return validateParsedEntry(value, false);
}

/** {@link validateLogEntry} of a value JSON.parse made; `textsClean` as `jsonTextsClean` of its bytes says. */
export function validateParsedEntry(value: unknown, textsClean: boolean): LogEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(entry)', `expected an object, got ${describe(value)}`);
  const o = value as Json;
  if (o.kind === 'packet') return checkedPacketCopy(o, textsClean);
  if (o.kind === 'loss') return validateLoss(o);
  return fail('kind', `expected "packet" or "loss", got ${describe(o.kind)}`);
}

/** UTF-8 length of `s`, bytes (without encoding it). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4; // a surrogate pair is one 4-byte character
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The entry's JSON text, validated as {@link encodeLogEntry} validates it (what a batch message
 * is built from, see `encodeLogBatch`). Throws `invalid-log-entry` or `log-entry-too-large`.
 */
export function logEntryJson(entry: LogEntry): string {
  const o = entry as unknown as Json;
  let json: string;
  if (typeof o === 'object' && o !== null && o.kind === 'packet') {
    json = checkedPacketJson(o);
  } else json = JSON.stringify(validateLogEntry(entry));
  // Every UTF-16 unit is at most 3 UTF-8 bytes: only long texts need the exact count.
  if (json.length * 3 > LOG_ENTRY_MAX_BYTES) {
    const bytes = utf8Length(json);
    if (bytes > LOG_ENTRY_MAX_BYTES) throw new LogModelError('log-entry-too-large', `log entry ${entry.id} is ${bytes} bytes encoded, more than ${LOG_ENTRY_MAX_BYTES}`);
  }
  return json;
}

/**
 * The entry as UTF-8 JSON. Validates first, so that what is published can be decoded; throws
 * `invalid-log-entry` or `log-entry-too-large` (over {@link LOG_ENTRY_MAX_BYTES}).
 */
export function encodeLogEntry(entry: LogEntry): Uint8Array {
  return encoder.encode(logEntryJson(entry));
}

/**
 * An entry from its UTF-8 JSON. Refuses more than {@link LOG_ENTRY_MAX_BYTES} bytes
 * (`log-entry-too-large`), bad UTF-8 or JSON, and any field off the contract
 * (`invalid-log-entry`, the field in the message and in `context.field`).
 */
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  if (bytes.length > LOG_ENTRY_MAX_BYTES) {
    throw new LogModelError('log-entry-too-large', `log entry is ${bytes.length} bytes, more than ${LOG_ENTRY_MAX_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new LogModelError('invalid-log-entry', `log entry is not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`, { field: '(json)' }, { cause: err });
  }
  return validateParsedEntry(value, jsonTextsClean(bytes));
}
