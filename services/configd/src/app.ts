/**
 * Wires configd: LMDB mirror ← JetStream log, the document store, the gRPC server. Owns the
 * start and stop order.
 *
 * Start: open the mirror (reads work at once), start NATS in the background (writes work once
 * JetStream answers), bind gRPC. Stop (graceful, then forced after `shutdownGraceMs`): stop
 * accepting calls and end watch streams, let unary calls finish, drain NATS, close LMDB.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DocumentServiceService, FirewallServiceService, createLogClient, type LogClient } from '@palisade/api';
import { GrpcServerError, createGrpcServer, createRpcHandlers, tokenAdmission, type GrpcServer } from '@palisade/grpc-kit';
import { createMetricsRegistry, startOptionalMetricsServer, withCloser, type Closer, type Logger, type Registry } from '@palisade/service-kit';
import { resolveConfigdOptions, type ConfigdOptions, type ResolvedConfigdOptions } from './options.js';
import { LmdbMirror } from './store/lmdb-mirror.js';
import { JetStreamLog } from './replication/jetstream-log.js';
import { DocumentStore } from './store/document-store.js';
import { FwLangValidator } from './store/document-validator.js';
import { createAuthenticator } from './rpc/auth.js';
import { toServiceError } from './rpc/status.js';
import { countingRefusals, createConfigdMetrics, withWriteMetrics } from './metrics.js';
import { DEFAULT_DOCUMENT_SERVICE_LIMITS, createDocumentService, type DocumentServiceLimits } from './rpc/document-service.js';
import { createFirewallService } from './rpc/firewall-service.js';
import { FirewallApi } from './firewall/firewall-api.js';
import { CONFIGD_VERSION } from './version.js';
import { ConfigdError } from './errors.js';
import { certificateFingerprint, ensureRestCertificate } from './rest/certificate.js';
import { startRestServer, type RestServer } from './rest/rest-server.js';
import { Confirmations } from './confirm/confirmations.js';
import { confirmingStore } from './confirm/confirming-store.js';
import { createConfirmMethods } from './confirm/confirm-rpc.js';

/** A running configd; `close()` is idempotent, `force()` ends the grace period at once. */
export interface Configd extends Closer {
  /** The bound gRPC address (`host:port`, with the actual port). */
  readonly address: string;
  readonly port: number;
  readonly store: DocumentStore;
  readonly replication: JetStreamLog;
  readonly options: ResolvedConfigdOptions;
  /** This configd's metrics (served on `metricsAddress` with `metricsListen`). */
  readonly metrics: Registry;
  /** The bound metrics address (`host:port`), when `metricsListen` is set. */
  readonly metricsAddress: string | undefined;
  /** The bound REST (Proxmox API) address, when `restListen` is set. */
  readonly restAddress: string | undefined;
  /** SHA-256 fingerprint of the REST listener's certificate, when it listens. */
  readonly restFingerprint: string | undefined;
}

/**
 * Starts configd in the order of the file header and resolves once gRPC (and, when set, the metrics
 * and REST listeners) listen. Bad options reject with `ConfigdError` `invalid-argument`, an address
 * that cannot be bound with `unavailable`, each after closing what had been opened.
 */
