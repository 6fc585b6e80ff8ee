/**
 * Log, limit and verdict statements: a rule's `-log <level>` as NFLOG with pve-firewall's
 * prefix (behind the cluster's `log_ratelimit`), a rule action as its verdict, and the policy
 * tail of a host or guest chain.
 */
import type { LogLevel } from '@palisade/fw-lang';
import type { Rule, Stmt } from '@palisade/nft-ir';
import type { CompileState, LimitSpec } from './compile-state.js';
import { formatLogPrefix } from './log-prefix.js';
import { ACCEPT, DROP, jump, REJECT_CHAIN, rule } from './rule-builders.js';

const LEVEL_NUMBERS: Readonly<Record<string, number>> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** The cluster's `log_ratelimit` as a limit statement; an unreadable rate becomes 1/second (burst default 5). */
export function parseRateLimit(rl: { rate: string; burst?: number } | undefined): LimitSpec | undefined {
  if (!rl) return undefined;
  const m = /^(\d+)\/(second|minute|hour|day)$/.exec(rl.rate);
  if (!m) return { rate: 1, per: 'second', burst: rl.burst ?? 5 };
  return { rate: Number(m[1]), per: m[2] as LimitSpec['per'], burst: rl.burst ?? 5 };
}

/** The limit and log statements of a log level (undefined for `nolog` or no level). */
export function logStmts(st: CompileState, level: LogLevel | undefined, vmid: number, chain: string, message: string, ruleId?: string): Stmt[] | undefined {
  if (level === undefined || level === 'nolog') return undefined;
  const n = LEVEL_NUMBERS[level];
  if (n === undefined) return undefined;
  const stmts: Stmt[] = [];
  if (st.limit) stmts.push({ kind: 'limit', rate: st.limit.rate, per: st.limit.per, burst: st.limit.burst });
  stmts.push({ kind: 'log', prefix: formatLogPrefix(vmid, n, chain, message, ruleId), group: st.opts.logGroup });
  return stmts;
}

/** The verdict of a rule action: ACCEPT (or what accept becomes, e.g. a queue), DROP, or the reject helper. */
export function actionStmts(action: string, accept: Stmt = ACCEPT): Stmt[] {
  if (action === 'ACCEPT') return [accept];
  if (action === 'DROP') return [DROP];
  return [jump(REJECT_CHAIN)];
}

/** The tail of a host or guest chain for its policy: the noise chain, the policy log, the verdict. */
export function policyRules(st: CompileState, policy: string, level: LogLevel, vmid: number, chain: string, acceptStmt: Stmt): Rule[] {
  if (policy === 'ACCEPT') return [rule([], [acceptStmt], { comment: 'policy ACCEPT' })];
  const out: Rule[] = [];
  if (policy === 'REJECT') {
    out.push(rule([], [jump('PVEFW-Reject')]));
    const log = logStmts(st, level, vmid, chain, 'policy REJECT: ');
    if (log) out.push(rule([], log));
    out.push(rule([], [jump(REJECT_CHAIN)], { comment: 'policy REJECT' }));
  } else {
    out.push(rule([], [jump('PVEFW-Drop')]));
    const log = logStmts(st, level, vmid, chain, 'policy DROP: ');
    if (log) out.push(rule([], log));
    out.push(rule([], [DROP], { comment: 'policy DROP' }));
  }
  return out;
}
