/**
 * What configd's RPC services are built on: grpc-kit's handlers with configd's roles, and the
 * `Caller` of a write taken from the call (token name, signal, deadline).
 */
import type { CallContext, RpcHandlers } from '@palisade/grpc-kit';
import type { Clock } from '@palisade/service-kit';
import type { Caller } from '../store/document-store.js';
import type { Permission, Role } from './auth.js';

/** The handler factories of configd's services. */
export type ConfigdHandlers = RpcHandlers<Role, Permission>;
/** What a configd handler gets besides the request. */
export type ConfigdCallContext = CallContext<Role>;

/**
 * The caller of a write: the token's name as author, the call's signal (cancel, deadline,
 * shutdown) and its deadline in ms since the epoch of `clock` (none when the client set none).
 */
export function callerOf(ctx: ConfigdCallContext, clock: Clock): Caller {
  const remaining = ctx.remainingMs();
  return { author: ctx.principal.name, signal: ctx.signal, ...(Number.isFinite(remaining) ? { deadlineMs: clock.now() + remaining } : {}) };
}
