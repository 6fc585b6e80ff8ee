/**
 * pvefw-logger's text line (`src/pvefw-logger.c`, see spec api-logs-ux.md §3.4): what
 * `/var/log/pve-firewall.log` holds and what the Proxmox log API returns as `t`.
 */
import type { LossLogEntry, PacketLogEntry } from './entry.js';
import { LogModelError } from './errors.js';

/** pvefw-logger's `LE_MAX`-derived cut: a line holds at most this many bytes. */
export const PVEFW_LINE_MAX_BYTES = 508;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const formatters = new Map<string, Intl.DateTimeFormat>();
const encoder = new TextEncoder();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (err) {
      throw new LogModelError('invalid-time-zone', `unknown time zone ${JSON.stringify(timeZone)}`, {}, { cause: err });
    }
    formatters.set(key, f);
  }
  return f;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * `DD/Mon/YYYY:HH:MM:SS +ZZZZ` (strftime `%d/%b/%Y:%H:%M:%S %z`) for a time in µs, in the
 * IANA zone given or the process's local zone; one-second resolution (truncated, as the C
 * logger does with `time_t`). Throws `invalid-time-zone`.
 */
export function formatPvefwTime(timeUs: number, timeZone?: string): string {
  const seconds = Math.floor(timeUs / 1e6);
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(seconds * 1000))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const year = parts.year!;
  const month = parts.month!;
  const day = parts.day!;
  const hour = parts.hour!;
  const minute = parts.minute!;
  const second = parts.second!;
  const wallSeconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  const offsetMinutes = Math.round((wallSeconds - seconds) / 60);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  return `${pad(day)}/${MONTHS[month - 1]!}/${pad(year, 4)}:${pad(hour)}:${pad(minute)}:${pad(second)} ${zone}`;
}

/** `line` cut to at most {@link PVEFW_LINE_MAX_BYTES} UTF-8 bytes, never inside a character. */
function cutLine(line: string): string {
  // Fast path: ASCII lines (all of pvefw-logger's own text) need no encoding.
  if (line.length <= PVEFW_LINE_MAX_BYTES && !/[^ -~]/.test(line)) return line;
  const bytes = encoder.encode(line);
  if (bytes.length <= PVEFW_LINE_MAX_BYTES) return line;
  let end = PVEFW_LINE_MAX_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/**
 * pvefw-logger's line: `<vmid> <level> <chain> <DD/Mon/YYYY:HH:MM:SS +ZZZZ> <verdict>: <packet>`
 * (time in the given IANA zone or the local zone, one-second resolution, line cut at 508 bytes).
 */
export function formatPvefwLine(entry: PacketLogEntry, timeZone?: string): string {
  const time = formatPvefwTime(entry.timeUs, timeZone);
  return cutLine(`${entry.vmid} ${entry.level} ${entry.chain} ${time} ${entry.verdict}: ${entry.packet}`);
}

/** The status line for a loss: `0 4 - <time> lost N log entries on <node> between T1 and T2 (<reason>)`. */
export function formatLossLine(entry: LossLogEntry, timeZone?: string): string {
  const time = formatPvefwTime(entry.timeUs, timeZone);
  const from = formatPvefwTime(entry.fromUs, timeZone);
  const until = formatPvefwTime(entry.untilUs, timeZone);
  return cutLine(`0 4 - ${time} lost ${entry.count} log entries on ${entry.node} between ${from} and ${until} (${entry.reason})`);
}
