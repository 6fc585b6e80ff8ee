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
import type { Logger } from 'pino';
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

/** A running configd. */
export interface Configd {
  /** The bound gRPC address (`host:port`, with the actual port). */
  readonly address: string;
  readonly port: number;
  readonly store: DocumentStore;
  readonly replication: JetStreamLog;
  readonly options: ResolvedConfigdOptions;
  /** Graceful shutdown, forced after the grace period. Idempotent. */
  close(): Promise<void>;
  /** Resolves when closed. */
  closed(): Promise<void>;
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
  });
  replication.start(mirror);
  const store = new DocumentStore({
    node: o.node,
    mirror,
    log: replication,
    validator: o.validator ?? new FwLangValidator(),
    maxDocumentBytes: o.maxDocumentBytes,
    applyWaitMs: 2000,
    readWaitMs: 5000,
    logger,
  });
  const auth = new TokenAuthenticator(o.tokens);
  if (auth.open) logger.warn({ listen: o.listen }, 'access is OPEN: no --tokens given, every local client has admin rights (listening on loopback only)');
  const ctx: RpcContext = { auth, logger: logger.child({ component: 'rpc' }), streams: new Set() };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': Math.max(64 * 1024 * 1024, o.maxDocumentBytes * 4),
    'grpc.max_send_message_length': Math.max(256 * 1024 * 1024, o.maxDocumentBytes * 4),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  server.addService(tolerantService(DocumentServiceService), createDocumentService(ctx, store, CONFIGD_VERSION));
  server.addService(tolerantService(FirewallServiceService), createFirewallService(ctx, new FirewallApi(store)));
  const credentials = o.tls
    ? grpc.ServerCredentials.createSsl(o.tls.ca ?? null, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], Boolean(o.tls.ca))
    : grpc.ServerCredentials.createInsecure();
  const bindHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${bindHost}:${o.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    await replication.close();
    await mirror.close();
    throw new ConfigdError('unavailable', `cannot listen on ${o.listen}: ${(err as Error).message}`, {}, { cause: err });
  }
  const address = `${bindHost}:${port}`;
  logger.info({ address, tls: Boolean(o.tls), mutualTls: Boolean(o.tls?.ca), tokenCount: o.tokens?.length ?? 0, maxDocumentBytes: store.maxDocumentBytes }, 'configd listening');

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closedP = new Promise<void>((r) => (resolveClosed = r));
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('configd shutting down');
      for (const ac of ctx.streams) ac.abort();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.warn('grace period over; forcing gRPC shutdown');
          server.forceShutdown();
          resolve();
        }, o.shutdownGraceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await replication.close();
      await mirror.close();
      logger.info('configd stopped');
      resolveClosed();
    })();
    return closing;
  };
  return { address, port, store, replication, options: o, close, closed: () => closedP };
}
