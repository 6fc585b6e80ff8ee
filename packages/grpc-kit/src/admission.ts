/**
 * What happens to a call before its request body is read: a grpc-js server interceptor
 * (grpc-js ≥ 1.10; `onReceiveMetadata` runs while the HTTP/2 stream is still paused) that
 *  - refuses the call when `admit` says so (e.g. a missing or unknown token), so that nobody
 *    without a token makes the server buffer a body: the stream is never read, the client's
 *    HTTP/2 flow-control window (64 KiB) is all it can send;
 *  - lowers the call's receive limit to its method's own limit, so that the transport refuses
 *    a larger body from its 5-byte length prefix, before buffering it;
 *  - refuses a call beyond `maxCallsPerConnection` calls in flight on its connection (counted
 *    by peer address and port) with RESOURCE_EXHAUSTED. (HTTP/2's own
 *    SETTINGS_MAX_CONCURRENT_STREAMS, grpc-js' `grpc.max_concurrent_streams`, made a graceful
 *    server shutdown wait forever in tests with grpc-js 1.14, so the count is kept here.)
 * The method limit is applied again when the message is decoded (`tolerantService`), which
 * holds even if a grpc-js version stops exposing the per-call limit this relies on.
 */
import { ServerInterceptingCall, ServerListenerBuilder, status as Status, type Metadata, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';

/** A refusal of a call before its body: status, message and trailer. */
export type Refusal = Partial<StatusObject> & { readonly code: Status };

/** Decides from the headers alone whether a call may go on; undefined = admitted. */
export type Admit = (metadata: Metadata, methodPath: string) => Refusal | undefined;

/** What the per-call receive limit of grpc-js 1.14's base call looks like (not public API). */
interface BaseCallLimits {
  maxReceiveMessageSize: number;
  decoder: { maxReadMessageLength: number };
}

function hasLimits(call: unknown): call is BaseCallLimits {
  const c = call as Partial<BaseCallLimits> | undefined;
  return typeof c?.maxReceiveMessageSize === 'number' && typeof c.decoder?.maxReadMessageLength === 'number';
}

/**
 * Lowers one call's receive limit; false when this grpc-js does not expose it (the decode-time
 * check in `tolerantService` still refuses the message then).
 */
function lowerReceiveLimit(call: unknown, limit: number): boolean {
  if (!hasLimits(call)) return false;
  call.maxReceiveMessageSize = Math.min(call.maxReceiveMessageSize, limit);
  call.decoder.maxReadMessageLength = Math.min(call.decoder.maxReadMessageLength, limit);
  return true;
}

/** Calls in flight per connection (peer `address:port`). */
class ConnectionCalls {
  readonly #inFlight = new Map<string, number>();
  constructor(readonly max: number) {}

  /** Takes a slot, or undefined when the connection is at the limit; the function gives it back once. */
  take(peer: string): (() => void) | undefined {
    const n = this.#inFlight.get(peer) ?? 0;
    if (n >= this.max) return undefined;
    this.#inFlight.set(peer, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(peer) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(peer);
      else this.#inFlight.set(peer, left);
    };
  }
}

/**
 * Options of `admissionInterceptor`; `createGrpcServer` builds them from its own
 * (`maxReceiveBytesByMethod`, `maxConcurrentStreams`, `admit`). Without `admit` every call that
 * fits the limits is admitted.
 */
export interface AdmissionOptions {
  /** Receive limit of a method, by path. */
  readonly limitOf: (methodPath: string) => number;
  readonly admit?: Admit;
  /** Calls in flight on one connection. */
  readonly maxCallsPerConnection: number;
}

/** The interceptor: per-method receive limit, calls per connection, then `admit`. Must be the first interceptor. */
export function admissionInterceptor(o: AdmissionOptions): ServerInterceptor {
  const calls = new ConnectionCalls(o.maxCallsPerConnection);
  return (method, call) => {
    lowerReceiveLimit(call, o.limitOf(method.path));
    let release: (() => void) | undefined;
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => {
        const listener = new ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, mdNext) => {
            release = calls.take(call.getPeer());
            if (!release) {
              intercepting.sendStatus({ code: Status.RESOURCE_EXHAUSTED, details: `more than ${calls.max} calls in flight on this connection`, metadata: null });
              return;
            }
            let refusal: Refusal | undefined;
            try {
              refusal = o.admit?.(metadata, method.path);
            } catch {
              refusal = { code: Status.INTERNAL, details: 'internal error while admitting the call' };
            }
            // Not passing the metadata on: the handler never starts and the body is never read.
            if (refusal) intercepting.sendStatus({ details: '', ...refusal, metadata: refusal.metadata ?? null });
            else mdNext(metadata);
          })
          .withOnCancel(() => release?.())
          .build();
        next(listener);
      },
      sendStatus: (status, next) => {
        release?.();
        next(status);
      },
    });
    return intercepting;
  };
}
