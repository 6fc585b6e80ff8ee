/**
 * Wires the node agent and owns its start/stop order.
 *
 * Start: restore the last-known-good ruleset from `--data` (before configd is asked anything),
 * read the node's facts and follow their changes, then follow configd; the first compile waits
 * for the store's snapshot, so a partial view never reaches the kernel.
 * Stop: end the watch, stop the facts monitor, let a running apply finish. The ruleset in force
 * stays in force (fail-static): nothing is removed on stop.
 */
import { createConfigClient, type AgentPendingConfirmation, type ConfigClient } from '@palisade/api';
import { createMetricsRegistry, withCloser, startMetricsServer, type Closable, type MetricsServer } from '@palisade/service-kit';
import { createNetlinkApplier } from './apply/netlink-applier.js';
import { createDryRunApplier, createNftCliApplier } from './apply/nft-cli-applier.js';
import { createReconciler, type Reconciler } from './apply/reconciler.js';
import { createRulesetMonitor } from './apply/ruleset-monitor.js';
import { createAddressFacts } from './facts/address-facts.js';
import { NodeDocuments } from './follow/node-documents.js';
import { createStoreFollower } from './follow/store-follower.js';
import { startAgentApi } from './rpc/agent-service.js';
import { resolveAgentOptions, type AgentOptions } from './options.js';
import type { AgentStatus } from './state/agent-status.js';
import { createAgentMetrics } from './state/agent-metrics.js';
import { LogIngest } from './logs/log-ingest.js';
import { createStateFile } from './state/state-file.js';

/** configd's pending confirmations of this node's documents (for the status), within 2 s. */
async function pendingConfirmations(client: ConfigClient, documents: NodeDocuments): Promise<AgentPendingConfirmation[]> {
  const r = await client.call('listConfirmations', {}, AbortSignal.timeout(2000));
  return r.pending
    .filter((p) => documents.isInput(p.path))
    .map((p) => ({ path: p.path, changeRevision: p.changeRevision, deadlineMs: p.deadlineMs, state: p.state, author: p.author }));
}

/** A running agent: follows configd, keeps the node's ruleset in the kernel; `close()` leaves that ruleset in force. */
export interface NodeAgent extends Closable {
  /** Bound address of the agent API (`host:port`), undefined without one. */
  readonly apiAddress: string | undefined;
  /** Bound address of the metrics endpoint, undefined without one. */
  readonly metricsAddress: string | undefined;
  /** The status snapshot (a copy). */
  status(): AgentStatus;
  /** Resolves when no compile/apply is pending or running (tests). */
  idle(): Promise<void>;
  /** Forces the shutdown (second signal). */
  force(): void;
}

