/**
 * Thin handler plumbing: authorize, reject a malformed request, run the domain function with the
 * call's signal, map errors. Server streams are AsyncIterables written with back-pressure.
 */
import type { handleServerStreamingCall, handleUnaryCall, Metadata, ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';
import { PalisadeError, SYSTEM_CLOCK, type Clock, type Logger } from '@palisade/service-kit';
import { callSignal } from './call-signal.js';
import type { ToServiceError } from './status.js';
import type { Principal, TokenAuthenticator } from './tokens.js';

/** A request message that could not be decoded, or is larger than its method accepts. */
export class RequestError extends PalisadeError<RequestErrorCode, { readonly maxBytes?: number }> {}
/**
 * Why a request was refused before its handler ran: `invalid-argument` for a message that does not
 * decode, `too-large` (RESOURCE_EXHAUSTED) for one above its method's limit.
 */
export type RequestErrorCode = 'invalid-argument' | 'too-large';

/** What a handler gets besides the request. */
export interface CallContext<Role extends string> {
  readonly principal: Principal<Role>;
  /** Aborted on client cancel, deadline, or server shutdown (see `RpcHandlersOptions`). */
  readonly signal: AbortSignal;
  /** Milliseconds left until the client's deadline (Infinity without one). */
  remainingMs(this: void): number;
  readonly metadata: Metadata;
}

/**
 * What `createRpcHandlers` needs: the authenticator, the service's error mapper and the server's
 * two shutdown signals (`GrpcServer.draining` and `GrpcServer.forced`), which end streams first and
 * unary calls after the grace period. `clock` (default the system clock) times the call deadlines.
 */
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
type DecodeFailure = { readonly [DECODE_ERROR]: string; readonly maxBytes?: number };

/**
 * Wraps each method's request decoder so that a malformed message reaches the handler and is
 * answered INVALID_ARGUMENT, instead of grpc-js' INTERNAL, and a message above its method's
 * `limitOf` is answered `too-large` without being decoded.
 */
export function tolerantService<S extends ServiceDefinition>(def: S, limitOf: (path: string) => number = () => Infinity): S {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(def)) {
    const limit = limitOf(method.path);
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer): unknown => {
        if (buf.length > limit) {
          return { [DECODE_ERROR]: `request of ${buf.length} bytes; this method accepts at most ${limit}`, maxBytes: limit } satisfies DecodeFailure;
        }
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
    const failure = request as DecodeFailure;
    if (failure.maxBytes !== undefined) throw new RequestError('too-large', failure[DECODE_ERROR], { maxBytes: failure.maxBytes });
    throw new RequestError('invalid-argument', `malformed request message: ${failure[DECODE_ERROR]}`);
  }
}

function authorization(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : v?.toString('utf8');
}

/** How much of a server stream may wait in memory for a client that does not read. */
export interface StreamFlowOptions<Res> {
  /** Approximate bytes of one message (e.g. its content length); without it only grpc-js' count-based buffer applies. */
  readonly sizeOf?: (msg: Res) => number;
  /**
   * Bytes handed to grpc-js but not yet taken by HTTP/2 (the client's flow-control window)
   * beyond which the stream waits before pulling the next message. Default 256 KiB; one
   * larger message is always allowed.
   */
  readonly maxBufferedBytes?: number;
}

/** Default bound of a server stream's unsent bytes. */
export const DEFAULT_MAX_BUFFERED_STREAM_BYTES = 256 * 1024;

/**
 * Writes server-stream messages with back-pressure: after a message it waits while grpc-js
 * refuses more (`write()` false, until 'drain') or, with `sizeOf`, while the unsent bytes are
 * at the bound. The source is pulled only when this resolves, so nothing is read for a client
 * that does not read.
 */
class StreamWriter<Res> {
  #pending = 0;
  #wake: (() => void) | undefined;
  readonly #max: number;

  constructor(
    private readonly call: ServerWritableStream<unknown, Res>,
    private readonly flow: StreamFlowOptions<Res>,
    private readonly signal: AbortSignal,
  ) {
    this.#max = flow.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_STREAM_BYTES;
  }

  /** Hands one message to grpc-js (which serializes it at once); `settle` then waits for room. */
  send(msg: Res): { readonly accepted: boolean; readonly sized: boolean } {
    const size = this.flow.sizeOf ? Math.max(1, this.flow.sizeOf(msg)) : 0;
    this.#pending += size;
    const accepted = this.call.write(msg, () => {
      this.#pending -= size;
      this.#wake?.();
    });
    return { accepted, sized: size > 0 };
  }

  async settle(sent: { readonly accepted: boolean; readonly sized: boolean }): Promise<void> {
    if (!sent.accepted) await this.#until('drain');
    while (sent.sized && this.#pending >= this.#max && !this.signal.aborted && !this.call.cancelled) await this.#until('flushed');
  }

  #until(event: 'drain' | 'flushed'): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      if (event === 'drain') this.call.on('drain', done);
      else this.#wake = done;
      this.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The unary and server-stream handler factories of one service. */
export interface RpcHandlers<Role extends string, Permission extends string> {
  /** A unary handler: authorize, reject a malformed request, run `fn`, map its error. */
  unary<Req, Res>(this: void, permission: Permission, fn: (req: Req, ctx: CallContext<Role>) => Promise<Res> | Res): handleUnaryCall<Req, Res>;
  /** A server-stream handler: writes what `fn` yields with back-pressure; ends on return, error, cancel or draining. */
  serverStream<Req, Res>(
    this: void,
    permission: Permission,
    fn: (req: Req, ctx: CallContext<Role>) => AsyncIterable<Res>,
    flow?: StreamFlowOptions<Res>,
  ): handleServerStreamingCall<Req, Res>;
  /** Server streams open now. */
  readonly openStreams: number;
}

/**
 * The handler factories of one service: every method is built with `unary` or `serverStream`, so
 * that authorization, the malformed-request check and error mapping happen in this one place.
 * `openStreams` is for the service's metrics.
 */
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
    serverStream: (permission, fn, flow = {}) => (call) => {
      const cs = callSignal(call, o.draining, clock);
      const onError = (): void => cs.dispose();
      call.on('error', onError);
      openStreams++;
      void (async () => {
        try {
          const principal = o.auth.authorize(authorization(call.metadata), permission);
          checkRequest(call.request);
          const writer = new StreamWriter(call, flow, cs.signal);
          const source = fn(call.request, { principal, signal: cs.signal, remainingMs: cs.remainingMs, metadata: call.metadata })[Symbol.asyncIterator]();
          let finished = false;
          try {
            for (;;) {
              let step: Awaited<ReturnType<typeof source.next>> | undefined = await source.next();
              if (step.done) {
                finished = true;
                break;
              }
              if (cs.signal.aborted) break;
              const sent = writer.send(step.value);
              // While the client is slow, only grpc-js' serialized copy of the message waits.
              step = undefined;
              await writer.settle(sent);
            }
          } finally {
            // Like `for await`: the source's own cleanup runs however the loop ends.
            if (!finished) await source.return?.();
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
