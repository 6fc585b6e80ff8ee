/**
 * configd's HTTPS listener for Proxmox's `/api2/json` firewall API. A thin layer: authenticate
 * (before reading the body), read and check the parameters, let the mirror catch up with this
 * configd's own writes, call the route's handler (which calls FirewallApi), answer in Proxmox's
 * envelope. `close()` stops accepting, lets calls in flight finish, and ends idle connections.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort, type Clock, type Logger } from '@palisade/service-kit';
import type { LogClient } from '@palisade/api';
import type { FirewallApi } from '../firewall/firewall-api.js';
import type { DocumentStore } from '../store/document-store.js';
import type { ConfigdAuthenticator } from '../rpc/auth.js';
import { DEFAULT_MAX_BODY_BYTES, parseParams, readBody } from './body.js';
import { sendData, sendError } from './envelope.js';
import { checkParams } from './params.js';
import { authorizeRest } from './rest-auth.js';
import { RestError, toRestError } from './rest-error.js';
import { buildRouter } from './routes.js';
import { METHODS, type Method, type Router } from './router.js';

/** Where the API lives on the server (Proxmox's JSON format). */
export const API_PREFIX = '/api2/json';

/**
 * Options of `startRestServer`. app.ts passes configd's own FirewallApi, store and authenticator,
 * so that REST and gRPC share validation, tokens and read-your-writes.
 */
export interface RestServerOptions {
  /** `host:port` (port 0 = any free port). */
  readonly listen: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly api: FirewallApi;
  readonly store: DocumentStore;
  readonly auth: ConfigdAuthenticator;
  /** palisade-logger for the log endpoints; absent = they answer 500. */
  readonly logs?: LogClient;
  readonly logger: Logger;
  readonly clock: Clock;
  /** configd's version (in `GET /version`'s `repoid`). */
  readonly version: string;
  /** Largest request body, bytes. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
}

/** A listening REST server. */
export interface RestServer {
  /** `host:port` with the bound port. */
  readonly address: string;
  readonly port: number;
  /** Stops accepting, waits for calls in flight, closes idle connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Binds the HTTPS listener and resolves once it listens; rejects with the listen error when the
 * address cannot be bound (app.ts reports it as `unavailable`).
 */
export async function startRestServer(o: RestServerOptions): Promise<RestServer> {
  const { host, port } = parseHostPort(o.listen, 'rest-listen');
  const router = buildRouter({ api: o.api, store: o.store, ...(o.logs ? { logs: o.logs } : {}) }, o.version);
  const log = o.logger.child({ component: 'rest' });
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server: Server = createServer({ cert: o.cert, key: o.key }, (req, res) => {
    handle(req, res, router, o, maxBody).catch((err: unknown) => {
      log.error({ err }, 'REST call failed unexpectedly');
      if (!res.headersSent) sendError(res, toRestError(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, router: Router, o: RestServerOptions, maxBody: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://configd');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  const raw = (req.url ?? '/').split('?')[0]!;
  try {
    if (!path.startsWith(`${API_PREFIX}/`) && path !== API_PREFIX) throw new RestError('not-implemented', `Method '${method} ${path}' not implemented`);
    if (!(METHODS as readonly string[]).includes(method)) throw new RestError('not-implemented', `Method '${method} ${path}' not implemented`);
    const m = router.match(method, raw.slice(API_PREFIX.length));
    if (m.kind !== 'found') throw new RestError('not-implemented', `Method '${method} ${path}' not implemented`);
    // Authenticate before reading a body.
    const principal = authorizeRest(o.auth, req.headers.authorization, (method as Method) === 'GET' ? 'read' : 'write');
    const body = await readBody(req, maxBody);
    const input = { ...parseParams(url.searchParams, req.headers['content-type'], body), ...m.pathParams };
    const params = checkParams(m.route.schema, input);
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableEnded) abort.abort();
    });
    const data = await m.route.handler({ params, principal, caller: { author: principal.author, signal: abort.signal }, nowMs: o.clock.now() });
    sendData(res, data);
  } catch (err) {
    const e = toRestError(err);
    if (e.status >= 500 && !(err instanceof RestError)) o.logger.debug({ err, method, path }, 'REST call refused');
    sendError(res, e);
  }
}
