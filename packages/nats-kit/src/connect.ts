/**
 * A NATS connection as a Palisade component: connect options with exported defaults, the
 * connection state as a typed AsyncIterable (instead of booleans polled), `closed()`, and a
 * drain bounded by a timeout (then a plain close).
 */
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { PalisadeError, SILENT_LOGGER, type Logger } from '@palisade/service-kit';

/** Connection failures of the kit: bad options, or no server reachable. */
export class NatsKitError extends PalisadeError<'invalid-argument' | 'unavailable' | 'cancelled', { readonly servers?: readonly string[] }> {}

/**
 * Defaults for a service's connection: reconnect forever (a service outlives NATS restarts),
 * quickly (250 ms ± 100 ms), servers in the given order (the local one first), and notice a
 * silent server after two missed 2 s pings (the write path's retries rely on this).
 */
export const NATS_CONNECT_DEFAULTS = {
  maxReconnectAttempts: -1,
  reconnectTimeWaitMs: 250,
  reconnectJitterMs: 100,
  pingIntervalMs: 2000,
  maxPingOut: 2,
  connectTimeoutMs: 2000,
  drainTimeoutMs: 2000,
  noRandomize: true,
  asyncTraces: false,
} as const;

/**
 * How a service authenticates to NATS (the servers are closed by default: `deploy/nats/`):
 * a user and password, a token, or a `.creds` file (a user JWT and its nkey seed). Secrets are
 * passed as values, read from files by the caller, never logged.
 */
export type NatsAuth =
  | { readonly kind: 'user'; readonly user: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'creds'; readonly creds: Uint8Array };

/** How a service connects; every field but `servers` and `name` has a default in `NATS_CONNECT_DEFAULTS`. */
export interface NatsConnectOptions {
  /** Server URLs, tried in order (the local server first). */
  readonly servers: readonly string[];
  /** Connection name shown by the server (e.g. `palisade-configd pve1`). */
  readonly name: string;
  /** -1 = forever. */
  readonly maxReconnectAttempts?: number;
  readonly reconnectTimeWaitMs?: number;
  readonly reconnectJitterMs?: number;
  /** Client ping period; the connection is stale after `maxPingOut` unanswered pings. */
  readonly pingIntervalMs?: number;
  readonly maxPingOut?: number;
  /** How long one connect attempt waits. */
  readonly connectTimeoutMs?: number;
  /** How long `drain()` waits before it closes the connection instead. */
  readonly drainTimeoutMs?: number;
  /** Randomize the server order (default false: the local server first). */
  readonly noRandomize?: boolean;
  /**
   * Give a failed request or publish the stack of the call that started it (nats.js builds an
   * Error for every call to have it ready). Default false: that costs a tenth of the agent's CPU
   * at log rates, and the kit's errors are classified by code, not by stack.
   */
  readonly asyncTraces?: boolean;
  /** Credentials; default none (only for servers without authorization, e.g. a bare test server). */
  readonly auth?: NatsAuth;
  /** PEM CA to verify the servers' TLS certificates (client TLS); default: plain TCP, or the system CAs for `tls://` URLs. */
  readonly tlsCa?: string;
  readonly logger?: Logger;
}

/** `NatsConnectOptions` with every default filled in. */
export type ResolvedNatsConnectOptions = Required<Omit<NatsConnectOptions, 'logger' | 'auth' | 'tlsCa'>> &
  Pick<NatsConnectOptions, 'auth' | 'tlsCa'> & { readonly logger: Logger };

