/**
 * Thin handler plumbing: authorize, reject a malformed request, run the domain function with the
 * call's signal, map errors. Server streams are AsyncIterables written with back-pressure.
 */
import type { handleServerStreamingCall, handleUnaryCall, Metadata, ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';
import { PalisadeError, SYSTEM_CLOCK, type Clock, type Logger } from '@palisade/service-kit';
import { callSignal } from './call-signal.js';
import type { ToServiceError } from './status.js';
import type { Principal, TokenAuthenticator } from './tokens.js';

/** A request message that could not be decoded. */
export class RequestError extends PalisadeError<'invalid-argument'> {}

/** What a handler gets besides the request. */
export interface CallContext<Role extends string> {
  readonly principal: Principal<Role>;
  /** Aborted on client cancel, deadline, or server shutdown (see `RpcHandlersOptions`). */
  readonly signal: AbortSignal;
  /** Milliseconds left until the client's deadline (Infinity without one). */
  remainingMs(this: void): number;
  readonly metadata: Metadata;
}

export interface RpcHandlersOptions<Role extends string, Permission extends string> {
  readonly auth: TokenAuthenticator<Role, Permission>;
  readonly logger: Logger;
  readonly toServiceError: ToServiceError;
  /** Aborted when shutdown begins: server streams end at once. */
  readonly draining: AbortSignal;
  /** Aborted when the grace period is over: unary calls still running are aborted. */
  readonly forced: AbortSignal;
  readonly clock?: Clock;
}

const DECODE_ERROR = Symbol('decode-error');
type DecodeFailure = { readonly [DECODE_ERROR]: string };

/**
 * Wraps each method's request decoder so that a malformed message reaches the handler and is
 * answered INVALID_ARGUMENT, instead of grpc-js' INTERNAL.
 */
export function tolerantService<S extends ServiceDefinition>(def: S): S {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(def)) {
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer): unknown => {
        try {
          return method.requestDeserialize(buf);
        } catch (err) {
          return { [DECODE_ERROR]: err instanceof Error ? err.message : String(err) } satisfies DecodeFailure;
        }
      },
    };
  }
  return out as S;
}

function checkRequest(request: unknown): void {
  if (request && typeof request === 'object' && DECODE_ERROR in request) {
    throw new RequestError('invalid-argument', `malformed request message: ${(request as DecodeFailure)[DECODE_ERROR]}`);
  }
}

function authorization(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : v?.toString('utf8');
}

/** Writes one message, waiting for the transport to drain when its buffer is full. */
function write<Res>(call: ServerWritableStream<unknown, Res>, msg: Res, signal: AbortSignal): Promise<void> {
  if (call.write(msg)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The unary and server-stream handler factories of one service. */
export interface RpcHandlers<Role extends string, Permission extends string> {
  /** A unary handler: authorize, reject a malformed request, run `fn`, map its error. */
  unary<Req, Res>(this: void, permission: Permission, fn: (req: Req, ctx: CallContext<Role>) => Promise<Res> | Res): handleUnaryCall<Req, Res>;
  /** A server-stream handler: writes what `fn` yields with back-pressure; ends on return, error, cancel or draining. */
  serverStream<Req, Res>(this: void, permission: Permission, fn: (req: Req, ctx: CallContext<Role>) => AsyncIterable<Res>): handleServerStreamingCall<Req, Res>;
  /** Server streams open now. */
  readonly openStreams: number;
}

export function createRpcHandlers<Role extends string, Permission extends string>(o: RpcHandlersOptions<Role, Permission>): RpcHandlers<Role, Permission> {
  const clock = o.clock ?? SYSTEM_CLOCK;
  let openStreams = 0;
  return {
    unary: (permission, fn) => (call, callback) => {
      const cs = callSignal(call, o.forced, clock);
      void (async () => {
        try {
          const principal = o.auth.authorize(authorization(call.metadata), permission);
          checkRequest(call.request);
          const response = await fn(call.request, { principal, signal: cs.signal, remainingMs: cs.remainingMs, metadata: call.metadata });
          cs.dispose();
          callback(null, response);
        } catch (err) {
          cs.dispose();
          callback(o.toServiceError(err, o.logger));
        }
      })();
    },
    serverStream: (permission, fn) => (call) => {
      const cs = callSignal(call, o.draining, clock);
      const onError = (): void => cs.dispose();
      call.on('error', onError);
      openStreams++;
      void (async () => {
        try {
          const principal = o.auth.authorize(authorization(call.metadata), permission);
          checkRequest(call.request);
          for await (const msg of fn(call.request, { principal, signal: cs.signal, remainingMs: cs.remainingMs, metadata: call.metadata })) {
            if (cs.signal.aborted) break;
            await write(call, msg, cs.signal);
          }
          if (!call.cancelled) call.end();
        } catch (err) {
          if (!call.cancelled) call.emit('error', o.toServiceError(err, o.logger));
        } finally {
          openStreams--;
          call.off('error', onError);
          cs.dispose();
        }
      })();
    },
    get openStreams() {
      return openStreams;
    },
  };
}
