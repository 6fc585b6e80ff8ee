/**
 * `RulesetApplier` over netlink (issue #9): the compiled IR goes to `createRulesetApplier` of
 * `@palisade/nft-netlink`, which plans against what it applied last and sends one atomic,
 * generation-guarded batch of only what changed (nothing when the compile is the same). It
 * runs in the agent's `--netns` (the namespace relay). `nft -f` stays as the named fallback
 * for an input without IR: after a restart the agent has only the text of its last-known-good
 * ruleset. Read-back compares the kernel with what this applier put there: while the ruleset
 * generation is the one its own last batch left, the kernel holds exactly that batch's result
 * (a transaction is all or nothing); when the generation moved on, the own tables are read
 * back and compared operand by operand (`drift`).
 */
import { createHash } from 'node:crypto';
import type { Ruleset } from '@palisade/fw-compile';
import { createRulesetApplier, NftNetlinkError, type RulesetApplier as NetlinkPlanner } from '@palisade/nft-netlink';
import { SYSTEM_CLOCK, type Clock } from '@palisade/service-kit';
import { AgentError } from '../errors.js';
import { createNftCliApplier } from './nft-cli-applier.js';
import type { ApplyInput, ApplyResult, KernelRuleset, RulesetApplier } from './ruleset-applier.js';

/**
 * Options of `createNetlinkApplier`; `netns` and `nftBinary` also go to the `nft -f` fallback, so
 * both paths apply in the same namespace.
 */
export interface NetlinkApplierOptions {
  /** Network namespace to apply in; omitted = the agent's own. */
  readonly netns?: string;
  /** The nft binary of the fallback (text-only input) and nothing else. Default `nft`. */
  readonly nftBinary?: string;
  /** Waits at most this long for the kernel's answer to one batch or dump, ms. Default 60,000. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** The netlink applier; `close()` ends its socket (or namespace relay), never the ruleset. */
export interface NetlinkApplier extends RulesetApplier {
  /** What the last apply did (for logs and tests); undefined before the first. */
  readonly lastResult: { readonly result: string; readonly plan: string; readonly messages: number; readonly via: 'netlink' | 'nft' } | undefined;
  close(): Promise<void>;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function agentError(err: unknown): AgentError {
  if (!(err instanceof NftNetlinkError)) return err instanceof AgentError ? err : new AgentError('apply-failed', `netlink apply failed: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
  const unknown = err.code === 'TIMEOUT' || err.code === 'ABORTED';
  const tail = unknown ? 'the outcome is unknown; the next apply replaces the tables whole' : 'the previous ruleset stays in force';
  return new AgentError('apply-failed', `netlink: ${err.message}; ${tail}`, {}, { cause: err });
}

/** Applies through the netlink planner; `nft -f` only for an input without IR. */
export function createNetlinkApplier(o: NetlinkApplierOptions = {}): NetlinkApplier {
  const clock = o.clock ?? SYSTEM_CLOCK;
  const fallback = createNftCliApplier({ ...(o.netns ? { netns: o.netns } : {}), ...(o.nftBinary ? { nftBinary: o.nftBinary } : {}), clock });
  let planner: Promise<NetlinkPlanner> | undefined;
  let closed = false;
  /** The compiled ruleset this applier put in force last, by the digest of its text. */
  let last: { readonly digest: string; readonly ruleset: Ruleset } | undefined;
  let lastResult: NetlinkApplier['lastResult'];

  const open = (): Promise<NetlinkPlanner> => {
    if (closed) return Promise.reject(new AgentError('apply-failed', 'the netlink applier is closed'));
    // a counter in every rule with an origin, as the agent's text has one (`withRuleCounters`)
    planner ??= createRulesetApplier({ ...(o.netns ? { netns: o.netns } : {}), timeoutMs: o.timeoutMs ?? 60_000, lower: { counters: true } }).catch((err: unknown) => {
      planner = undefined;
      throw agentError(err);
    });
    return planner;
  };

  return {
    kind: 'netlink',
    get lastResult() {
      return lastResult;
    },
    async apply(input: ApplyInput, signal?: AbortSignal): Promise<ApplyResult> {
      const started = clock.now();
      const ruleset = input.compiled?.ruleset ?? (last?.digest === input.digest ? last.ruleset : undefined);
      if (ruleset === undefined) {
        // no IR (restored text after a restart): nft -f, the named fallback
        const r = await fallback.apply(input, signal);
        last = undefined;
        lastResult = { result: 'applied', plan: 'full', messages: 0, via: 'nft' };
        return r;
      }
      const p = await open();
      try {
        // the same digest without IR is a repair of drift: replace whole
        const r = await p.apply(ruleset, input.ownTables, { ...(signal ? { signal } : {}), ...(input.compiled === undefined ? { replace: true } : {}) });
        last = { digest: input.digest, ruleset };
        lastResult = { result: r.result, plan: r.plan, messages: r.messages, via: 'netlink' };
        return { durationMs: clock.now() - started };
      } catch (err) {
        last = undefined;
        throw agentError(err);
      }
    },
    async readCurrent(ownTables: ApplyInput['ownTables'], signal?: AbortSignal): Promise<KernelRuleset> {
      const p = last ? await open() : undefined;
      const state = p?.state();
      if (!p || !state || !last) return fallback.readCurrent(ownTables, signal);
      try {
        const generation = await p.session.generation(signal);
        const drift = generation === state.generation ? [] : await p.drift(signal ? { signal } : {});
        const text = drift.length === 0 ? `netlink: the ruleset of digest ${last.digest}\n` : `netlink drift:\n${drift.join('\n')}\n`;
        return { text, digest: sha256(text) };
      } catch (err) {
        throw agentError(err);
      }
    },
    async close() {
      closed = true;
      const p = await planner?.catch(() => undefined);
      planner = undefined;
      await p?.close();
    },
  };
}