/** Fills defaults; rejects contradictions naming both fields. */
export function resolveNatsConnectOptions(o: NatsConnectOptions): ResolvedNatsConnectOptions {
  if (o.servers.length === 0) throw new NatsKitError('invalid-argument', 'servers: at least one NATS URL is required');
  const r = { ...NATS_CONNECT_DEFAULTS, logger: SILENT_LOGGER, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as ResolvedNatsConnectOptions;
  for (const f of ['reconnectTimeWaitMs', 'reconnectJitterMs', 'pingIntervalMs', 'maxPingOut', 'connectTimeoutMs', 'drainTimeoutMs'] as const) {
    if (!Number.isInteger(r[f]) || r[f] < 0) throw new NatsKitError('invalid-argument', `${f} must be a non-negative integer, got ${r[f]}`);
  }
  if (r.auth?.kind === 'user' && (r.auth.user === '' || r.auth.password === '')) {
    throw new NatsKitError('invalid-argument', 'auth: a NATS user needs a name and a password');
  }
  if (r.auth?.kind === 'token' && r.auth.token === '') throw new NatsKitError('invalid-argument', 'auth: the NATS token is empty');
  if (r.reconnectJitterMs > r.reconnectTimeWaitMs) {
    throw new NatsKitError('invalid-argument', `reconnectJitterMs (${r.reconnectJitterMs}) must not exceed reconnectTimeWaitMs (${r.reconnectTimeWaitMs})`);
  }
  return r;
}

/** The nats.js options of resolved kit options. */
export function natsConnectionOptions(r: ResolvedNatsConnectOptions): ConnectionOptions {
  return {
    servers: [...r.servers],
    name: r.name,
    noRandomize: r.noRandomize,
    maxReconnectAttempts: r.maxReconnectAttempts,
    reconnectTimeWait: r.reconnectTimeWaitMs,
    reconnectJitter: r.reconnectJitterMs,
    pingInterval: r.pingIntervalMs,
    maxPingOut: r.maxPingOut,
    timeout: r.connectTimeoutMs,
    noAsyncTraces: !r.asyncTraces,
    ...authOptions(r.auth),
    ...(r.tlsCa !== undefined ? { tls: { ca: r.tlsCa } } : {}),
  };
}

function authOptions(auth: NatsAuth | undefined): Partial<ConnectionOptions> {
  switch (auth?.kind) {
    case undefined:
      return {};
    case 'user':
      return { user: auth.user, pass: auth.password };
    case 'token':
      return { token: auth.token };
    case 'creds':
      return { authenticator: credsAuthenticator(auth.creds) };
  }
}

/** What a service needs to know of its connection. */
export type NatsConnectionState =
  | { readonly state: 'connected'; readonly server: string }
  | { readonly state: 'disconnected'; readonly server: string }
  | { readonly state: 'closed' };

/** A connected client. `close()` drains (bounded by `drainTimeoutMs`); idempotent. */
export interface NatsClient {
  readonly connection: NatsConnection;
  /** Whether the connection is up now. */
  readonly connected: boolean;
  /**
   * Connection states, the current one first, then every change, until the connection closes
   * (`closed` is the last) or `signal` aborts. Each call is an independent iterable.
   */
  states(signal?: AbortSignal): AsyncIterable<NatsConnectionState>;
  /** Resolves once the connection is up (at once when it is); rejects `cancelled` on abort. */
  whenConnected(signal?: AbortSignal): Promise<void>;
  /** Drains subscriptions and pending publishes; closes after `drainTimeoutMs` at the latest. */
  close(): Promise<void>;
  /** Resolves when the connection is closed, however it was closed. */
  closed(): Promise<void>;
}

/** Wraps an open nats.js connection (`connectNats` does this; tests may pass their own). */
export function natsClientOf(nc: NatsConnection, o: { readonly drainTimeoutMs?: number; readonly logger?: Logger } = {}): NatsClient {
  const logger = o.logger ?? SILENT_LOGGER;
  const drainTimeoutMs = o.drainTimeoutMs ?? NATS_CONNECT_DEFAULTS.drainTimeoutMs;
  let current: NatsConnectionState = { state: 'connected', server: nc.getServer() };
  const listeners = new Set<(s: NatsConnectionState) => void>();
  const set = (s: NatsConnectionState): void => {
    current = s;
    for (const l of listeners) l(s);
  };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        logger.warn({ server: s.server }, 'disconnected from NATS');
        set({ state: 'disconnected', server: s.server });
      } else if (s.type === 'reconnect') {
        logger.info({ server: s.server }, 'reconnected to NATS');
        set({ state: 'connected', server: s.server });
      }
    }
  })();
  const closedP = nc.closed().then(() => set({ state: 'closed' }));
  let closing: Promise<void> | undefined;
  return {
    connection: nc,
    get connected() {
      return current.state === 'connected';
    },
    states: (signal) => ({
      async *[Symbol.asyncIterator]() {
        const queue: NatsConnectionState[] = [current];
        let wake: (() => void) | undefined;
        const listener = (s: NatsConnectionState): void => {
          queue.push(s);
          wake?.();
        };
        const onAbort = (): void => wake?.();
        listeners.add(listener);
        signal?.addEventListener('abort', onAbort);
        try {
          while (!signal?.aborted) {
            const s = queue.shift();
            if (!s) {
              await new Promise<void>((r) => (wake = r));
              wake = undefined;
              continue;
            }
            yield s;
            if (s.state === 'closed') return;
          }
        } finally {
          listeners.delete(listener);
          signal?.removeEventListener('abort', onAbort);
        }
      },
    }),
    async whenConnected(signal) {
      for await (const s of this.states(signal)) {
        if (s.state === 'connected') return;
        if (s.state === 'closed') throw new NatsKitError('unavailable', 'the NATS connection is closed');
      }
      throw new NatsKitError('cancelled', 'waiting for NATS was aborted', {}, { cause: signal?.reason });
    },
    close: () =>
      (closing ??= (async () => {
        if (nc.isClosed()) return;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([nc.drain(), new Promise<void>((r) => (timer = setTimeout(r, drainTimeoutMs)))]);
        } catch {
          /* already closing */
        } finally {
          clearTimeout(timer);
        }
        if (!nc.isClosed()) await nc.close();
        await closedP;
      })()),
    closed: () => closedP,
  };
}

/** Connects once (one pass over the servers); fails `unavailable` naming the servers. */
export async function connectNats(o: NatsConnectOptions): Promise<NatsClient> {
  const r = resolveNatsConnectOptions(o);
  let nc: NatsConnection;
  try {
    nc = await connect(natsConnectionOptions(r));
  } catch (err) {
    throw new NatsKitError('unavailable', `cannot connect to NATS (${r.servers.join(', ')}): ${err instanceof Error ? err.message : String(err)}`, { servers: r.servers }, { cause: err });
  }
  r.logger.info({ server: nc.getServer(), maxPayload: nc.info?.max_payload }, 'connected to NATS');
  return natsClientOf(nc, r);
}
