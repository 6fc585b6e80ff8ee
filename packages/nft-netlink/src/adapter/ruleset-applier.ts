/**
 * Applies compiled rulesets to the kernel over netlink: plans against the ruleset it applied
 * last, guards the batch with the ruleset generation read just before (`NFT_MSG_GETGEN`), and
 * sends it as one transaction. When the generation moved on since its own last apply
 * (someone else changed the ruleset) or it has no previous ruleset, it replaces Palisade's
 * tables whole; when the kernel refuses the batch because the generation moved on between
 * reading it and sending (ERESTART), it reads it again and re-plans, a few times.
 */
import type { Ruleset } from '@palisade/fw-compile';
import { createSetIdAllocator } from '../codec/nft-lower.js';
import { planFullReplace, planRuleset, type OwnTable, type PlanSummary, type RulesetPlan } from '../codec/ruleset-plan.js';
import { NftNetlinkError } from '../errors.js';
import { openNftSession, type NftSession, type NftSessionOptions } from './nft-session.js';

/** ERESTART: the batch's NFNL_BATCH_GENID is not the current generation. */
export const ERESTART = 85;

/** What the applier knows about the kernel: the ruleset it applied and the generation after it. */
export interface AppliedState {
  readonly ruleset: Ruleset;
  readonly ownTables: readonly OwnTable[];
  /** The ruleset generation right after that apply. */
  readonly generation: number;
}

/** Options of `createRulesetApplier`. */
export interface RulesetApplierOptions extends NftSessionOptions {
  /** What was applied before (a state file of an earlier process); undefined: nothing known, first apply is a full replace. */
  readonly state?: AppliedState;
  /** Re-plans this many times when the generation moves on while applying. Default 3. */
  readonly maxRetries?: number;
}

/** The outcome of one apply. */
export interface RulesetApplyResult {
  /** `planned`: a dry run found changes (nothing was sent). */
  readonly result: 'applied' | 'unchanged' | 'planned';
  readonly plan: RulesetPlan['kind'];
  readonly reason?: string;
  /** Object messages sent in the batch (0 when unchanged). */
  readonly messages: number;
  readonly bytes: number;
  /** Kernel round trip of the batch, ms (0 when nothing was sent). */
  readonly applyMs: number;
  /** Planning (lowering and encoding excluded), ms. */
  readonly planMs: number;
  readonly summary: PlanSummary;
  /** Attempts the generation guard needed (1 = first try). */
  readonly attempts: number;
  readonly state: AppliedState;
}

export interface RulesetApplier {
  /**
   * Applies `ruleset` (owning `ownTables`), atomically. Rejects with `NftNetlinkError`
   * (`KERNEL_ERROR`: nothing applied, `failed` names the message, for a rule its document and
   * line; `TIMEOUT`/`ABORTED`: outcome unknown, the next apply replaces whole).
   */
  apply(ruleset: Ruleset, ownTables: readonly OwnTable[], options?: { readonly signal?: AbortSignal; readonly dryRun?: boolean }): Promise<RulesetApplyResult>;
  /** The state after the last successful apply. */
  state(): AppliedState | undefined;
  /** The netlink session (generation, dumps), for read-back. */
  readonly session: NftSession;
  close(): Promise<void>;
}

export async function createRulesetApplier(options: RulesetApplierOptions = {}): Promise<RulesetApplier> {
  const session = await openNftSession(options);
  let state = options.state;
  let unknown = false;
  const maxRetries = options.maxRetries ?? 3;

  return {
    session,
    state: () => state,
    async apply(ruleset, ownTables, o = {}) {
      for (let attempt = 1; ; attempt++) {
        const generation = await session.generation(o.signal);
        const t0 = performance.now();
        const plan =
          state === undefined || unknown
            ? planFullReplace(ruleset, ownTables, state === undefined ? 'first apply' : 'outcome of the previous apply unknown')
            : state.generation !== generation
              ? planFullReplace(ruleset, ownTables, `ruleset generation ${generation} is not ${state.generation} (changed by someone else)`)
              : planRuleset(state.ruleset, ruleset, ownTables, createSetIdAllocator());
        const planMs = performance.now() - t0;
        const base = { plan: plan.kind, ...(plan.reason === undefined ? {} : { reason: plan.reason }), planMs, summary: plan.summary, attempts: attempt };
        if (plan.messages.length === 0) {
          state = { ruleset, ownTables, generation };
          return { ...base, result: 'unchanged', messages: 0, bytes: 0, applyMs: 0, state };
        }
        if (o.dryRun) return { ...base, result: 'planned', messages: plan.messages.length, bytes: 0, applyMs: 0, state: state ?? { ruleset, ownTables, generation } };
        try {
          const r = await session.send(plan.messages, { genId: generation, ...(o.signal === undefined ? {} : { signal: o.signal }) });
          state = { ruleset, ownTables, generation: generation + 1 };
          unknown = false;
          return { ...base, result: 'applied', messages: r.messages, bytes: r.bytes, applyMs: r.kernelMs, state };
        } catch (err) {
          if (err instanceof NftNetlinkError && err.code === 'KERNEL_ERROR' && err.errno === ERESTART && attempt <= maxRetries) continue;
          if (err instanceof NftNetlinkError && (err.code === 'TIMEOUT' || err.code === 'ABORTED')) unknown = true;
          throw err;
        }
      }
    },
    close: () => session.close(),
  };
}
