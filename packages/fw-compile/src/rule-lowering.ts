/**
 * Lowering of user rules into IR rules: one rule line becomes a rule per IP family (merged
 * when both families write the same), macros expand into their templates, `-log` adds a log
 * rule before the verdict, and a `group` rule jumps to the security group's chains, which are
 * built at their first reference (with a queue variant for IPS guests).
 */
import { findMacro, macroTemplatesFor, type FwDocument, type Rule as FwRule } from '@palisade/fw-lang';
import type { IpFamily, Match, QueueStmt, Rule, RuleOrigin } from '@palisade/nft-ir';
import type { CompileState, RuleCtx } from './compile-state.js';
import { actionStmts, logStmts } from './log-statements.js';
import { documentRuleIds } from './rule-id.js';
import { jump, nfproto, rule } from './rule-builders.js';
import { addrMatch, protoMatches } from './rule-matches.js';

/** Suffix of the group chain variant whose ACCEPT is this queue (`-Q0`, `-Q0-3`). */
function queueSuffix(q: QueueStmt): string {
  return q.from === q.to ? `-Q${q.from}` : `-Q${q.from}-${q.to}`;
}

/** The chain of a security group for one direction (`GROUP-<name>-IN`). */
function groupChainName(name: string, dir: 'in' | 'out'): string {
  return `GROUP-${name}-${dir === 'in' ? 'IN' : 'OUT'}`;
}

/** Creates the two chains of a security group at its first reference. */
function ensureGroup(st: CompileState, name: string, refPath: string, refLine: number): void {
  const inName = groupChainName(name, 'in');
  if (st.groupChains.has(inName)) return;
  st.groupChains.add(inName);
  const group = st.cluster?.groups.get(name);
  if (!group) st.diag('FWC03', `no such security group '${name}'`, refPath, refLine);
  for (const dir of ['in', 'out'] as const) {
    const chain = groupChainName(name, dir);
    st.groupChains.add(chain);
    const rules: Rule[] = [];
    // Reserve the slot first so recursive references see it.
    st.chains.set(chain, { name: chain, rules });
    const ctx: RuleCtx = {
      chain,
      dir,
      scope: 'group',
      from: 'cluster',
      logVmid: 0,
      guestVmid: 0,
      path: st.cluster?.path ?? 'firewall/cluster.fw',
    };
    for (const r of group?.rules ?? []) {
      if (r.type !== dir) continue;
      rules.push(...translate(st, r, ctx));
    }
  }
}

/**
 * The IN chain of a security group whose ACCEPT is a queue statement, for the IN chains of
 * IPS guests (pve-firewall: the group sets the accept bit and the caller queues). Named
 * `GROUP-<name>-IN-Q<queues>`; its log prefixes keep the group chain's name.
 */
function ensureGroupQueueVariant(st: CompileState, name: string, queue: QueueStmt, refPath: string, refLine: number): string {
  ensureGroup(st, name, refPath, refLine);
  const logName = groupChainName(name, 'in');
  const chain = `${logName}${queueSuffix(queue)}`;
  if (st.groupChains.has(chain)) return chain;
  st.groupChains.add(chain);
  const rules: Rule[] = [];
  st.chains.set(chain, { name: chain, rules });
  const ctx: RuleCtx = {
    chain: logName,
    dir: 'in',
    scope: 'group',
    from: 'cluster',
    logVmid: 0,
    guestVmid: 0,
    path: st.cluster?.path ?? 'firewall/cluster.fw',
    accept: queue,
  };
  for (const r of st.cluster?.groups.get(name)?.rules ?? []) {
    if (r.type !== 'in') continue;
    rules.push(...translate(st, r, ctx));
  }
  return chain;
}

