/** The status snapshot the agent keeps (logged on each apply; served by the agent API later). */
import type { LogPipelineStats } from '../logs/log-ingest.js';
import type { DocumentProblem } from '../compile/node-compiler.js';
import type { SysctlFailure } from '../apply/sysctls.js';

/**
 * The agent's state as the reconciler keeps it, a snapshot per `status()` call; times are ms since
 * the epoch.
 */
export interface AgentStatus {
  readonly node: string;
  readonly dryRun: boolean;
  /** The applier in use (`nft-cli`, `dry-run`, …). */
  readonly applier: string;
  /** Store revision the ruleset in force was compiled from (0: none yet). */
  readonly appliedRevision: number;
  /** SHA-256 of the ruleset in force ("" when none). */
  readonly rulesetDigest: string;
  /** Latest store revision seen. */
  readonly storeRevision: number;
  /** Whether the agent has the store's current documents (a snapshot arrived). */
  readonly inSync: boolean;
  /** Whether the watch stream to configd is up. */
  readonly connected: boolean;
  /** Whether the cluster firewall is enabled in the ruleset in force. */
  readonly enabled: boolean;
  /** How the ruleset got in force at start: restored from `--data`, already in the kernel, or none. */
  readonly restored: 'none' | 'applied' | 'kernel-already-holds';
  /** Palisade's tables were removed on request (`palisade agent flush`) and stay removed until a document changes. */
  readonly flushed: boolean;
  readonly lastApply?: { readonly atMs: number; readonly durationMs: number; readonly revision: number };
  /** The last failure to apply (cleared by a successful apply), with the next retry. */
  readonly applyError?: { readonly message: string; readonly atMs: number; readonly retryInMs: number };
  /** Why the latest configuration was not compiled at all (the previous ruleset stays). */
  readonly refusal?: { readonly code: string; readonly message: string; readonly path?: string; readonly line?: number; readonly retryInMs?: number };
  /** Rules skipped and other document problems of the latest compile, document:line. */
  readonly errors: readonly DocumentProblem[];
  readonly sysctlFailures: readonly SysctlFailure[];
  /** The facts the latest compile used. */
  readonly facts: { readonly hostAddresses: readonly string[]; readonly localNetwork?: string; readonly interfaces: readonly string[] };
  /** When the dead-man switch disables the firewall unless `enable: 1` is written, ms since the epoch. */
  readonly deadmanAtMs?: number;
  /** `driftRepairs`: times Palisade's tables were found changed outside the agent and applied again. */
  readonly counters: { readonly compiles: number; readonly applies: number; readonly applyFailures: number; readonly skippedIdentical: number; readonly driftRepairs: number };
  /** The log capture's counters (with `--nats`). */
  readonly logs?: LogPipelineStats;
}
