/**
 * What a query asks for, checked once (`parseLogFilter`), and how it is matched: a predicate over
 * an entry and the index ranges that can answer each field.
 */
import {
  LOG_ACTIONS,
  LOG_DIRECTIONS,
  addressBytes,
  addressInRange,
  isValidNodeName,
  parseAddressRange,
  LogModelError,
  type AddressRange,
  type LogAction,
  type LogDirection,
  type LogEntry,
} from '@palisade/log-model';
import { LoggerError } from '../errors.js';
import { MAX_TIME_US, TAG, addressKeyBytes, numberValue, pastPrefix, portValue, stringValue, valuePrefix, type FieldTag } from './index-keys.js';
import type { ResidualRange } from './posting-walk.js';

/** A checked filter; absent fields do not filter. Time bounds are inclusive, µs. */
export interface LogQueryFilter {
  readonly node?: string;
  readonly vmid?: number;
  readonly chain?: string;
  readonly direction?: LogDirection;
  readonly action?: LogAction;
  readonly src?: AddressRange;
  readonly dst?: AddressRange;
  readonly sport?: number;
  readonly dport?: number;
  readonly proto?: string;
  readonly ruleId?: string;
  readonly kind?: 'packet' | 'loss';
  readonly sinceUs: number;
  readonly untilUs: number;
}

/** The filter fields as the API and the CLI give them (empty strings = unset). */
export interface LogFilterInput {
  readonly node?: string;
  readonly vmid?: number | undefined;
  readonly chain?: string;
  readonly direction?: string;
  readonly action?: string;
  readonly src?: string;
  readonly dst?: string;
  readonly sport?: number | undefined;
  readonly dport?: number | undefined;
  readonly proto?: string;
  readonly ruleId?: string;
  readonly kind?: string;
  readonly sinceUs?: number;
  readonly untilUs?: number;
}

function bad(field: string, message: string): never {
  throw new LoggerError('invalid-argument', `filter ${field}: ${message}`, { field });
}

function range(field: string, text: string): AddressRange {
  try {
    return parseAddressRange(text);
  } catch (err) {
    if (err instanceof LogModelError) bad(field, err.message);
    throw err;
  }
}

/** Checks a filter; throws `invalid-argument` naming the field. */
export function parseLogFilter(f: LogFilterInput = {}): LogQueryFilter {
  const out: { -readonly [K in keyof LogQueryFilter]: LogQueryFilter[K] } = { sinceUs: 0, untilUs: MAX_TIME_US };
  if (f.node) {
    if (!isValidNodeName(f.node)) bad('node', `'${f.node}' is not a node name`);
    out.node = f.node;
  }
  if (f.vmid !== undefined) out.vmid = f.vmid;
  if (f.chain) out.chain = f.chain;
  if (f.direction) {
    if (!(LOG_DIRECTIONS as readonly string[]).includes(f.direction)) bad('direction', `expected one of ${LOG_DIRECTIONS.join(', ')}, got '${f.direction}'`);
    out.direction = f.direction as LogDirection;
  }
  if (f.action) {
    const a = f.action.toUpperCase();
    if (!(LOG_ACTIONS as readonly string[]).includes(a)) bad('action', `expected one of ${LOG_ACTIONS.join(', ')}, got '${f.action}'`);
    out.action = a as LogAction;
  }
  if (f.src) out.src = range('src', f.src);
  if (f.dst) out.dst = range('dst', f.dst);
  for (const p of ['sport', 'dport'] as const) {
    const v = f[p];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > 65535) bad(p, `expected a port 0–65535, got ${v}`);
    out[p] = v;
  }
  if (f.proto) out.proto = f.proto.toLowerCase();
  if (f.ruleId) out.ruleId = f.ruleId;
  if (f.kind) {
    if (f.kind !== 'packet' && f.kind !== 'loss') bad('kind', `expected 'packet' or 'loss', got '${f.kind}'`);
    out.kind = f.kind;
  }
  if (f.sinceUs) out.sinceUs = f.sinceUs;
  if (f.untilUs) out.untilUs = f.untilUs;
  if (out.sinceUs < 0 || out.untilUs < 0) bad('since/until', 'times must not be negative');
  if (out.untilUs < out.sinceUs) bad('until', `until (${out.untilUs}) is before since (${out.sinceUs})`);
  return out;
}

/** Whether the filter names a field only packet entries have (loss entries then never match). */
export function packetFieldsUsed(f: LogQueryFilter): boolean {
  return (
    f.vmid !== undefined || f.chain !== undefined || f.direction !== undefined || f.action !== undefined || f.src !== undefined || f.dst !== undefined ||
    f.sport !== undefined || f.dport !== undefined || f.proto !== undefined || f.ruleId !== undefined || f.kind === 'packet'
  );
}

