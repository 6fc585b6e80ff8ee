/**
 * `palisade.log.v1.LogService`: thin handlers that decode the request, call the store's query
 * functions and encode entries (`@palisade/api`'s converter). All need the `read` permission.
 */
import type { RpcHandlers } from '@palisade/grpc-kit';
import { logEntryToProto, type LogFilter, type LogServiceServer } from '@palisade/api';
import { LoggerError } from '../errors.js';
import { parseLogFilter } from '../store/filter.js';
import type { LogStore } from '../store/log-store.js';
import { proxmoxLog } from '../store/proxmox-log.js';
import { queryEntries, type EntryRef } from '../store/query.js';
import { tailEntries } from '../store/tail.js';
import { parseTopField, topEntries } from '../store/top.js';
import type { Permission, Role } from './auth.js';

/** Page size of Query without a limit, and its largest. */
export const QUERY_DEFAULT_LIMIT = 100;
/** The largest Query page; a larger `limit` is refused as `invalid-argument`, not capped. */
export const QUERY_MAX_LIMIT = 10_000;
/** Groups Top returns when the request gives no limit (0). */
export const TOP_DEFAULT_LIMIT = 10;
/** The largest Top `limit`; more is refused as `invalid-argument`, not capped. */
export const TOP_MAX_LIMIT = 1000;

/** The cursor: where the page ended and in which order (base64url of `v1:order:time:seq`). */
export function encodeCursor(r: EntryRef, newestFirst: boolean): string {
  return Buffer.from(`v1:${newestFirst ? 'n' : 'o'}:${r.timeUs}:${r.seq}`).toString('base64url');
}

/**
 * Reads a cursor of `encodeCursor`. Throws `invalid-argument` (field `cursor`) for anything else,
 * and for a cursor of the other order, which would resume the query at the wrong end.
 */
export function decodeCursor(cursor: string, newestFirst: boolean): EntryRef {
  const m = /^v1:([no]):(\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new LoggerError('invalid-argument', 'cursor: not a cursor of this logger', { field: 'cursor' });
  if ((m[1] === 'n') !== newestFirst) throw new LoggerError('invalid-argument', 'cursor: it belongs to a query in the other order', { field: 'cursor' });
  return { timeUs: Number(m[2]), seq: Number(m[3]) };
}

const filterOf = (f: LogFilter | undefined) =>
  parseLogFilter(
    f
      ? {
          node: f.node,
          vmid: f.vmid,
          chain: f.chain,
          direction: f.direction,
          action: f.action,
          src: f.src,
          dst: f.dst,
          sport: f.sport,
          dport: f.dport,
          proto: f.proto,
          ruleId: f.ruleId,
          kind: f.kind,
          sinceUs: f.sinceUs,
          untilUs: f.untilUs,
        }
      : {},
  );

/**
 * The LogService handlers over `store`, registered by `app.ts`; `o.defaultTimeZone` formats
 * ProxmoxLog lines when the request names no zone (else the local zone).
 */
export function createLogService(rpc: RpcHandlers<Role, Permission>, store: LogStore, o: { readonly defaultTimeZone?: string } = {}): LogServiceServer {
  return {
    query: rpc.unary('read', (req) => {
      const filter = filterOf(req.filter);
      const limit = req.limit === 0 ? QUERY_DEFAULT_LIMIT : req.limit;
      if (limit > QUERY_MAX_LIMIT) throw new LoggerError('invalid-argument', `limit: at most ${QUERY_MAX_LIMIT}, got ${limit}`, { field: 'limit' });
      const after = req.cursor ? decodeCursor(req.cursor, req.newestFirst) : undefined;
      const r = queryEntries(store, filter, { newestFirst: req.newestFirst, limit, ...(after ? { after } : {}) });
      return {
        entries: r.hits.map((h) => logEntryToProto(h.entry)),
        nextCursor: r.resumeAfter ? encodeCursor(r.resumeAfter, req.newestFirst) : '',
      };
    }),
    tail: rpc.serverStream('read', async function* (req, ctx) {
      const filter = filterOf(req.filter);
      for await (const e of tailEntries(store, filter, { last: req.last, signal: ctx.signal })) yield { entry: logEntryToProto(e) };
    }),
    top: rpc.unary('read', (req) => {
      const filter = filterOf(req.filter);
      const limit = req.limit === 0 ? TOP_DEFAULT_LIMIT : req.limit;
      if (limit > TOP_MAX_LIMIT) throw new LoggerError('invalid-argument', `limit: at most ${TOP_MAX_LIMIT}, got ${limit}`, { field: 'limit' });
      const r = topEntries(store, filter, parseTopField(req.by), limit);
      return { groups: r.groups, total: r.total };
    }),
    proxmoxLog: rpc.unary('read', (req) => {
      const tz = req.timeZone || o.defaultTimeZone;
      return proxmoxLog(store, {
        node: req.node,
        ...(req.vmid !== undefined ? { vmid: req.vmid } : {}),
        start: req.start,
        ...(req.limit !== undefined ? { limit: req.limit } : {}),
        since: req.since,
        until: req.until,
        ...(tz ? { timeZone: tz } : {}),
      });
    }),
    getEntry: rpc.unary('read', (req) => {
      if (!req.id) throw new LoggerError('invalid-argument', 'id is required', { field: 'id' });
      const s = store.getById(req.id);
      if (!s) throw new LoggerError('not-found', `no entry with id '${req.id}'`);
      return { entry: logEntryToProto(s.entry) };
    }),
  };
}
