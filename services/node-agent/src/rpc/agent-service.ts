/**
 * `palisade.agent.v1.AgentService` on `--listen`: thin handlers over the reconciler's status
 * and the ruleset in force. Open access, so loopback only (the gRPC kit refuses anything else).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AgentServiceService, type GetAgentStatusResponse, type GetRulesetResponse } from '@palisade/api';
import { KIT_STATUS, TokenAuthenticator, createGrpcServer, createRpcHandlers, createStatusMapper, type GrpcServer } from '@palisade/grpc-kit';
import type { Logger } from '@palisade/service-kit';
import type { Reconciler } from '../apply/reconciler.js';
import type { AgentErrorCode } from '../errors.js';
import type { AgentStatus } from '../state/agent-status.js';

type Permission = 'read';

/** The status as the API sends it. */
export function statusToProto(s: AgentStatus): GetAgentStatusResponse {
  const problem = (p: { path?: string; line?: number; code: string; severity?: string; message: string }) => ({
    path: p.path ?? '',
    line: p.line ?? 0,
    code: p.code,
    severity: p.severity ?? 'error',
    message: p.message,
  });
  return {
    node: s.node,
    appliedRevision: s.appliedRevision,
    rulesetDigest: s.rulesetDigest,
    storeRevision: s.storeRevision,
    inSync: s.inSync,
    connected: s.connected,
    enabled: s.enabled,
    restored: s.restored,
    lastApplyTimeMs: s.lastApply?.atMs ?? 0,
    lastApplyDurationMs: Math.round(s.lastApply?.durationMs ?? 0),
    applyError: s.applyError?.message ?? '',
    applyRetryInMs: s.applyError?.retryInMs ?? 0,
    refusal: s.refusal ? problem(s.refusal) : undefined,
    errors: s.errors.map(problem),
    sysctlFailures: s.sysctlFailures.map((f) => `${f.key}=${f.value}: ${f.message}`),
    hostAddresses: [...s.facts.hostAddresses],
    localNetwork: s.facts.localNetwork ?? '',
    interfaces: [...s.facts.interfaces],
    deadmanAtMs: s.deadmanAtMs ?? 0,
    dryRun: s.dryRun,
    applier: s.applier,
    compiles: s.counters.compiles,
    applies: s.counters.applies,
    applyFailures: s.counters.applyFailures,
    skippedIdentical: s.counters.skippedIdentical,
    driftRepairs: s.counters.driftRepairs,
  };
}

const STATUS_OF: Record<AgentErrorCode | keyof typeof KIT_STATUS, GrpcStatus> = {
  ...KIT_STATUS,
  'apply-failed': GrpcStatus.FAILED_PRECONDITION,
  'state-failed': GrpcStatus.INTERNAL,
};

/** Starts the API server on `listen`; resolves with the bound address. */
export async function startAgentApi(o: { listen: string; reconciler: Reconciler; logger: Logger }): Promise<{ server: GrpcServer; address: string }> {
  const logger = o.logger.child({ component: 'agent-api' });
  const server = createGrpcServer({ listen: o.listen, authenticated: false, logger });
  const auth = new TokenAuthenticator<never, Permission>(undefined, {});
  const h = createRpcHandlers({ auth, logger, toServiceError: createStatusMapper<AgentErrorCode>({ statusOf: STATUS_OF }), draining: server.draining, forced: server.forced });
  server.addService(AgentServiceService, {
    getStatus: h.unary('read', () => statusToProto(o.reconciler.status())),
    getRuleset: h.unary('read', (): GetRulesetResponse => {
      const r = o.reconciler.ruleset();
      return { nftText: r.text, rulesetDigest: r.digest, appliedRevision: r.revision };
    }),
  });
  const { address } = await server.listen();
  return { server, address };
}
