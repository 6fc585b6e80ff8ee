/**
 * How a compiled ruleset reaches the kernel: through the netlink planner of packages/nft-netlink
 * (`netlink-applier.ts`, the default: it gets the IR in `compiled` and sends only what changed)
 * or `nft -f -` (`nft-cli-applier.ts`, `--applier nft`, and the netlink applier's fallback for
 * the text of a last-known-good ruleset restored after a restart, when `compiled` is absent).
 */
import type { CompileResult } from '@palisade/fw-compile';

/** What one apply is asked to put in force. */
export interface ApplyInput {
  /**
   * The whole transaction in nft syntax (it replaces only Palisade's own tables). May be a getter
   * that joins it when read: an applier that works from `compiled` should not read it.
   */
  readonly text: string;
  /** The digest of `text`, lower-case hex (a compile's is composed from its pieces: `compile/ruleset-text.ts`). */
  readonly digest: string;
  /** The compiled result `text` was rendered from; absent when restoring from `--data`. */
  readonly compiled?: CompileResult;
  /** Palisade's own tables (those the transaction creates, replaces or deletes). */
  readonly ownTables: readonly { readonly family: string; readonly name: string }[];
}

/** The outcome of a successful apply. A failed one rejects with an `AgentError` (`apply-failed`). */
export interface ApplyResult {
  /** Wall time of the transaction, ms. */
  readonly durationMs: number;
}

/** What the kernel holds of Palisade's own tables, normalised so it can be compared with a digest. */
export interface KernelRuleset {
  /** The listing of Palisade's tables (counter values removed), "" when none exist. */
  readonly text: string;
  /** SHA-256 of `text`. */
  readonly digest: string;
}

/**
 * Puts a ruleset in force atomically: either all of it is in force afterwards or the previous
 * ruleset still is. Implementations never remove anything outside `ownTables`, and never remove
 * those on close (fail-static: the ruleset stays in force when the agent stops).
 */
export interface RulesetApplier {
  /** For logs and status (`nft-cli`, `netlink`, `dry-run`). */
  readonly kind: string;
  /** Applies `input` as one transaction. Aborting `signal` abandons the attempt (the kernel keeps one of the two rulesets). */
  apply(input: ApplyInput, signal?: AbortSignal): Promise<ApplyResult>;
  /** Reads what the kernel holds of `ownTables` now. */
  readCurrent(ownTables: ApplyInput['ownTables'], signal?: AbortSignal): Promise<KernelRuleset>;
  /** Releases what the applier holds open (the netlink socket or relay); never the ruleset. */
  close?(): Promise<void>;
}
