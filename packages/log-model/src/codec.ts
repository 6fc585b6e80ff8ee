/**
 * The wire form of log entries: UTF-8 JSON, validated field by field on the way in and out, so
 * that neither side stores or publishes an entry the other cannot read. Unknown fields are
 * dropped on decode (a newer agent may add optional fields).
 */
import { isIpAddress } from './address.js';
import {
  LOG_ACTIONS,
  LOG_DIRECTIONS,
  LOG_ENTRY_MAX_BYTES,
  LOSS_REASONS,
  type LogEntry,
  type LossLogEntry,
  type PacketLogEntry,
} from './entry.js';
import { LogModelError } from './errors.js';
import { FIELD_LIMITS, MAX_ID_CHARS, MAX_IFNAME_CHARS, MAX_NAME_CHARS, common, describe, fail, has, int, isColonHex, isFlagName, oneOf, text, type Json } from './field-checks.js';
import { checkedPacketJson } from './packet-json.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const INTERFACE_FIELDS = ['iif', 'oif', 'physIn', 'physOut'] as const;
const PORT_FIELDS = ['sport', 'dport'] as const;
const ICMP_FIELDS = ['icmpType', 'icmpCode'] as const;
const ADDRESS_FIELDS = ['src', 'dst'] as const;

/** Every check of a packet entry, in field order; throws `invalid-log-entry` naming the first bad field. */
function checkPacket(o: Json): void {
  common(o);
  int(o, 'vmid', 0, FIELD_LIMITS.vmidMax);
  int(o, 'level', 0, FIELD_LIMITS.levelMax);
  text(o, 'chain', MAX_NAME_CHARS, { spaces: false });
  text(o, 'verdict', MAX_NAME_CHARS);
  oneOf(o, 'action', LOG_ACTIONS);
  if (typeof o.isPolicy !== 'boolean') fail('isPolicy', `expected a boolean, got ${describe(o.isPolicy)}`);
  oneOf(o, 'direction', LOG_DIRECTIONS);
  if (has(o, 'ruleId')) text(o, 'ruleId', MAX_ID_CHARS, { spaces: false });
  if (has(o, 'rule')) {
    const r = o.rule;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) fail('rule', `expected an object, got ${describe(r)}`);
    const rj = r as Json;
    text(rj, 'path', FIELD_LIMITS.rulePathChars);
    int(rj, 'line', 1, FIELD_LIMITS.ruleLineMax);
    text(rj, 'text', FIELD_LIMITS.ruleTextChars, { empty: true });
  }
  for (const f of INTERFACE_FIELDS) if (has(o, f)) text(o, f, MAX_IFNAME_CHARS, { spaces: false });
  if (has(o, 'mac')) {
    const mac = text(o, 'mac', FIELD_LIMITS.macChars);
    if (!isColonHex(mac)) fail('mac', `expected colon-separated hex bytes, got ${describe(mac)}`);
  }
  if (has(o, 'family') && o.family !== 4 && o.family !== 6 && o.family !== 'arp') fail('family', `expected 4, 6 or "arp", got ${describe(o.family)}`);
  if (has(o, 'proto')) text(o, 'proto', FIELD_LIMITS.protoChars, { spaces: false });
  for (const f of ADDRESS_FIELDS) {
    if (has(o, f)) {
      const a = text(o, f, FIELD_LIMITS.addressChars);
      if (!isIpAddress(a)) fail(f, `expected an IPv4 or IPv6 address, got ${describe(a)}`);
    }
  }
  for (const f of PORT_FIELDS) if (has(o, f)) int(o, f, 0, FIELD_LIMITS.portMax);
  for (const f of ICMP_FIELDS) if (has(o, f)) int(o, f, 0, FIELD_LIMITS.icmpMax);
  if (has(o, 'len')) int(o, 'len', 0, FIELD_LIMITS.lenMax);
  if (has(o, 'tcpFlags')) {
    const flags = o.tcpFlags;
    if (!Array.isArray(flags) || flags.length > 16) fail('tcpFlags', `expected an array of up to 16 flag names, got ${describe(flags)}`);
    for (const f of flags) if (!isFlagName(f)) fail('tcpFlags', `expected flag names like "SYN", got ${describe(f)}`);
  }
  if (has(o, 'mark')) int(o, 'mark', 0, FIELD_LIMITS.markMax);
  text(o, 'packet', LOG_ENTRY_MAX_BYTES, { empty: true });
}

/** A checked packet entry as a clean object holding only the known fields that are present. */
function copyPacket(o: Json): PacketLogEntry {
  const e: Record<string, unknown> = { kind: 'packet', id: o.id, node: o.node, timeUs: o.timeUs, vmid: o.vmid, level: o.level, chain: o.chain, verdict: o.verdict, action: o.action, isPolicy: o.isPolicy, direction: o.direction };
  if (has(o, 'ruleId')) e.ruleId = o.ruleId;
  if (has(o, 'rule')) {
    const r = o.rule as Json;
    e.rule = { path: r.path, line: r.line, text: r.text };
  }
  for (const f of ['iif', 'oif', 'physIn', 'physOut', 'mac', 'family', 'proto', 'src', 'dst', 'sport', 'dport', 'icmpType', 'icmpCode', 'len'] as const) if (has(o, f)) e[f] = o[f];
  if (has(o, 'tcpFlags')) e.tcpFlags = [...(o.tcpFlags as string[])];
  if (has(o, 'mark')) e.mark = o.mark;
  e.packet = o.packet;
  return e as unknown as PacketLogEntry;
}

function validatePacket(o: Json): PacketLogEntry {
  checkPacket(o);
  return copyPacket(o);
}

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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(entry)', `expected an object, got ${describe(value)}`);
  const o = value as Json;
  if (o.kind === 'packet') return validatePacket(o);
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
  return validateLogEntry(value);
}
