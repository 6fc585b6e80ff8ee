/**
 * Thin gRPC handler plumbing shared by the services: authentication and permission check,
 * tolerant request decoding (a malformed message becomes INVALID_ARGUMENT instead of grpc-js'
 * INTERNAL), abort on cancellation, the call's deadline, backpressure for server streams, error
 * mapping.
 */
import type {
  Deadline,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerWritableStream,
  ServiceDefinition,
} from '@grpc/grpc-js';
import type { Logger } from '@palisade/service-kit';
import { ConfigdError } from '../errors.js';
import type { Permission, Principal, TokenAuthenticator } from './auth.js';
import { toServiceError } from './status.js';

/** What every handler needs; `streams` lets shutdown end open server streams first. */
export interface RpcContext {
  readonly auth: TokenAuthenticator;
  readonly logger: Logger;
  readonly streams: Set<AbortController>;
}

const DECODE_ERROR = Symbol('decode-error');
type DecodeFailure = { readonly [DECODE_ERROR]: string };

/** Wraps each method's request decoder so that decoding failures reach the handler. */
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
    throw new ConfigdError('invalid-argument', `malformed request message: ${(request as DecodeFailure)[DECODE_ERROR]}`);
  }
}

function authorization(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : v?.toString('utf8');
}

/** A gRPC deadline as ms since the epoch (`Infinity` when the client set none). */
export function deadlineMsOf(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * A unary handler: authorize, decode check, run, map errors. `fn` gets an AbortSignal (client
 * cancel) and the call's deadline in ms since the epoch (`Infinity` = none).
 */
export function unary<Req, Res>(
  ctx: RpcContext,
  permission: Permission,
  fn: (req: Req, principal: Principal, signal: AbortSignal, deadlineMs: number) => Promise<Res> | Res,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const ac = new AbortController();
    // grpc-js emits 'cancelled' when the stream closes, also after a successful answer:
    // aborting then would build a DOMException (with its stack) for nothing on every call.
    let answered = false;
    call.on('cancelled', () => {
      if (!answered) ac.abort();
    });
    void (async () => {
      try {
        const principal = ctx.auth.authorize(authorization(call.metadata), permission);
        checkRequest(call.request);
        const response = await fn(call.request, principal, ac.signal, deadlineMsOf(call.getDeadline()));
        answered = true;
        callback(null, response);
      } catch (err) {
        answered = true;
        callback(toServiceError(err, ctx.logger));
      }
    })();
  };
}

/** Writes one message, waiting for the transport to drain when its buffer is full. */
function writeWithBackpressure<Res>(call: ServerWritableStream<unknown, Res>, msg: Res, signal: AbortSignal): Promise<void> {
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

/** A server-streaming handler; the stream ends when `fn` returns, errors, or the call is cancelled. */
export function serverStream<Req, Res>(
  ctx: RpcContext,
  permission: Permission,
  fn: (req: Req, principal: Principal, signal: AbortSignal, write: (msg: Res) => Promise<void>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const ac = new AbortController();
    ctx.streams.add(ac);
    call.on('cancelled', () => ac.abort());
    call.on('error', () => ac.abort());
    void (async () => {
      try {
        const principal = ctx.auth.authorize(authorization(call.metadata), permission);
        checkRequest(call.request);
        await fn(call.request, principal, ac.signal, (msg) => writeWithBackpressure(call, msg, ac.signal));
        if (!call.cancelled) call.end();
      } catch (err) {
        if (!call.cancelled) call.emit('error', toServiceError(err, ctx.logger));
      } finally {
        ctx.streams.delete(ac);
      }
    })();
  };
}
