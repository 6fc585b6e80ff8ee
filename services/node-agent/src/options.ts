/** Options of the node agent, their defaults and how they are checked. */
import type { NatsSecurity } from '@palisade/nats-kit';
import type { ConfigClient } from '@palisade/api';
import { DEFAULT_LOG_GROUP } from '@palisade/fw-compile';
import { LOG_BATCH_MAX_ENTRIES } from '@palisade/log-model';
import { SYSTEM_CLOCK, parseHostPort, type Clock, type Logger } from '@palisade/service-kit';
import type { RulesetApplier } from './apply/ruleset-applier.js';
import { AgentError } from './errors.js';
import { LOG_PUBLISHER_DEFAULTS } from './logs/log-publisher.js';
import type { TokenEntry } from '@palisade/grpc-kit';
import type { AgentApiRole } from './rpc/agent-service.js';

/** The agent's defaults: what `resolveAgentOptions` fills in for an option not given. */
export const AGENT_DEFAULTS = {
  configd: '127.0.0.1:7400',
  listen: '127.0.0.1:7401',
  /** NFLOG group of the log rules: the compiler's default (not pvefw-logger's 0). */
  nflogGroup: DEFAULT_LOG_GROUP,
  /** Log entries one JetStream message holds at most (1: one entry per message, the form loggers before batches read). */
  logBatchEntries: LOG_PUBLISHER_DEFAULTS.maxEntriesPerMessage,
  /** Coalescing: apply this long after the last change, ms. */
  quietMs: 5,
  /** Coalescing: apply at least this often during a stream of changes, ms. */
  maxDelayMs: 100,
  /** Retry of a failed apply: first delay and largest delay, ms. */
  retryInitialMs: 200,
  retryMaxMs: 10_000,
  /** configd reconnect backoff, ms. */
  reconnectInitialMs: 100,
  reconnectMaxMs: 5_000,
  shutdownGraceMs: 5_000,
  /** Drift check: the kernel's ruleset generation is read this often, ms (a change by anyone else triggers a compare). */
  driftCheckMs: 1_000,
  applierKind: 'netlink',
} as const;

/** The agent's input: its options as `main` reads them from argv and the environment (only `node` is required). */
export interface AgentOptions {
  /** This node's name (`nodes/<name>/`). */
  readonly node: string;
  /** `host:port` of configd. Default 127.0.0.1:7400. */
  readonly configd?: string;
  readonly token?: string;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** State directory (last-known-good ruleset). */
  readonly dataDir: string;
  /** Network namespace to apply to and read facts from; omitted = the agent's own. */
  readonly netns?: string;
  /** Agent API address (`host:port`, loopback only: open access); `false`: no API. Default 127.0.0.1:7401. */
  readonly listen?: string | false;
  /** Prometheus endpoint (`host:port`, GET /metrics); omitted: none. */
  readonly metrics?: string;
  /** Tokens of the agent API (`--api-tokens`, configd's file format); omitted: open access, loopback only. */
  readonly apiTokens?: readonly TokenEntry<AgentApiRole>[];
  /**
   * NATS servers where log entries go (`--nats URL[,URL…]`): with them the agent captures the
   * NFLOG group in its namespace and publishes to JetStream; omitted: no log capture.
   */
  readonly nats?: readonly string[];
  /** Credentials and CA for `nats` (`--nats-user`/`--nats-password-file`, `--nats-creds`, `--nats-token-file`, `--nats-ca`). */
  readonly natsSecurity?: NatsSecurity;
  /** NFLOG group of the log rules (and of the log capture). Default {@link DEFAULT_LOG_GROUP} (7401). */
  readonly nflogGroup?: number;
  /** Log entries per JetStream message (`--log-batch-entries`), 1–{@link LOG_BATCH_MAX_ENTRIES}. Default 256. */
  readonly logBatchEntries?: number;
  /** Compile and report, never touch the kernel (nor write state). */
  readonly dryRun?: boolean;
  /**
   * How rulesets reach the kernel: `netlink` (default: the nft-netlink planner, only what
   * changed; `nft -f` only for a restored text without IR) or `nft` (`nft -f -` of the whole text).
   */
  readonly applierKind?: 'netlink' | 'nft';
  readonly quietMs?: number;
  readonly maxDelayMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  readonly shutdownGraceMs?: number;
  /** Time between two reads of the kernel's ruleset generation (drift check), ms. Default 1,000. */
  readonly driftCheckMs?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Replaces the `nft -f -` applier (a netlink planner; tests). Ignored with `dryRun`. */
  readonly applier?: RulesetApplier;
  /** Replaces the configd client built from `configd`/`token`/`tls` (tests). */
  readonly client?: ConfigClient;
}

