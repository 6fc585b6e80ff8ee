/**
 * `RulesetApplier` through the nft command: `nft -f -` reads the whole transaction from stdin
 * and commits it as one netlink batch (all or nothing), inside the target namespace when one is
 * given (`ip netns exec NS nft -f -`).
 */
import { createHash } from 'node:crypto';
import { SYSTEM_CLOCK, type Clock } from '@palisade/service-kit';
import { AgentError } from '../errors.js';
import { inNetns, runCommand } from './run-command.js';
import type { ApplyInput, ApplyResult, KernelRuleset, RulesetApplier } from './ruleset-applier.js';

/** Options of `createNftCliApplier` (also the netlink applier's fallback for text without IR). */
export interface NftCliApplierOptions {
  /** Network namespace to apply in; omitted = the agent's own. */
  readonly netns?: string;
  /** The nft binary. Default `nft`. */
  readonly nftBinary?: string;
  readonly clock?: Clock;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Extracts the blocks of `ownTables` from an `nft list ruleset` listing, counter values
 * replaced by zero (they change with traffic, the ruleset does not).
 */
export function ownTablesListing(listing: string, ownTables: ApplyInput['ownTables']): string {
  const wanted = new Set(ownTables.map((t) => `table ${t.family} ${t.name} {`));
  const lines = listing.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (!inside && wanted.has(line)) inside = true;
    if (inside) out.push(line.replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0'));
    if (inside && line === '}') inside = false;
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Applies with `nft -f -`; reads back with `nft list ruleset`. */
export function createNftCliApplier(o: NftCliApplierOptions = {}): RulesetApplier {
  const nft = o.nftBinary ?? 'nft';
  const clock = o.clock ?? SYSTEM_CLOCK;
  const readCurrent = async (ownTables: ApplyInput['ownTables'], signal?: AbortSignal): Promise<KernelRuleset> => {
    const r = await runCommand(inNetns(o.netns, [nft, 'list', 'ruleset']), { ...(signal ? { signal } : {}) });
    if (r.exitCode !== 0) {
      throw new AgentError('apply-failed', `nft list ruleset failed (exit ${r.exitCode}): ${r.stderr.trim()}`, { exitCode: r.exitCode, stderr: r.stderr });
    }
    const text = ownTablesListing(r.stdout, ownTables);
    return { text, digest: sha256(text) };
  };
  return {
    kind: 'nft-cli',
    async apply(input: ApplyInput, signal?: AbortSignal): Promise<ApplyResult> {
      const started = clock.now();
      const r = await runCommand(inNetns(o.netns, [nft, '-f', '-']), { input: input.text, ...(signal ? { signal } : {}) });
      if (r.exitCode !== 0) {
        throw new AgentError('apply-failed', `nft -f - refused the ruleset (exit ${r.exitCode}); the previous ruleset stays in force: ${r.stderr.trim().slice(0, 2000)}`, {
          exitCode: r.exitCode,
          stderr: r.stderr,
        });
      }
      return { durationMs: clock.now() - started };
    },
    readCurrent,
  };
}

/** `--dry-run`: never touches the kernel; reports what it would have applied. */
export function createDryRunApplier(): RulesetApplier & { readonly last: ApplyInput | undefined } {
  let last: ApplyInput | undefined;
  return {
    kind: 'dry-run',
    get last() {
      return last;
    },
    apply(input) {
      last = input;
      return Promise.resolve({ durationMs: 0 });
    },
    readCurrent() {
      return Promise.resolve({ text: '', digest: sha256('') });
    },
  };
}
