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
import { isValidNodeName } from './subject.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const MAX_ID_CHARS = 256;
const MAX_NAME_CHARS = 256;
const MAX_IFNAME_CHARS = 64;
/** `\s` of a regular expression above the C0 range (those are control characters already). */
function isUnicodeSpace(c: number): boolean {
  return c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * One pass over `s`: 1 when it holds a C0 control character or DEL (a line break would split
 * a log line), 2 when it holds white space (and no control character), else 0.
 */
function scanText(s: string): 0 | 1 | 2 {
  let space = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 1;
    if (!space && (c === 0x20 || (c >= 0xa0 && isUnicodeSpace(c)))) space = true;
  }
  return space ? 2 : 0;
}

type Json = Record<string, unknown>;

function fail(field: string, problem: string): never {
  throw new LogModelError('invalid-log-entry', `log entry field '${field}': ${problem}`, { field });
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function text(o: Json, field: string, maxChars: number, opts: { spaces?: boolean; empty?: boolean } = {}): string {
  const v = o[field];
  if (typeof v !== 'string') fail(field, `expected a string, got ${describe(v)}`);
  if (v.length === 0 && !opts.empty) fail(field, 'must not be empty');
  if (v.length > maxChars) fail(field, `longer than ${maxChars} characters`);
  const scan = scanText(v);
  if (scan === 1) fail(field, 'contains a control character');
  if (scan === 2 && opts.spaces === false) fail(field, `must not contain white space, got ${describe(v)}`);
  return v;
}

function int(o: Json, field: string, min: number, max: number): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(field, `expected an integer ${min}–${max}, got ${describe(v)}`);
  }
  return v;
}

function oneOf<T extends string>(o: Json, field: string, values: readonly T[]): T {
  const v = o[field];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(field, `expected one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
}

const has = (o: Json, field: string): boolean => o[field] !== undefined;

function common(o: Json): { id: string; node: string; timeUs: number } {
  const id = text(o, 'id', MAX_ID_CHARS, { spaces: false });
  const node = text(o, 'node', 63);
  if (!isValidNodeName(node)) fail('node', `invalid node name ${describe(node)}`);
  const timeUs = int(o, 'timeUs', 0, Number.MAX_SAFE_INTEGER);
  return { id, node, timeUs };
}

/** Whether `s` is colon-separated hex byte pairs (`aa:bb:…`), as pvefw-logger prints MAC=. */
function isColonHex(s: string): boolean {
  if (s.length % 3 !== 2) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 0x3a) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Whether `s` is a TCP flag name like `SYN` (2–4 capital letters). */
function isFlagName(s: unknown): boolean {
  if (typeof s !== 'string' || s.length < 2 || s.length > 4) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) return false;
  }
  return true;
}

const INTERFACE_FIELDS = ['iif', 'oif', 'physIn', 'physOut'] as const;
const PORT_FIELDS = ['sport', 'dport'] as const;
const ICMP_FIELDS = ['icmpType', 'icmpCode'] as const;
const ADDRESS_FIELDS = ['src', 'dst'] as const;

/** Every check of a packet entry, in field order; throws `invalid-log-entry` naming the first bad field. */
function checkPacket(o: Json): void {
  common(o);
  int(o, 'vmid', 0, 0xffffffff);
  int(o, 'level', 0, 7);
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
    text(rj, 'path', 1024);
    int(rj, 'line', 1, 0x7fffffff);
    text(rj, 'text', 4096, { empty: true });
  }
  for (const f of INTERFACE_FIELDS) if (has(o, f)) text(o, f, MAX_IFNAME_CHARS, { spaces: false });
  if (has(o, 'mac')) {
    const mac = text(o, 'mac', 3 * 256);
    if (!isColonHex(mac)) fail('mac', `expected colon-separated hex bytes, got ${describe(mac)}`);
  }
  if (has(o, 'family') && o.family !== 4 && o.family !== 6 && o.family !== 'arp') fail('family', `expected 4, 6 or "arp", got ${describe(o.family)}`);
  if (has(o, 'proto')) text(o, 'proto', 32, { spaces: false });
  for (const f of ADDRESS_FIELDS) {
    if (has(o, f)) {
      const a = text(o, f, 64);
      if (!isIpAddress(a)) fail(f, `expected an IPv4 or IPv6 address, got ${describe(a)}`);
    }
  }
  for (const f of PORT_FIELDS) if (has(o, f)) int(o, f, 0, 65535);
  for (const f of ICMP_FIELDS) if (has(o, f)) int(o, f, 0, 255);
  if (has(o, 'len')) int(o, 'len', 0, 0xffffffff);
  if (has(o, 'tcpFlags')) {
    const flags = o.tcpFlags;
    if (!Array.isArray(flags) || flags.length > 16) fail('tcpFlags', `expected an array of up to 16 flag names, got ${describe(flags)}`);
    for (const f of flags) if (!isFlagName(f)) fail('tcpFlags', `expected flag names like "SYN", got ${describe(f)}`);
  }
  if (has(o, 'mark')) int(o, 'mark', 0, 0xffffffff);
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

/** A string as JSON: quoted as is when nothing in it needs escaping (the common case), else as `JSON.stringify` writes it. */
function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** `,"name":value` for a present optional string field, '' for an absent one. */
const optString = (name: string, v: unknown): string => (v === undefined ? '' : `,"${name}":${jsonString(v as string)}`);
/** `,"name":value` for a present optional integer field (checked: its text is its JSON). */
const optInt = (name: string, v: unknown): string => (v === undefined ? '' : `,"${name}":${v as number}`);

/**
 * A checked packet entry's JSON, written directly: the fields in the order `copyPacket` gives
 * them, absent ones left out, so the text equals `JSON.stringify` of the clean copy (tested)
 * without building the copy or a second object. Checked values make this safe: integers are
 * safe integers, flag names capital letters, `family` 4, 6 or "arp".
 */
function packetJson(o: Json): string {
  const r = o.rule as Json | undefined;
  const flags = o.tcpFlags as readonly string[] | undefined;
  return (
    `{"kind":"packet","id":${jsonString(o.id as string)},"node":${jsonString(o.node as string)},"timeUs":${o.timeUs as number},"vmid":${o.vmid as number},"level":${o.level as number}` +
    `,"chain":${jsonString(o.chain as string)},"verdict":${jsonString(o.verdict as string)},"action":"${o.action as string}","isPolicy":${o.isPolicy as boolean},"direction":"${o.direction as string}"` +
    optString('ruleId', o.ruleId) +
    (r === undefined ? '' : `,"rule":{"path":${jsonString(r.path as string)},"line":${r.line as number},"text":${jsonString(r.text as string)}}`) +
    optString('iif', o.iif) + optString('oif', o.oif) + optString('physIn', o.physIn) + optString('physOut', o.physOut) + optString('mac', o.mac) +
    (o.family === undefined ? '' : o.family === 'arp' ? ',"family":"arp"' : `,"family":${o.family as number}`) +
    optString('proto', o.proto) + optString('src', o.src) + optString('dst', o.dst) +
    optInt('sport', o.sport) + optInt('dport', o.dport) + optInt('icmpType', o.icmpType) + optInt('icmpCode', o.icmpCode) + optInt('len', o.len) +
    (flags === undefined ? '' : `,"tcpFlags":[${flags.map((f) => `"${f}"`).join(',')}]`) +
    optInt('mark', o.mark) +
    `,"packet":${jsonString(o.packet as string)}}`
  );
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
    checkPacket(o);
    json = packetJson(o);
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
