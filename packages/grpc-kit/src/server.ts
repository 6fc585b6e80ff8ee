/**
 * A gRPC server with Palisade's defaults: message limits, keepalive, plaintext / TLS / mutual
 * TLS, open access only on loopback, and a graceful-then-forced close that ends streams first,
 * lets unary calls finish within the grace period, then aborts them and forces the transport.
 */
import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { PalisadeError, createCloser, formatHostPort, isLoopbackHost, parseHostPort, type Closer, type Logger } from '@palisade/service-kit';
import { admissionInterceptor, type Admit } from './admission.js';
import { tolerantService } from './handlers.js';

/** The server's certificate chain and private key (PEM); with `ca`, mutual TLS. */
export interface GrpcTlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly ca?: Buffer;
}

/**
 * Options of `createGrpcServer`; the limits and timings left out take `GRPC_SERVER_DEFAULTS`. A
 * server without `authenticated` is refused (`invalid-argument`) unless it listens on loopback.
 */
export interface GrpcServerOptions {
  /** `host:port` (port 0 = any free port). */
  readonly listen: string;
  readonly tls?: GrpcTlsFiles;
  /** Whether calls need a token; an open server may only listen on loopback. */
  readonly authenticated: boolean;
  /** Largest request accepted, bytes (methods in `maxReceiveBytesByMethod` have their own). */
  readonly maxReceiveBytes?: number;
  /** Own request limits of some methods, by path (`/pkg.Service/Method`), bytes. */
  readonly maxReceiveBytesByMethod?: Readonly<Record<string, number>>;
  /** Calls in flight on one connection; more are refused RESOURCE_EXHAUSTED. */
  readonly maxConcurrentStreams?: number;
  /**
   * Decides from the headers, before the request body is read, whether a call may go on
   * (e.g. `tokenAdmission`: no body is accepted without a known token).
   */
  readonly admit?: Admit;
  /** Largest response sent, bytes. */
  readonly maxSendBytes?: number;
  /** Keepalive ping period and its answer timeout, ms. */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** How long close() lets unary calls finish before aborting them. */
  readonly shutdownGraceMs?: number;
  readonly logger: Logger;
}

/**
 * The defaults of `GrpcServerOptions`: 4 MiB requests, 256 MiB responses, 100 calls in flight per
 * connection, a keepalive ping every 30 s answered within 10 s, and 5 s of grace on close.
 */
export const GRPC_SERVER_DEFAULTS = {
  maxReceiveBytes: 4 * 1024 * 1024,
  maxConcurrentStreams: 100,
  maxSendBytes: 256 * 1024 * 1024,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  shutdownGraceMs: 5000,
} as const;

/**
 * A server that may not be created (`invalid-argument`: open access off loopback) or cannot bind
 * (`unavailable`, from `listen()`), with the address in `listen`; services rethrow it as their own
 * error with the same code.
 */
export class GrpcServerError extends PalisadeError<'invalid-argument' | 'unavailable', { readonly listen?: string }> {}

/** A server before and after `listen()`. */
export interface GrpcServer extends Closer {
  /** Adds a service; its request decoding is made tolerant (malformed → INVALID_ARGUMENT). */
  addService<S extends grpc.ServiceDefinition>(def: S, impl: grpc.UntypedServiceImplementation): void;
  /** Binds; resolves with the bound address (`host:port`, actual port). */
  listen(): Promise<{ address: string; port: number }>;
  /** Aborted when close() begins (streams end). */
  readonly draining: AbortSignal;
  /** Aborted when the grace period is over (unary calls abort). */
  readonly forced: AbortSignal;
}

/** Validates the options and creates the server (nothing is bound until `listen()`). */
export function createGrpcServer(input: GrpcServerOptions): GrpcServer {
  const o = { ...GRPC_SERVER_DEFAULTS, ...input };
  const { host, port } = parseHostPort(o.listen, 'listen');
  if (!o.authenticated && !isLoopbackHost(host)) {
    throw new GrpcServerError('invalid-argument', `listen: ${o.listen} is not a loopback address and no tokens are set: open access is only allowed on loopback`, { listen: o.listen });
  }
  const byMethod = o.maxReceiveBytesByMethod ?? {};
  const limitOf = (path: string): number => byMethod[path] ?? o.maxReceiveBytes;
  const server = new grpc.Server({
    // The transport's limit is the largest; each call gets its method's own (admission.ts).
    'grpc.max_receive_message_length': Math.max(o.maxReceiveBytes, ...Object.values(byMethod)),
    interceptors: [admissionInterceptor({ limitOf, maxCallsPerConnection: o.maxConcurrentStreams, ...(o.admit ? { admit: o.admit } : {}) })],
    'grpc.max_send_message_length': o.maxSendBytes,
    'grpc.keepalive_time_ms': o.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs,
  });
  const draining = new AbortController();
  const forced = new AbortController();
  // Every call in flight listens on one of them (callSignal): not a leak.
  setMaxListeners(0, draining.signal, forced.signal);
  let bound = false;
  const closer = createCloser({
    graceMs: o.shutdownGraceMs,
    logger: o.logger,
    graceful: async () => {
      draining.abort();
      if (!bound) return;
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
    force: () => {
      forced.abort();
      server.forceShutdown();
    },
  });
  return {
    close: () => closer.close(),
    closed: () => closer.closed(),
    force: () => closer.force(),
    get closing() {
      return closer.closing;
    },
    draining: draining.signal,
    forced: forced.signal,
    addService(def, impl) {
      server.addService(tolerantService(def, limitOf), impl);
    },
    async listen() {
      const credentials = o.tls
        ? grpc.ServerCredentials.createSsl(o.tls.ca ?? null, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], Boolean(o.tls.ca))
        : grpc.ServerCredentials.createInsecure();
      const target = formatHostPort(host, port);
      try {
        const actual = await new Promise<number>((resolve, reject) => server.bindAsync(target, credentials, (err, p) => (err ? reject(err) : resolve(p))));
        bound = true;
        return { address: formatHostPort(host, actual), port: actual };
      } catch (err) {
        throw new GrpcServerError('unavailable', `cannot listen on ${o.listen}: ${(err as Error).message}`, { listen: o.listen }, { cause: err });
      }
    },
  };
}