export async function createConfigd(input: ConfigdOptions): Promise<Configd> {
  const o = resolveConfigdOptions(input);
  const logger: Logger = o.logger;
  const mirrorDir = join(o.dataDir, 'mirror');
  mkdirSync(mirrorDir, { recursive: true });
  const mirror = LmdbMirror.open({
    path: mirrorDir,
    historyDepth: o.historyDepth,
    maxLogRevisions: o.maxLogRevisions,
    logger: logger.child({ component: 'mirror' }),
  });
  logger.info({ revision: mirror.revision, documents: mirror.documentCount }, 'local mirror opened');
  const replication = new JetStreamLog({
    servers: o.natsServers,
    bucket: o.bucket,
    replicas: o.replicas,
    history: o.historyDepth,
    node: o.node,
    writeTimeoutMs: o.writeTimeoutMs,
    writeDeadlineMs: o.writeDeadlineMs,
    probeIntervalMs: o.probeIntervalMs,
    ...o.natsSecurity,
    logger,
    clock: o.clock,
  });
  replication.start(mirror);
  const store = new DocumentStore({
    node: o.node,
    mirror,
    log: replication,
    validator: o.validator ?? new FwLangValidator(),
    maxDocumentBytes: o.maxDocumentBytes,
    applyWaitMs: o.applyWaitMs,
    readWaitMs: o.readWaitMs,
    logger,
  });
  // Commit-confirmed: pending confirmations are replicated records; this configd's timers roll back expired ones.
  const confirmations = new Confirmations({ node: o.node, store, replication, bucket: o.bucket, logger, clock: o.clock, takeoverMs: o.confirmTakeoverMs });
  // What runs below the servers, stopped in order: on a failed start and on close.
  const closeStores = async (): Promise<void> => {
    await confirmations.close();
    await replication.close();
    await mirror.close();
  };
  confirmations.start();
  const writeStore = confirmingStore(store, confirmations);
  const auth = createAuthenticator(o.tokens);
  if (!auth.open && !o.tls) {
    logger.warn({ listen: o.listen }, 'tokens travel in plain text: --tokens without --tls-cert/--tls-key; anyone on the path can read and replay them');
  }
  if (!o.natsSecurity.auth) logger.warn({ nats: o.natsServers }, 'connecting to NATS without credentials: a NATS server without authorization lets anyone who reaches it bypass tokens and validation (see deploy/nats/)');
  if (auth.open) logger.warn({ listen: o.listen }, 'access is OPEN: no --tokens given, every local client has admin rights (listening on loopback only)');
  const rpcLogger = logger.child({ component: 'rpc' });
  const registry = createMetricsRegistry({ service: 'configd', node: o.node });
  let openStreams = (): number => 0;
  const metrics = createConfigdMetrics(registry, {
    mirrorRevision: () => mirror.revision,
    streamRevision: () => replication.streamLastRevision,
    openWatchStreams: () => openStreams(),
    followerQueue: () => replication.followerQueueStats,
    mirrorQueue: () => mirror.queueStats,
    mirrorSkipped: () => mirror.skippedRecords,
  });
  let server: GrpcServer;
  let firewallApi: FirewallApi | undefined;
  let address: string;
  let port: number;
  try {
    server = createGrpcServer({
      listen: o.listen,
      ...(o.tls ? { tls: o.tls } : {}),
      authenticated: !auth.open,
      // Bounded before a body is read: the token (admit), the method's size, the calls per connection.
      maxReceiveBytes: o.grpcMaxReceiveBytes,
      maxReceiveBytesByMethod: { [DocumentServiceService.import.path]: o.grpcMaxImportBytes },
      maxConcurrentStreams: o.grpcMaxConcurrentStreams,
      admit: tokenAdmission(auth, countingRefusals(toServiceError, metrics), rpcLogger),
      maxSendBytes: o.grpcMaxSendBytes,
      keepaliveTimeMs: o.grpcKeepaliveTimeMs,
      keepaliveTimeoutMs: o.grpcKeepaliveTimeoutMs,
      shutdownGraceMs: o.shutdownGraceMs,
      logger: rpcLogger,
    });
    const rpc = withWriteMetrics(
      createRpcHandlers({ auth, logger: rpcLogger, toServiceError: countingRefusals(toServiceError, metrics), draining: server.draining, forced: server.forced, clock: o.clock }),
      metrics,
      o.clock,
    );
    openStreams = () => rpc.openStreams;
    const serviceLimits: DocumentServiceLimits = {
      ...DEFAULT_DOCUMENT_SERVICE_LIMITS,
      maxConcurrentDiffs: o.maxConcurrentDiffs,
      diff: { ...DEFAULT_DOCUMENT_SERVICE_LIMITS.diff, maxEditDistance: o.diffMaxChangedLines },
      maxWatchesPerToken: o.maxWatchesPerToken,
      maxWatches: o.maxWatches,
    };
    server.addService(DocumentServiceService, createDocumentService(rpc, writeStore, CONFIGD_VERSION, o.clock, createConfirmMethods(rpc, confirmations), serviceLimits));
    firewallApi = new FirewallApi(writeStore);
    server.addService(FirewallServiceService, createFirewallService(rpc, firewallApi, o.clock));
    ({ address, port } = await server.listen());
  } catch (err) {
    await closeStores();
    if (err instanceof GrpcServerError) throw new ConfigdError(err.code, err.message, {}, { cause: err });
    throw new ConfigdError('unavailable', `cannot listen on ${o.listen}: ${(err as Error).message}`, {}, { cause: err });
  }
  const metricsServer = await startOptionalMetricsServer(o.metricsListen, registry, {
    undo: async () => {
      await server.close();
      await closeStores();
    },
    wrap: (err) => new ConfigdError('unavailable', err.message, {}, { cause: err }),
    logger,
  });
  let restServer: RestServer | undefined;
  let restFingerprint: string | undefined;
  let restLogs: LogClient | undefined;
  if (o.restListen !== undefined && firewallApi) {
    try {
      const tls = o.restTls ? { ...o.restTls, generated: false } : await ensureRestCertificate(o.dataDir, o.node);
      restLogs = o.restLogger ? createLogClient({ address: o.restLogger.address, ...(o.restLogger.token ? { token: o.restLogger.token } : {}) }) : undefined;
      restServer = await startRestServer({
        listen: o.restListen,
        cert: tls.cert,
        key: tls.key,
        api: firewallApi,
        store,
        auth,
        ...(restLogs ? { logs: restLogs } : {}),
        logger,
        clock: o.clock,
        version: CONFIGD_VERSION,
      });
      restFingerprint = certificateFingerprint(tls.cert);
      logger.info({ address: restServer.address, fingerprint: restFingerprint, generatedCertificate: tls.generated }, 'serving the Proxmox REST API');
    } catch (err) {
      restLogs?.close();
      await metricsServer?.close();
      await server.close();
      await closeStores();
      if (err instanceof ConfigdError) throw err;
      throw new ConfigdError('unavailable', `cannot serve REST on ${o.restListen}: ${(err as Error).message}`, {}, { cause: err });
    }
  }
  logger.info({ address, tls: Boolean(o.tls), mutualTls: Boolean(o.tls?.ca), tokenCount: o.tokens?.length ?? 0, maxDocumentBytes: store.maxDocumentBytes }, 'configd listening');

  return withCloser(
    {
      address,
      port,
      store,
      replication,
      options: o,
      metrics: registry,
      metricsAddress: metricsServer?.address,
      restAddress: restServer?.address,
      restFingerprint,
    },
    {
      graceMs: o.shutdownGraceMs,
      clock: o.clock,
      logger,
      graceful: async () => {
        logger.info('configd shutting down');
        // Ends watch streams at once, lets unary calls finish within the grace period.
        await restServer?.close();
        restLogs?.close();
        await server.close();
        await metricsServer?.close();
        await closeStores();
        logger.info('configd stopped');
      },
      force: () => server.force(),
    },
  );
}
