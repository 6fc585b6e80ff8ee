/**
 * Proxmox VE's firewall log paging (`GET /nodes/{node}/firewall/log`, and the guest's), over the
 * store instead of `/var/log/pve-firewall.log`; see spec api-logs-ux.md §3.8. Lines are
 * numbered from 1 among the matching ones (oldest first), `start` of them are skipped, then up to
 * `limit` are returned (0 = all), and `total` counts every match. No match: the single line
 * `{n: 1, t: "no content"}` and total 1, as Proxmox answers (an ExtJS workaround).
 */
import { LogModelError, formatLossLine, formatPvefwLine, formatPvefwTime, type LogEntry } from '@palisade/log-model';
import { LoggerError } from '../errors.js';
import { forEachMatch } from './query.js';
import { parseLogFilter } from './filter.js';
import type { LogStore } from './log-store.js';

/** Proxmox' default page size. */
export const PROXMOX_DEFAULT_LIMIT = 50;

/**
 * The parameters of Proxmox's log call as ProxmoxLog passes them: `start` counts matching lines
 * to skip; `timeZone` formats the line times (default the local zone).
 */
export interface ProxmoxLogQuery {
  readonly node: string;
  /** The guest's log: only lines of this vmid. */
  readonly vmid?: number;
  readonly start?: number;
  /** Default 50; 0 = no cap. */
  readonly limit?: number;
  /** Epoch seconds, inclusive (0 / absent = unbounded). */
  readonly since?: number;
  readonly until?: number;
  readonly timeZone?: string;
}

/** One line of the answer in Proxmox's shape: `n` its number among the matches (from 1), `t` its text. */
export interface ProxmoxLogLine {
  readonly n: number;
  readonly t: string;
}

/** The line of an entry, as pvefw-logger writes it. */
export function lineOf(e: LogEntry, timeZone?: string): string {
  return e.kind === 'packet' ? formatPvefwLine(e, timeZone) : formatLossLine(e, timeZone);
}

/**
 * One page of the Proxmox log (see the file comment). Throws `invalid-argument` without a node or
 * for an unknown time zone; it visits every match to count `total`, whatever the page size.
 */
export function proxmoxLog(store: LogStore, q: ProxmoxLogQuery): { total: number; lines: ProxmoxLogLine[] } {
  if (!q.node) throw new LoggerError('invalid-argument', 'node is required', { field: 'node' });
  const start = q.start ?? 0;
  const limit = q.limit ?? PROXMOX_DEFAULT_LIMIT;
  const f = parseLogFilter({
    node: q.node,
    vmid: q.vmid,
    // Seconds resolution, both bounds inclusive: until covers its whole second.
    sinceUs: q.since ? q.since * 1e6 : 0,
    untilUs: q.until ? q.until * 1e6 + 999_999 : 0,
  });
  if (q.timeZone) {
    try {
      formatPvefwTime(0, q.timeZone);
    } catch (err) {
      if (err instanceof LogModelError) throw new LoggerError('invalid-argument', err.message, { field: 'time_zone' }, { cause: err });
      throw err;
    }
  }
  const lines: ProxmoxLogLine[] = [];
  let n = 0;
  forEachMatch(store, f, (_r, read) => {
    n++;
    if (n > start && (limit === 0 || lines.length < limit)) {
      const e = read();
      if (e) lines.push({ n, t: lineOf(e, q.timeZone) });
    }
    return true;
  });
  if (n === 0) return { total: 1, lines: [{ n: 1, t: 'no content' }] };
  return { total: n, lines };
}
