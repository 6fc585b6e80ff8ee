/**
 * `palisade.agent.v1.AgentService` on `--listen`: thin handlers over the reconciler's status,
 * the ruleset in force, simulate and counters against it, and flush. Without `--api-tokens`
 * access is open, so loopback only (the gRPC kit refuses anything else); with tokens (the
 * tokens file format of configd) every role reads and only `admin` may flush.
 */
import type { LogPipelineStats } from '../logs/log-ingest.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  AgentServiceService,
  ERROR_DETAIL_METADATA_KEY,
  ErrorDetail,
  errorDetailOf,
  type AgentPendingConfirmation,
  type AgentSimulateCase,
  type GetAgentStatusResponse,
  type GetRulesetResponse,
} from '@palisade/api';
import { KIT_STATUS, TokenAuthenticator, createGrpcServer, createRpcHandlers, createStatusMapper, parseTokensFile, type GrpcServer, type TokenEntry } from '@palisade/grpc-kit';
import type { Logger } from '@palisade/service-kit';
import type { Reconciler } from '../apply/reconciler.js';
import { AgentError, type AgentErrorCode } from '../errors.js';
import { readRuleCounters } from '../inspect/rule-counters.js';
import { caseOf, simulateInForce } from '../inspect/simulate-in-force.js';
import type { AgentStatus } from '../state/agent-status.js';

/** Roles of the agent API's tokens: configd's, so one tokens file can serve both. */
export const AGENT_API_ROLES = ['admin', 'reader', 'agent'] as const;
/** One of {@link AGENT_API_ROLES}. */
export type AgentApiRole = (typeof AGENT_API_ROLES)[number];
type Permission = 'read' | 'flush';
const ROLE_PERMISSIONS: Record<AgentApiRole, readonly Permission[]> = { admin: ['read', 'flush'], reader: ['read'], agent: ['read'] };

/** Parses an `--api-tokens` file (`name role secret` per line); throws naming the line of a problem. */
export function parseAgentApiTokens(text: string, source: string): TokenEntry<AgentApiRole>[] {
  return parseTokensFile(text, AGENT_API_ROLES, source);
}

/** What the status adds from configd: the node's changes waiting for confirmation. */
export type ConfirmationsSource = () => Promise<AgentPendingConfirmation[]>;

/** The status as the API sends it. */
export function statusToProto(s: AgentStatus, confirmations: { pending: AgentPendingConfirmation[]; error: string } = { pending: [], error: '' }): GetAgentStatusResponse {
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
    applyRetryInMs: s.applyError?.retryInMs ?? s.refusal?.retryInMs ?? 0,
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
    confirmations: confirmations.pending,
    confirmationsError: confirmations.error,
    flushed: s.flushed,
    logs: s.logs
      ? {
          nflogGroup: s.logs.group,
          listening: s.logs.listening,
          natsConnected: s.logs.natsConnected,
          received: s.logs.received,
          published: s.logs.published,
          spooled: s.logs.spooled,
          spoolPending: s.logs.spoolPending,
          lostKernel: s.logs.lostKernel,
          enobufs: s.logs.enobufs,
          lostSpool: s.logs.lostSpool,
          decodeErrors: s.logs.decodeErrors,
        }
      : undefined,
  };
}

const STATUS_OF: Record<AgentErrorCode | keyof typeof KIT_STATUS, GrpcStatus> = {
  ...KIT_STATUS,
  'apply-failed': GrpcStatus.FAILED_PRECONDITION,
  'state-failed': GrpcStatus.INTERNAL,
};

/** Agent errors as gRPC statuses with the typed `ErrorDetail` trailer `@palisade/api` clients decode (code only). */
const TO_SERVICE_ERROR = createStatusMapper<AgentErrorCode>({
  statusOf: STATUS_OF,
  trailer: (e) => ({ [ERROR_DETAIL_METADATA_KEY]: Buffer.from(ErrorDetail.encode(errorDetailOf(e.code)).finish()) }),
});

/** Options of {@link startAgentApi}. */
export interface AgentApiOptions {
  readonly listen: string;
  readonly reconciler: Reconciler;
  readonly logger: Logger;
  /** Tokens of the API; undefined = open access (loopback only). */
  readonly tokens?: readonly TokenEntry<AgentApiRole>[];
  /** Where counters are read (the agent's `--netns`). */
  readonly netns?: string;
  /** The node's pending confirmations (asked at each status call). */
  readonly confirmations?: ConfirmationsSource;
  /** The log capture's counters (with `--nats`). */
  readonly logs?: () => LogPipelineStats;
}

const notCompiled = (): AgentError =>
  new AgentError('unavailable', 'no compiled ruleset in force yet (restored from --data, waiting for configd, or flushed): try again once the agent has applied the store');

/** Starts the API server on `listen`; resolves with the bound address. */
export async function startAgentApi(o: AgentApiOptions): Promise<{ server: GrpcServer; address: string }> {
  const logger = o.logger.child({ component: 'agent-api' });
  const server = createGrpcServer({ listen: o.listen, authenticated: o.tokens !== undefined, logger });
  const auth = new TokenAuthenticator<AgentApiRole, Permission>(o.tokens, ROLE_PERMISSIONS);
  const h = createRpcHandlers({ auth, logger, toServiceError: TO_SERVICE_ERROR, draining: server.draining, forced: server.forced });
  const rec = o.reconciler;
  server.addService(AgentServiceService, {
    getStatus: h.unary('read', async () => {
      let confirmations = { pending: [] as AgentPendingConfirmation[], error: '' };
      if (o.confirmations) {
        try {
          confirmations = { pending: await o.confirmations(), error: '' };
        } catch (err) {
          confirmations = { pending: [], error: err instanceof Error ? err.message : String(err) };
        }
      }
      return statusToProto(o.logs ? { ...rec.status(), logs: o.logs() } : rec.status(), confirmations);
    }),
    getRuleset: h.unary('read', (): GetRulesetResponse => {
      const r = rec.ruleset();
      return { nftText: r.text, rulesetDigest: r.digest, appliedRevision: r.revision };
    }),
    simulate: h.unary('read', (req: { cases: AgentSimulateCase[] }) => {
      const compiled = rec.compiledInForce();
      if (!compiled) throw notCompiled();
      if (req.cases.length === 0 || req.cases.length > 10_000) throw new AgentError('invalid-argument', `give 1 to 10000 cases, got ${req.cases.length}`);
      const r = rec.ruleset();
      return { results: simulateInForce(compiled, req.cases.map(caseOf)), appliedRevision: r.revision, rulesetDigest: r.digest };
    }),
    getCounters: h.unary('read', async (_req, ctx) => {
      const compiled = rec.compiledInForce();
      if (!compiled) throw notCompiled();
      const revision = rec.ruleset().revision;
      return { counters: await readRuleCounters(compiled, o.netns, ctx.signal), appliedRevision: revision };
    }),
    flush: h.unary('flush', async (_req, ctx) => {
      logger.warn({ caller: ctx.principal.name }, 'flush requested');
      return { removedTables: await rec.flush(ctx.signal) };
    }),
  });
  const { address } = await server.listen();
  return { server, address };
}