function inRange(addr: string | undefined, r: AddressRange | undefined): boolean {
  if (!r) return true;
  const b = addr === undefined ? undefined : addressBytes(addr);
  return b !== undefined && addressInRange(b, r);
}

/** Whether `e` matches every field but time (`withTime` adds the time bounds). */
export function matchesFilter(e: LogEntry, f: LogQueryFilter, withTime = true): boolean {
  if (withTime && (e.timeUs < f.sinceUs || e.timeUs > f.untilUs)) return false;
  if (f.node !== undefined && e.node !== f.node) return false;
  if (e.kind === 'loss') return f.kind !== 'packet' && !packetFieldsUsed(f);
  if (f.kind === 'loss') return false;
  return (
    (f.vmid === undefined || e.vmid === f.vmid) &&
    (f.chain === undefined || e.chain === f.chain) &&
    (f.direction === undefined || e.direction === f.direction) &&
    (f.action === undefined || e.action === f.action) &&
    (f.sport === undefined || e.sport === f.sport) &&
    (f.dport === undefined || e.dport === f.dport) &&
    (f.proto === undefined || e.proto === f.proto) &&
    (f.ruleId === undefined || e.ruleId === f.ruleId) &&
    inRange(e.src, f.src) &&
    inRange(e.dst, f.dst)
  );
}

/**
 * One index range that holds every entry matching one field: `exact` ranges hold one key value
 * (so they are in time order and can be bounded by time); others (a CIDR wider than the key's
 * /24 or /64) span values. `residual` narrows an exact range's items (an address within the
 * key's /24, a source port within its high byte), exactly.
 */
export interface IndexCandidate {
  readonly field: string;
  readonly tag: FieldTag;
  /** `[tag][value]` for exact ranges; the lowest value's prefix otherwise. */
  readonly prefix: Buffer;
  readonly exact: boolean;
  /** For a span: the key range `[start, end)`. */
  readonly start?: Buffer;
  readonly end?: Buffer;
  readonly residual?: ResidualRange;
}

function addressCandidate(field: string, tag: FieldTag, r: AddressRange): IndexCandidate {
  const n = addressKeyBytes(r.family);
  const firstKey = r.first.subarray(0, n);
  const lastKey = r.last.subarray(0, n);
  if (Buffer.compare(firstKey, lastKey) === 0) {
    const lo = r.first.subarray(n);
    const hi = r.last.subarray(n);
    const whole = lo.every((b) => b === 0) && hi.every((b) => b === 0xff);
    return { field, tag, prefix: valuePrefix(tag, firstKey), exact: true, ...(whole ? {} : { residual: { lo, hi } }) };
  }
  // A CIDR wider than the key's part is aligned to it: every item of the span's values matches.
  const start = valuePrefix(tag, firstKey);
  return { field, tag, prefix: start, exact: false, start, end: pastPrefix(valuePrefix(tag, lastKey)) };
}

/** The index ranges that could answer this filter, one per filtered field. */
export function indexCandidates(f: LogQueryFilter): IndexCandidate[] {
  const out: IndexCandidate[] = [];
  const eq = (field: string, tag: FieldTag, value?: Uint8Array): void => void out.push({ field, tag, prefix: valuePrefix(tag, value), exact: true });
  if (f.ruleId !== undefined) eq('ruleId', TAG.rule, stringValue(f.ruleId));
  if (f.src) out.push(addressCandidate('src', TAG.src, f.src));
  if (f.dst) out.push(addressCandidate('dst', TAG.dst, f.dst));
  if (f.vmid !== undefined) eq('vmid', TAG.vmid, numberValue(f.vmid));
  if (f.dport !== undefined) eq('dport', TAG.dport, portValue(f.dport));
  if (f.sport !== undefined) {
    const low = Uint8Array.of(f.sport & 0xff);
    out.push({ field: 'sport', tag: TAG.sport, prefix: valuePrefix(TAG.sport, Uint8Array.of(f.sport >> 8)), exact: true, residual: { lo: low, hi: low } });
  }
  if (f.chain !== undefined) eq('chain', TAG.chain, stringValue(f.chain));
  if (f.kind === 'loss') eq('kind', TAG.loss);
  if (f.node !== undefined) eq('node', TAG.node, stringValue(f.node));
  if (f.proto !== undefined) eq('proto', TAG.proto, stringValue(f.proto));
  if (f.action !== undefined) eq('action', TAG.action, stringValue(f.action));
  if (f.direction !== undefined) eq('direction', TAG.direction, stringValue(f.direction));
  return out;
}

/** Whether one exact index range answers the whole filter (no entry needs reading to match). */
export function coveredBy(f: LogQueryFilter, c: IndexCandidate): boolean {
  if (!c.exact) return false;
  const fields = indexCandidates(f);
  if (fields.length !== 1) return false;
  // A node range holds loss entries too; it covers "node" only when loss entries match as well.
  return c.field !== 'node' || f.kind === undefined;
}