/** Starts an agent. Rejects on invalid options; a missing configd is not an error (it is followed when it comes). */
export async function createNodeAgent(options: AgentOptions): Promise<NodeAgent> {
  const o = resolveAgentOptions(options);
  const logger = o.logger.child({ component: 'agent' });
  const applier = o.dryRun
    ? createDryRunApplier()
    : (o.applier ?? (o.applierKind === 'nft' ? createNftCliApplier({ ...(o.netns ? { netns: o.netns } : {}), clock: o.clock }) : createNetlinkApplier({ ...(o.netns ? { netns: o.netns } : {}), clock: o.clock })));
  // an applier the agent made is the agent's to close (its socket or relay; the ruleset stays)
  const ownApplier = !o.dryRun && o.applier === undefined;
  const documents = new NodeDocuments(o.node);
  const registry = o.metrics !== undefined ? createMetricsRegistry({ service: 'node-agent', node: o.node }) : undefined;
  // Log capture (`--nats`): NFLOG of the log rules' group in the target namespace → JetStream.
  const logs =
    o.nats !== undefined && o.nats.length > 0 && !o.dryRun
      ? new LogIngest({ node: o.node, group: o.nflogGroup, ...(o.netns ? { netns: o.netns } : {}), servers: o.nats, ...(o.natsSecurity ? { security: o.natsSecurity } : {}), clock: o.clock, logger: o.logger, interfaceName: (index) => facts.linkName(index), ...(registry ? { registry } : {}), publisher: { maxEntriesPerMessage: o.logBatchEntries } })
      : undefined;
  const rec: Reconciler = createReconciler({
    ...(logs ? { onApplied: (r) => logs.rulesetApplied(r) } : {}),
    ...(registry ? { metrics: createAgentMetrics(registry, () => rec.status()) } : {}),
    node: o.node,
    documents,
    facts: () => facts.current,
    applier,
    ...(o.dryRun ? {} : { stateFile: createStateFile(o.dataDir) }),
    ...(o.netns ? { netns: o.netns } : {}),
    dryRun: o.dryRun,
    logGroup: o.nflogGroup,
    clock: o.clock,
    logger: o.logger,
    quietMs: o.quietMs,
    maxDelayMs: o.maxDelayMs,
    retryInitialMs: o.retryInitialMs,
    retryMaxMs: o.retryMaxMs,
  });
  const facts = createAddressFacts({ ...(o.netns ? { netns: o.netns } : {}), clock: o.clock, logger: o.logger, onChange: () => rec.changed() });
  try {
    await logs?.start();
  } catch (err) {
    logger.error({ err, group: o.nflogGroup }, 'cannot capture firewall log entries; the ruleset is applied regardless');
  }
  try {
    await rec.restore();
  } catch (err) {
    logger.error({ err }, 'cannot restore the last-known-good ruleset; the kernel keeps what it holds until configd answers');
  }
  try {
    await facts.start();
  } catch (err) {
    logger.error({ err }, 'cannot read node facts; compiling with the addresses from corosync.conf');
  }
  const rulesetMonitor = o.dryRun ? undefined : createRulesetMonitor({ ...(o.netns ? { netns: o.netns } : {}), clock: o.clock, logger: o.logger, intervalMs: o.driftCheckMs, onChange: () => rec.suspectDrift() });
  rulesetMonitor?.start();
  const ownClient = o.client === undefined;
  const client: ConfigClient =
    o.client ?? createConfigClient({ address: o.configd, ...(o.token !== undefined ? { token: o.token } : {}), ...(o.tls ? { tls: o.tls } : {}) });
  const follower = createStoreFollower({
    client,
    node: o.node,
    documents,
    reconciler: rec,
    logger: o.logger,
    backoffInitialMs: o.reconnectInitialMs,
    backoffMaxMs: o.reconnectMaxMs,
  });
  follower.start();
  // What runs below the API and the metrics endpoint, stopped in order: on a failed start and on close.
  const stopParts = async (): Promise<void> => {
    await follower.close();
    await facts.close();
    await rulesetMonitor?.close();
    await rec.close();
    if (ownApplier) await applier.close?.();
    await logs?.close();
    if (ownClient) client.close();
  };
  let api: Awaited<ReturnType<typeof startAgentApi>> | undefined;
  if (o.listen !== false) {
    try {
      api = await startAgentApi({
        listen: o.listen,
        reconciler: rec,
        logger: o.logger,
        ...(o.apiTokens ? { tokens: o.apiTokens } : {}),
        ...(o.netns ? { netns: o.netns } : {}),
        confirmations: () => pendingConfirmations(client, documents),
        ...(logs ? { logs: () => logs.stats } : {}),
      });
    } catch (err) {
      await stopParts();
      throw err;
    }
  }
  let metricsServer: MetricsServer | undefined;
  if (registry && o.metrics !== undefined) {
    try {
      metricsServer = await startMetricsServer(o.metrics, registry);
    } catch (err) {
      await api?.server.close();
      await stopParts();
      throw err;
    }
  }
  logger.info({ metrics: metricsServer?.address ?? null, netns: o.netns ?? null, configd: o.configd, listen: api?.address ?? null, dryRun: o.dryRun, applier: applier.kind }, 'node agent started');

  return withCloser(
    {
      apiAddress: api?.address,
      metricsAddress: metricsServer?.address,
      status: () => (logs ? { ...rec.status(), logs: logs.stats } : rec.status()),
      idle: () => rec.idle(),
    },
    {
      graceMs: o.shutdownGraceMs,
      clock: o.clock,
      logger,
      graceful: async () => {
        await metricsServer?.close();
        await api?.server.close();
        await stopParts();
        logger.info({ appliedRevision: rec.status().appliedRevision }, 'node agent stopped; the ruleset stays in force');
      },
      force: () => {
        api?.server.force();
        if (ownClient) client.close();
      },
    },
  );
}
