/**
 * Per-rule packet and byte counters. The compiler's rules carry no `counter` statement, so the
 * agent adds one to every rule that has an origin (document:line) when it renders the
 * transaction (between the matches and the statements: it counts the packets the rule matched);
 * reading them back pairs the kernel's rules of each chain, in order, with the compiled rules
 * the transaction was rendered from.
 */
import { renderMatch, renderRule, renderStmt, type CompileResult, type Rule } from '@palisade/fw-compile';
import { AgentError } from '../errors.js';
import { inNetns, runCommand } from '../apply/run-command.js';

/** The counter of one kernel rule, with its origin. */
export interface RuleCounter {
  readonly path: string;
  readonly line: number;
  /** The rule's stable id ("" until the compiler gives one). */
  readonly ruleId: string;
  readonly ruleText: string;
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  /** 0-based position in the chain. */
  readonly index: number;
  readonly packets: number;
  readonly bytes: number;
}

const countedRule = (r: Rule): string =>
  [...r.matches.map(renderMatch), 'counter', ...r.stmts.map(renderStmt), ...(r.comment !== undefined ? [renderRule({ matches: [], stmts: [], comment: r.comment })] : [])].join(' ');

/**
 * `text` (rendered from `compiled` by `renderNftText`) with a `counter` in every rule that has
 * an origin. The renderer writes each rule on its own line, in IR order, so each rule's line is
 * found after the previous one's.
 */
export function withRuleCounters(text: string, compiled: CompileResult): string {
  const parts: string[] = [];
  let cursor = 0;
  for (const t of compiled.ruleset.tables) {
    for (const c of t.chains) {
      for (const r of c.rules) {
        if (!r.origin) continue;
        const line = `\t\t${renderRule(r)}\n`;
        const at = text.indexOf(line, cursor);
        if (at < 0) continue;
        parts.push(text.slice(cursor, at), `\t\t${countedRule(r)}\n`);
        cursor = at + line.length;
      }
    }
  }
  parts.push(text.slice(cursor));
  return parts.join('');
}

interface NftJsonRule {
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  readonly expr?: readonly Record<string, unknown>[];
}

/** Pairs the rules of an `nft -j list table` listing with the compiled rules, chain by chain. */
export function countersFromListing(listing: string, compiled: CompileResult): RuleCounter[] {
  let parsed: { nftables?: readonly Record<string, unknown>[] };
  try {
    parsed = JSON.parse(listing) as typeof parsed;
  } catch (err) {
    throw new AgentError('state-failed', `cannot read the kernel's rule counters: nft printed no JSON (${(err as Error).message})`);
  }
  const kernel = new Map<string, NftJsonRule[]>();
  for (const item of parsed.nftables ?? []) {
    const r = item.rule as NftJsonRule | undefined;
    if (!r) continue;
    const key = `${r.family} ${r.table} ${r.chain}`;
    const list = kernel.get(key) ?? [];
    list.push(r);
    kernel.set(key, list);
  }
  const out: RuleCounter[] = [];
  for (const t of compiled.ruleset.tables) {
    for (const c of t.chains) {
      const inKernel = kernel.get(`${t.family} ${t.name} ${c.name}`) ?? [];
      c.rules.forEach((r, index) => {
        if (!r.origin) return;
        const counter = inKernel[index]?.expr?.find((e) => 'counter' in e)?.counter as { packets?: number; bytes?: number } | undefined;
        if (!counter) return;
        out.push({
          path: r.origin.path,
          line: r.origin.line,
          ruleId: r.origin.id ?? '',
          ruleText: r.origin.text ?? '',
          family: t.family,
          table: t.name,
          chain: c.name,
          index,
          packets: counter.packets ?? 0,
          bytes: counter.bytes ?? 0,
        });
      });
    }
  }
  return out;
}

/** Reads the counters of the ruleset in force from the kernel (in `netns` when given). */
export async function readRuleCounters(compiled: CompileResult, netns: string | undefined, signal?: AbortSignal): Promise<RuleCounter[]> {
  const out: RuleCounter[] = [];
  for (const t of compiled.ruleset.tables) {
    const r = await runCommand(inNetns(netns, ['nft', '-j', 'list', 'table', t.family, t.name]), { ...(signal ? { signal } : {}) });
    if (r.exitCode !== 0) throw new AgentError('state-failed', `nft list table ${t.family} ${t.name} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    out.push(...countersFromListing(r.stdout, { ...compiled, ruleset: { ...compiled.ruleset, tables: [t] } }));
  }
  return out;
}
