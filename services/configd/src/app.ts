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
import * as grpc from '@grpc/grpc-js';
import { DocumentServiceService, FirewallServiceService } from '@palisade/api';
import { createCloser, formatHostPort, type Closer, type Logger } from '@palisade/service-kit';
import { resolveConfigdOptions, type ConfigdOptions, type ResolvedConfigdOptions } from './options.js';
import { LmdbMirror } from './store/lmdb-mirror.js';
import { JetStreamLog } from './replication/jetstream-log.js';
import { DocumentStore } from './store/document-store.js';
import { FwLangValidator } from './store/document-validator.js';
import { TokenAuthenticator } from './rpc/auth.js';
import { tolerantService, type RpcContext } from './rpc/handler.js';
import { createDocumentService } from './rpc/document-service.js';
import { createFirewallService } from './rpc/firewall-service.js';
import { FirewallApi } from './firewall/firewall-api.js';
import { CONFIGD_VERSION } from './version.js';
import { ConfigdError } from './errors.js';

/** A running configd; `close()` is idempotent, `force()` ends the grace period at once. */
export interface Configd extends Closer {
  /** The bound gRPC address (`host:port`, with the actual port). */
  readonly address: string;
  readonly port: number;
  readonly store: DocumentStore;
  readonly replication: JetStreamLog;
  readonly options: ResolvedConfigdOptions;
}

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
  const auth = new TokenAuthenticator(o.tokens);
  if (auth.open) logger.warn({ listen: o.listen }, 'access is OPEN: no --tokens given, every local client has admin rights (listening on loopback only)');
  const ctx: RpcContext = { auth, logger: logger.child({ component: 'rpc' }), streams: new Set() };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': o.grpcMaxReceiveBytes,
    'grpc.max_send_message_length': o.grpcMaxSendBytes,
    'grpc.keepalive_time_ms': o.grpcKeepaliveTimeMs,
    'grpc.keepalive_timeout_ms': o.grpcKeepaliveTimeoutMs,
  });
  server.addService(tolerantService(DocumentServiceService), createDocumentService(ctx, store, CONFIGD_VERSION));
  server.addService(tolerantService(FirewallServiceService), createFirewallService(ctx, new FirewallApi(store)));
  const credentials = o.tls
    ? grpc.ServerCredentials.createSsl(o.tls.ca ?? null, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], Boolean(o.tls.ca))
    : grpc.ServerCredentials.createInsecure();
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(formatHostPort(o.host, o.port), credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    await replication.close();
    await mirror.close();
    throw new ConfigdError('unavailable', `cannot listen on ${o.listen}: ${(err as Error).message}`, {}, { cause: err });
  }
  const address = formatHostPort(o.host, port);
  logger.info({ address, tls: Boolean(o.tls), mutualTls: Boolean(o.tls?.ca), tokenCount: o.tokens?.length ?? 0, maxDocumentBytes: store.maxDocumentBytes }, 'configd listening');

  const closer = createCloser({
    graceMs: o.shutdownGraceMs,
    clock: o.clock,
    logger,
    graceful: async (forced) => {
      logger.info('configd shutting down');
      for (const ac of ctx.streams) ac.abort();
      // forceShutdown() (at the end of the grace period) ends the wait either way.
      await new Promise<void>((resolve) => {
        forced.addEventListener('abort', () => resolve(), { once: true });
        server.tryShutdown(() => resolve());
      });
      await replication.close();
      await mirror.close();
      logger.info('configd stopped');
    },
    force: () => server.forceShutdown(),
  });
  return {
    address,
    port,
    store,
    replication,
    options: o,
    close: () => closer.close(),
    closed: () => closer.closed(),
    force: () => closer.force(),
    get closing() {
      return closer.closing;
    },
  };
}
