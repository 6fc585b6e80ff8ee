/**
 * The Prometheus text endpoint of a service (`--metrics HOST:PORT`): `GET /metrics` answers the
 * registry's text exposition; anything else is 404. Each service owns its registry (no global
 * default registry, so two services in one test process do not collide).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PalisadeError } from './errors.js';
import { formatHostPort, parseHostPort } from './host-port.js';
import type { Logger } from './logger.js';

/** prom-client's metric types, so that services need no second copy of the library. */
export { Counter, Gauge, Histogram, Registry };

/** A registry with the process metrics (CPU, memory, event loop lag) and `service`/`node` labels. */
export function createMetricsRegistry(labels: { readonly service: string; readonly node: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ ...labels });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `startMetricsServer`'s failure to bind (`unavailable`), with the address in `listen`; services
 * turn it into their own error with `startOptionalMetricsServer`'s `wrap`.
 */
export class MetricsServerError extends PalisadeError<'unavailable' | 'invalid-argument', { readonly listen: string }> {}

/** A listening metrics endpoint. `close()` stops it (idempotent). */
export interface MetricsServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `registry` on `listen`; fails with `unavailable` naming the address when it cannot bind. */
export async function startMetricsServer(listen: string, registry: Registry): Promise<MetricsServer> {
  const { host, port } = parseHostPort(listen, 'metrics');
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new MetricsServerError('unavailable', `cannot serve metrics on ${listen}: ${(err as Error).message}`, { listen }, { cause: err });
  }
  const actual = (server.address() as { port: number }).port;
  let closing: Promise<void> | undefined;
  return {
    address: formatHostPort(host, actual),
    port: actual,
    close: () => (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })),
  };
}

/** What `startOptionalMetricsServer` does around the start. */
export interface OptionalMetricsServerOptions {
  /** Stops what the service started before the endpoint (its gRPC server, stores), when the endpoint cannot start. */
  readonly undo: () => Promise<void>;
  /** The service's own error for a failed start (thrown after `undo`). */
  readonly wrap: (err: Error) => Error;
  /** Gets `serving metrics` with the bound address. */
  readonly logger: Logger;
}

/**
 * A service's `--metrics`: serves `registry` on `listen`, nothing when `listen` is undefined.
 * When it cannot start, runs `undo` and throws `wrap(err)`, so the service leaves nothing open.
 */
export async function startOptionalMetricsServer(listen: string | undefined, registry: Registry, o: OptionalMetricsServerOptions): Promise<MetricsServer | undefined> {
  if (listen === undefined) return undefined;
  let server: MetricsServer;
  try {
    server = await startMetricsServer(listen, registry);
  } catch (err) {
    await o.undo();
    throw o.wrap(err as Error);
  }
  o.logger.info({ address: server.address }, 'serving metrics');
  return server;
}
