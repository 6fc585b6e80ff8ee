/**
 * Wires palisade-logger: LMDB store ← JetStream ingest, retention sweep, gRPC LogService.
 *
 * Start: open the store (queries work at once), bind gRPC, start ingest in the background
 * (entries arrive once NATS answers). Stop (graceful, then forced after `shutdownGraceMs`):
 * end Tail streams and let calls finish, stop ingest (what was read is committed and
 * acknowledged), stop the sweep, close LMDB.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogServiceService } from '@palisade/api';
import { GrpcServerError, createGrpcServer, createRpcHandlers, tokenAdmission, type GrpcServer } from '@palisade/grpc-kit';
import { createMetricsRegistry, startOptionalMetricsServer, withCloser, type Closer, type Registry } from '@palisade/service-kit';
import { LoggerError } from './errors.js';
import { JetStreamIngest } from './ingest/jetstream-ingest.js';
import { createLoggerMetrics } from './metrics.js';
import { resolveLoggerOptions, type LoggerOptions, type ResolvedLoggerOptions } from './options.js';
import { createAuthenticator } from './rpc/auth.js';
import { createLogService as createLogServiceRpc } from './rpc/log-service.js';
import { toServiceError } from './rpc/status.js';
import { LogStore } from './store/log-store.js';
import { RetentionSweeper } from './store/retention.js';

/** A running logger; `close()` is idempotent, `force()` ends the grace period at once. */
export interface LogService extends Closer {
  /** The bound gRPC address (`host:port`, actual port). */
  readonly address: string;
  readonly port: number;
  readonly store: LogStore;
  readonly ingest: JetStreamIngest;
  readonly retention: RetentionSweeper;
  readonly options: ResolvedLoggerOptions;
  readonly metrics: Registry;
  readonly metricsAddress: string | undefined;
}

/**
 * Starts a logger: resolves once gRPC listens, with ingest and the retention sweep running in the
 * background. Throws `LoggerError` (`invalid-argument` for bad options, `unavailable` when an
 * address cannot be bound) after closing what it had opened.
 */
export async function createLogService(input: LoggerOptions): Promise<LogService> {
  const o = resolveLoggerOptions(input);
  const logger = o.logger;
  const storeDir = join(o.dataDir, 'log');
  mkdirSync(storeDir, { recursive: true });
  const store = LogStore.open({ path: storeDir, mapSizeBytes: o.mapSizeBytes, logger: logger.child({ component: 'store' }) });
  logger.info({ entries: store.count, path: storeDir }, 'log store opened');
  const ingest = new JetStreamIngest({
    servers: o.natsServers,
    ...(o.nats?.auth ? { auth: o.nats.auth } : {}),
    ...(o.nats?.tlsCa ? { tlsCa: o.nats.tlsCa } : {}),
    consumer: o.consumer,
    replicas: o.replicas,
    streamMaxAgeMs: o.streamMaxAgeMs,
    ackWaitMs: o.ackWaitMs,
    maxBatch: o.maxBatch,
    store,
    logger,
  });
  const auth = createAuthenticator(o.tokens);
  if (!o.nats?.auth) logger.warn('no NATS credentials given (--nats-user/--nats-creds/--nats-token-file): only a NATS server without authorization accepts this logger');
  if (auth.open) logger.warn({ listen: o.listen }, 'access is OPEN: no --tokens given, every local client may read the log (listening on loopback only)');
  const rpcLogger = logger.child({ component: 'rpc' });
  const registry = createMetricsRegistry({ service: 'logger', node: o.consumer });
  let openStreams = (): number => 0;
  const metrics = createLoggerMetrics(registry, { ingest: () => ingest.stats, store: () => store.stats(), openStreams: () => openStreams() });
  const retention = new RetentionSweeper({
    store,
    retentionMs: o.retentionMs,
    maxBytes: o.maxBytes,
    intervalMs: o.sweepIntervalMs,
    clock: o.clock,
    logger: logger.child({ component: 'retention' }),
    onDeleted: metrics.onDeleted,
  });
  let server: GrpcServer;
  let address: string;
  let port: number;
  try {
    server = createGrpcServer({ listen: o.listen, ...(o.tls ? { tls: o.tls } : {}), authenticated: !auth.open,
      admit: tokenAdmission(auth, toServiceError, rpcLogger),
      shutdownGraceMs: o.shutdownGraceMs, logger: rpcLogger });
    const rpc = createRpcHandlers({ auth, logger: rpcLogger, toServiceError, draining: server.draining, forced: server.forced, clock: o.clock });
    openStreams = () => rpc.openStreams;
    server.addService(LogServiceService, createLogServiceHandlers(rpc, store, o));
    ({ address, port } = await server.listen());
  } catch (err) {
    await store.close();
    if (err instanceof GrpcServerError) throw new LoggerError(err.code, err.message, {}, { cause: err });
    throw new LoggerError('unavailable', `cannot listen on ${o.listen}: ${(err as Error).message}`, {}, { cause: err });
  }
  const metricsServer = await startOptionalMetricsServer(o.metricsListen, registry, {
    undo: async () => {
      await server.close();
      await store.close();
    },
    wrap: (err) => new LoggerError('unavailable', err.message, {}, { cause: err }),
    logger,
  });
  ingest.start();
  retention.start();
  logger.info({ address, consumer: o.consumer, tls: Boolean(o.tls), retentionMs: o.retentionMs, maxBytes: o.maxBytes }, 'logger listening');
  return withCloser(
    {
      address,
      port,
      store,
      ingest,
      retention,
      options: o,
      metrics: registry,
      metricsAddress: metricsServer?.address,
    },
    {
      graceMs: o.shutdownGraceMs,
      clock: o.clock,
      logger,
      graceful: async () => {
        logger.info('logger shutting down');
        await server.close();
        await metricsServer?.close();
        await ingest.close();
        await retention.close();
        await store.close();
        logger.info('logger stopped');
      },
      force: () => server.force(),
    },
  );
}

function createLogServiceHandlers(rpc: Parameters<typeof createLogServiceRpc>[0], store: LogStore, o: ResolvedLoggerOptions): ReturnType<typeof createLogServiceRpc> {
  return createLogServiceRpc(rpc, store, o.timeZone ? { defaultTimeZone: o.timeZone } : {});
}