/** Translates one user rule (after filtering by type) into IR rules; [] when skipped. */
export function translate(st: CompileState, r: FwRule, ctx: RuleCtx, ifaceMatch?: Match): Rule[] {
  if (!r.enabled || r.errors.length > 0) return [];
  const id = ruleIdOf(st, ctx, r);
  const origin: RuleOrigin = { path: ctx.path, line: r.line, text: sourceText(st, ctx, r), ...(id !== undefined ? { id } : {}) };
  // The kernel comment names the rule by its stable id, not its line: a line inserted above it
  // must not rewrite its chain (issue #9). The line is in `origin`, and from the id in the
  // agent's rule map (counters, log entries); without an id (no document) the line it is.
  const comment = id !== undefined ? `${ctx.path}#${id}` : `${ctx.path}:${r.line}`;
  const base: Match[] = ifaceMatch ? [ifaceMatch] : [];
  if (ctx.scope === 'host' && r.iface !== undefined) {
    base.push({ kind: 'ifname', dir: ctx.dir === 'in' ? 'iif' : 'oif', op: 'eq', names: [r.iface] });
  }
  if (r.type === 'group') {
    if (ctx.accept !== undefined && ctx.dir === 'in') {
      return [rule(base, [jump(ensureGroupQueueVariant(st, r.action, ctx.accept, ctx.path, r.line))], { comment, origin })];
    }
    ensureGroup(st, r.action, ctx.path, r.line);
    return [rule(base, [jump(groupChainName(r.action, ctx.dir))], { comment, origin })];
  }
  const families: IpFamily[] = r.ipVersion !== undefined ? [r.ipVersion] : [4, 6];
  const macro = r.macro !== undefined ? findMacro(r.macro) : undefined;
  if (r.macro !== undefined && !macro) return [];
  const variants: { family: IpFamily; specific: boolean; matches: Match[] }[] = [];
  for (const family of families) {
    const templates = macro ? macroTemplatesFor(macro, family) : [{ proto: r.proto, dport: r.dport, sport: r.sport }];
    for (const t of templates) {
      const pm = protoMatches(t.proto ?? r.proto, t.dport ?? r.dport, t.sport ?? r.sport, r.icmpType, family);
      if (pm === 'skip') continue;
      if ('error' in pm) {
        st.diag('FWC02', `rule skipped: ${pm.error}`, ctx.path, r.line);
        return [];
      }
      const src = addrMatch(st, 'saddr', r.source, family, ctx);
      const dst = addrMatch(st, 'daddr', r.dest, family, ctx);
      if (src === 'skip' || dst === 'skip') continue;
      if ('error' in src || 'error' in dst) {
        st.diag('FWC01', `rule skipped: ${'error' in src ? src.error : (dst as { error: string }).error}`, ctx.path, r.line);
        return [];
      }
      const matches = [...base];
      if (src.match) matches.push(src.match);
      if (dst.match) matches.push(dst.match);
      matches.push(...pm.matches);
      variants.push({ family, specific: pm.specific || src.specific || dst.specific, matches });
    }
  }
  // Merge family-neutral variants that both families produce identically into one rule.
  const key = (m: Match[]): string => JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const neutral: Record<IpFamily, Set<string>> = { 4: new Set(), 6: new Set() };
  for (const v of variants) if (!v.specific) neutral[v.family].add(key(v.matches));
  const emitted = new Set<string>();
  const out: Rule[] = [];
  // Security-group rules carry their action too (as proxmox-firewall writes them; pve-firewall's
  // iptables prefix has none), so that a group hit's log entry says what the rule did.
  const message = `${r.action}: `;
  const log = logStmts(st, r.log, ctx.logVmid, ctx.chain, message, id);
  for (const v of variants) {
    let matches = v.matches;
    if (!v.specific) {
      const k = key(v.matches);
      if (neutral[4].has(k) && neutral[6].has(k)) {
        if (emitted.has(k)) continue;
        emitted.add(k);
      } else {
        matches = [nfproto(v.family), ...v.matches];
      }
    }
    if (log) out.push(rule(matches, log, { comment, origin }));
    out.push(rule(matches, actionStmts(r.action, ctx.accept), { comment, origin }));
  }
  return out;
}

/** The source line of a rule, trimmed (the origin's text). */
function sourceText(st: CompileState, ctx: RuleCtx, r: FwRule): string {
  return documentOf(st, ctx)?.lines[r.line - 1]?.text.trim() ?? '';
}

/** The document a rule of this context comes from. */
function documentOf(st: CompileState, ctx: RuleCtx): FwDocument | undefined {
  if (ctx.scope === 'guest' && ctx.guestDoc) return ctx.guestDoc;
  return ctx.path === st.cluster?.path ? st.cluster : [...st.tree.hosts.values()].find((h) => h.path === ctx.path);
}

/** The stable id of a source rule (computed once per document). */
function ruleIdOf(st: CompileState, ctx: RuleCtx, r: FwRule): string | undefined {
  const doc = documentOf(st, ctx);
  if (!doc) return undefined;
  let ids = st.ruleIdsByDoc.get(doc);
  if (!ids) {
    ids = documentRuleIds(doc);
    st.ruleIdsByDoc.set(doc, ids);
  }
  return ids.get(r.line);
}
