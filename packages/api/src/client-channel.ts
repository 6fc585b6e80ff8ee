/**
 * What the promise clients (configd's, the logger's) share of a gRPC channel: credentials from
 * the TLS option, the bearer-token metadata, the channel arguments (message limits, a reconnect
 * backoff short enough to resume within seconds) and unary calls with a deadline and an
 * abort signal whose listener is removed when the call ends.
 */
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';

/** TLS of a client: CA to trust (PEM); with `cert`/`key` for mutual TLS. */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** How a client authenticates and how long its unary calls may take. */
export interface ClientChannelOptions {
  /** Bearer secret; omitted = no authorization header. */
  readonly token?: string | undefined;
  /** Omitted = plaintext. */
  readonly tls?: ClientTls | undefined;
  /** Deadline of each unary call, ms. */
  readonly timeoutMs: number;
  /** Turns a failed call's status into the client's error type. */
  readonly toError: (err: ServiceError) => Error;
}

/** The shared part of a client: pass `credentials` and `channelArgs()` to the generated client. */
export interface ClientChannel {
  readonly credentials: ChannelCredentials;
  /** Fresh metadata for a call: the authorization header when there is a token. */
  readonly metadata: () => Metadata;
  /**
   * Calls unary `method` of a generated `client` with the deadline; aborting `signal` cancels
   * the call (it then rejects CANCELLED through `toError`).
   */
  readonly unary: <R>(client: object, method: string, request: unknown, signal?: AbortSignal) => Promise<R>;
}

/**
 * grpc-js channel arguments: the message limits and a reconnect backoff of 100 ms to 2 s (after
 * a long outage grpc-js would otherwise wait up to 2 min between reconnects; agents and
 * followers must resume within seconds of the server coming back).
 */
export function clientChannelArgs(limits: { readonly maxReceiveBytes: number; readonly maxSendBytes?: number }): ChannelOptions {
  return {
    'grpc.max_receive_message_length': limits.maxReceiveBytes,
    ...(limits.maxSendBytes !== undefined ? { 'grpc.max_send_message_length': limits.maxSendBytes } : {}),
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2000,
  };
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: unknown) => void,
) => { cancel(): void };

/** Builds the credentials, metadata and unary-call helper of a client. */
export function createClientChannel(o: ClientChannelOptions): ClientChannel {
  const credentials = o.tls ? grpcCredentials.createSsl(o.tls.ca ?? null, o.tls.key ?? null, o.tls.cert ?? null) : grpcCredentials.createInsecure();
  const metadata = (): Metadata => {
    const md = new Metadata();
    if (o.token) md.set('authorization', `Bearer ${o.token}`);
    return md;
  };
  const unary = <R>(client: object, method: string, request: unknown, signal?: AbortSignal): Promise<R> =>
    new Promise((resolve, reject) => {
      const fn = (client as Record<string, unknown>)[method] as UnaryMethod;
      const call = fn.call(client, request, metadata(), { deadline: Date.now() + o.timeoutMs }, (err, response) =>
        err ? reject(o.toError(err)) : resolve(response as R),
      );
      if (!signal) return;
      const cancel = (): void => call.cancel();
      if (signal.aborted) cancel();
      signal.addEventListener('abort', cancel, { once: true });
      // Remove the listener once the call is over, so a long-lived signal does not collect them.
      (call as unknown as NodeJS.EventEmitter).once('status', () => signal.removeEventListener('abort', cancel));
    });
  return { credentials, metadata, unary };
}
