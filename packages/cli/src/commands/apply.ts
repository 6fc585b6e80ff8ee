import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { Ruleset } from '@palisade/fw-compile';
import { createRulesetApplier, NftNetlinkError, type AppliedState, type RulesetApplyResult } from '@palisade/nft-netlink';
import { CliExit, EXIT } from '../exit.js';
import { addNodeOptions, compileFromFlags, reportCompileDiagnostics, type NodeCompileFlags } from '../node-compile.js';
import type { RegisterCommand } from '../command.js';

interface ApplyFlags extends NodeCompileFlags {
  readonly netns?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly state?: string;
}

/** Where `palisade apply` keeps what it applied (per namespace), unless `--state` says otherwise. */
export const DEFAULT_APPLY_STATE_DIR = '/run/palisade';

// The state file holds the applied IR; its address intervals are bigints.
const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? { $bigint: v.toString() } : v);
const reviver = (_k: string, v: unknown): unknown =>
  v && typeof v === 'object' && '$bigint' in v && typeof (v).$bigint === 'string' ? BigInt((v as { $bigint: string }).$bigint) : v;

async function readState(file: string): Promise<AppliedState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined; // no state: the first apply replaces Palisade's tables whole
  }
  try {
    const s = JSON.parse(text, reviver) as { version?: number; ruleset?: Ruleset; ownTables?: AppliedState['ownTables']; generation?: number };
    if (s.version !== 1 || !s.ruleset || !s.ownTables || typeof s.generation !== 'number') return undefined;
    return { ruleset: s.ruleset, ownTables: s.ownTables, generation: s.generation };
  } catch {
    return undefined; // unreadable: treated as unknown, the apply is a full replace
  }
}

async function writeState(file: string, state: AppliedState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ version: 1, ...state }, replacer));
  await rename(tmp, file);
}

function human(r: RulesetApplyResult, dryRun: boolean): string {
  const s = r.summary;
  const part = (what: string, xs: readonly string[]): string | undefined => (xs.length === 0 ? undefined : `${what} ${xs.length}`);
  const changes = [
    part('tables added', s.tablesAdded),
    part('tables removed', s.tablesRemoved),
    part('chains added', s.chainsAdded),
    part('chains changed', s.chainsChanged),
    part('chains removed', s.chainsRemoved),
    part('sets added', s.setsAdded),
    part('sets changed', s.setsChanged),
    part('sets removed', s.setsRemoved),
  ].filter((x): x is string => x !== undefined);
  if (r.result === 'unchanged') return 'unchanged: nothing sent\n';
  const head = dryRun ? 'would apply' : 'applied';
  const kind = r.plan === 'full' ? `full replace (${r.reason ?? ''})` : 'incremental';
  const timing = dryRun ? '' : `, kernel ${r.applyMs.toFixed(1)} ms`;
  const lines = [`${head}: ${kind}, ${r.messages} message(s), ${s.rules} rule(s)${timing}`, ...changes.map((c) => `  ${c}`)];
  for (const c of s.chainsChanged.slice(0, 20)) lines.push(`  changed chain ${c}`);
  for (const c of s.setsChanged.slice(0, 20)) lines.push(`  changed set ${c}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `palisade apply --config DIR --node NAME [--host-ip IP]... [--local-network CIDR] [--netns NS]
 * [--dry-run] [--json] [--state FILE]`: compiles and applies through nf_tables netlink, only
 * what changed since the last apply (recorded in the state file), in one atomic batch guarded
 * by the ruleset generation. Exit 0 applied or unchanged, 1 refused by the kernel (nothing
 * applied; the message names the rule's document and line), 2 usage.
 */
export const registerApply: RegisterCommand = (program: Command, setExit) => {
  const cmd = program
    .command('apply')
    .description(
      "Compile one node's firewall configuration and apply it to the kernel over netlink: one atomic nf_tables " +
        "transaction that changes only Palisade's tables, and only what changed since the last apply.",
    );
  addNodeOptions(cmd)
    .option('--netns <name>', 'network namespace to apply in (default: the current one)')
    .option('--dry-run', 'plan and print what would change, send nothing')
    .option('--json', 'print one JSON object: result, plan, messages, applyMs, ...')
    .option('--state <file>', `what was applied last (default: ${DEFAULT_APPLY_STATE_DIR}/applied-<netns>.json)`)
    .action(async (flags: ApplyFlags) => {
      if (flags.netns !== undefined && !/^[A-Za-z0-9_.-]{1,255}$/.test(flags.netns)) throw new CliExit(EXIT.usage, `--netns ${flags.netns}: not a namespace name`);
      const { compiled } = await compileFromFlags(flags);
      reportCompileDiagnostics(compiled);
      const stateFile = flags.state ?? join(DEFAULT_APPLY_STATE_DIR, `applied-${flags.netns ?? 'default'}.json`);
      const state = await readState(stateFile);
      let applier: Awaited<ReturnType<typeof createRulesetApplier>>;
      try {
        applier = await createRulesetApplier({ ...(flags.netns === undefined ? {} : { netns: flags.netns }), ...(state ? { state } : {}), timeoutMs: 60_000 });
      } catch (err) {
        throw new CliExit(EXIT.usage, `cannot reach nf_tables${flags.netns === undefined ? '' : ` in namespace ${flags.netns}`}: ${err instanceof Error ? err.message : String(err)}`);
      }
      let r: RulesetApplyResult;
      try {
        r = await applier.apply(compiled.ruleset, compiled.ownTables, { dryRun: flags.dryRun === true });
      } catch (err) {
        if (err instanceof NftNetlinkError) {
          if (flags.json) process.stdout.write(`${JSON.stringify({ result: 'refused', error: err.message, code: err.code, errno: err.errnoName ?? err.errno, failed: err.failed })}\n`);
          throw new CliExit(EXIT.refused, err.message);
        }
        throw err;
      } finally {
        await applier.close();
      }
      if (!flags.dryRun) await writeState(stateFile, r.state);
      if (flags.json) {
        const s = r.summary;
        const out = {
          result: r.result,
          plan: r.plan,
          ...(r.reason === undefined ? {} : { reason: r.reason }),
          dryRun: flags.dryRun === true,
          messages: r.messages,
          bytes: r.bytes,
          applyMs: Number(r.applyMs.toFixed(3)),
          planMs: Number(r.planMs.toFixed(3)),
          rules: s.rules,
          tables: { added: s.tablesAdded, removed: s.tablesRemoved },
          chains: { added: s.chainsAdded.length, changed: s.chainsChanged, removed: s.chainsRemoved },
          sets: { added: s.setsAdded.length, changed: s.setsChanged, removed: s.setsRemoved },
          generation: r.state.generation,
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else process.stdout.write(human(r, flags.dryRun === true));
      setExit(EXIT.ok);
    });
};