/** The options with every default filled in (`resolveAgentOptions`); what has no default stays optional. */
export type ResolvedAgentOptions = Required<Omit<AgentOptions, 'token' | 'tls' | 'netns' | 'applier' | 'client' | 'listen' | 'metrics' | 'nats' | 'natsSecurity' | 'apiTokens'>> & { readonly listen: string | false } &
  Pick<AgentOptions, 'token' | 'tls' | 'netns' | 'applier' | 'client' | 'metrics' | 'nats' | 'natsSecurity' | 'apiTokens'>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

/** Fills defaults and rejects what cannot work, naming the option. */
export function resolveAgentOptions(o: AgentOptions): ResolvedAgentOptions {
  const bad = (field: string, message: string): never => {
    throw new AgentError('invalid-argument', `${field}: ${message}`, { field });
  };
  if (!NAME.test(o.node)) bad('node', `'${o.node}' is not a node name`);
  if (!o.dataDir) bad('data', 'a state directory is required');
  if (o.netns !== undefined && !NAME.test(o.netns)) bad('netns', `'${o.netns}' is not a namespace name`);
  if (o.applierKind !== undefined && o.applierKind !== 'netlink' && o.applierKind !== 'nft') bad('applier', `expected netlink or nft, got '${String(o.applierKind)}'`);
  const r = { ...AGENT_DEFAULTS, dryRun: false, clock: SYSTEM_CLOCK, ...stripUndefined(o) } as ResolvedAgentOptions;
  parseHostPort(r.configd, 'configd');
  if (r.listen !== false) parseHostPort(r.listen, 'listen');
  if (r.metrics !== undefined) parseHostPort(r.metrics, 'metrics');
  for (const url of r.nats ?? []) if (!/^(nats|tls):\/\/[^\s/]+$/.test(url)) bad('nats', `'${url}' is not a NATS URL (nats://HOST:PORT)`);
  if (!Number.isInteger(r.nflogGroup) || r.nflogGroup < 0 || r.nflogGroup > 65535) bad('nflog-group', `expected 0..65535, got ${r.nflogGroup}`);
  if (!Number.isSafeInteger(r.logBatchEntries) || r.logBatchEntries < 1 || r.logBatchEntries > LOG_BATCH_MAX_ENTRIES) bad('log-batch-entries', `expected 1..${LOG_BATCH_MAX_ENTRIES}, got ${r.logBatchEntries}`);
  if (r.quietMs > r.maxDelayMs) bad('quietMs', `quietMs (${r.quietMs}) must not exceed maxDelayMs (${r.maxDelayMs})`);
  if (!(r.driftCheckMs >= 10)) bad('driftCheckMs', `expected at least 10 ms, got ${r.driftCheckMs}`);
  if (r.retryInitialMs > r.retryMaxMs) bad('retryInitialMs', `retryInitialMs (${r.retryInitialMs}) must not exceed retryMaxMs (${r.retryMaxMs})`);
  if (o.tls && (Boolean(o.tls.cert) !== Boolean(o.tls.key))) bad('tls', 'a client certificate and its key go together');
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
