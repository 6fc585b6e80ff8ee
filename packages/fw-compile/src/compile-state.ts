/**
 * The state one compile builds up: the chains and kernel sets written so far, the diagnostics,
 * and the context a user rule is lowered in. Every chain builder takes it as its first argument.
 */
import type { FwDocument } from '@palisade/fw-lang';
import type { Chain, NamedSet, QueueStmt } from '@palisade/nft-ir';
import { DEFAULT_COMPILE_OPTIONS, type CompileCode, type CompileDiagnostic, type CompileOptions, type CompileTree, type NodeFacts } from './compile-types.js';
import type { SetEntryInterval } from './ip.js';
import type { KernelSetMemo } from './kernel-set-memo.js';

/** A `log_ratelimit` as the limit statement before every log statement. */
export interface LimitSpec {
  readonly rate: number;
  readonly per: 'second' | 'minute' | 'hour' | 'day';
  readonly burst: number;
}

/** Where a user rule is lowered: its chain, direction, scope and the documents it resolves names in. */
export interface RuleCtx {
  /** Chain the rule lands in (log prefix). */
  readonly chain: string;
  readonly dir: 'in' | 'out';
  readonly scope: 'host' | 'guest' | 'group';
  readonly from: 'cluster' | 'guest';
  readonly guestDoc?: FwDocument;
  /** vmid for the log prefix (0 for host and groups). */
  readonly logVmid: number;
  /** vmid owning guest IP sets. */
  readonly guestVmid: number;
  readonly path: string;
  /**
   * What ACCEPT becomes (default `accept`): the NFQUEUE statement in the IN chain of a guest
   * with `ips: 1` (spec §6.3.11), also for the security groups that chain jumps to.
   */
  readonly accept?: QueueStmt;
}

/** The mutable state of one compile (one node, one call of `compileNode`). */
export class CompileState {
  readonly opts: Required<CompileOptions>;
  readonly diagnostics: CompileDiagnostic[] = [];
  /** Kernel sets by name; the first registration of a name wins. */
  readonly sets = new Map<string, NamedSet>();
  /** Regular chains by name (base chains are built at the end). */
  readonly chains = new Map<string, Chain>();
  /** Security group chains already created (so that each is built once, recursion included). */
  readonly groupChains = new Set<string>();
  /** Implicit entries added to an IP set, by `<vmid>/<set name>` (management, ipfilter). */
  readonly extraSetEntries = new Map<string, SetEntryInterval[]>();
  /** Stable rule ids per source document, computed once. */
  readonly ruleIdsByDoc = new Map<FwDocument, ReadonlyMap<number, string>>();
  /** Kernel sets of earlier compiles by source (the incremental compiler's); absent = every set built anew. */
  setMemo: KernelSetMemo | undefined;
  /** The cluster's log rate limit, set before any rule is lowered. */
  limit: LimitSpec | undefined;
  readonly cluster: FwDocument | undefined;

  constructor(
    readonly tree: CompileTree,
    readonly facts: NodeFacts,
    options: CompileOptions,
  ) {
    this.opts = { ...DEFAULT_COMPILE_OPTIONS, ...options };
    this.cluster = tree.cluster;
  }

  /** Records a diagnostic once (the same code, message and place are reported one time). */
  diag(code: CompileCode, message: string, path?: string, line?: number): void {
    if (this.diagnostics.some((d) => d.code === code && d.message === message && d.path === path && d.line === line)) return;
    this.diagnostics.push({ code, message, ...(path !== undefined ? { path } : {}), ...(line !== undefined ? { line } : {}) });
  }
}
