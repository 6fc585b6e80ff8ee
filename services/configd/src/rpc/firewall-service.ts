/**
 * gRPC FirewallService: decode scope, rule reference, fields and preconditions; call
 * FirewallApi; encode. No logic of its own.
 */
import type {
  FirewallServiceServer,
  Precondition as PbPrecondition,
  Rule as PbRule,
  RuleFields,
  RuleRef as PbRuleRef,
  Scope,
} from '@palisade/api';
import { RULE_FIELDS, pickRuleFields, type RuleSpec } from '@palisade/fw-lang';
import { ConfigdError } from '../errors.js';
import type { FirewallApi, FwScope, Precondition, RuleRef, RuleView, WriteResult } from '../firewall/firewall-api.js';
import type { Clock } from '@palisade/service-kit';
import type { Caller } from '../store/document-store.js';
import { encodeMeta } from './document-service.js';
import type { Permission } from './auth.js';
import { callerOf, type ConfigdHandlers } from './handler.js';
import { withConfirmWindow } from '../confirm/confirming-store.js';

function scopeOf(s: Scope | undefined): FwScope {
  const t = s?.target;
  switch (t?.$case) {
    case 'cluster':
      return { kind: 'cluster' };
    case 'node':
      return { kind: 'host', node: t.value };
    case 'vmid':
      return { kind: 'guest', vmid: t.value };
    case 'vnet':
      return { kind: 'vnet', vnet: t.value };
    default:
      throw new ConfigdError('invalid-argument', 'scope is required (cluster, node, vmid or vnet)');
  }
}

function refOf(r: PbRuleRef | undefined): RuleRef {
  const by = r?.by;
  if (by?.$case === 'id') return { id: by.value };
  if (by?.$case === 'pos') return { pos: by.value };
  throw new ConfigdError('invalid-argument', 'rule reference is required (id or pos)');
}

function preOf(p: PbPrecondition | undefined): Precondition {
  return { ...(p?.digest ? { digest: p.digest } : {}), ...(p?.expectedRevision !== undefined ? { expectedRevision: p.expectedRevision } : {}) };
}

/** The rule fields a request sets (`undefined`: not set), by the rule-field table. */
function fieldsOf(f: RuleFields | undefined): Partial<RuleSpec> {
  return f ? (pickRuleFields(f) as Partial<RuleSpec>) : {};
}

/** A rule view as the wire carries it: every table field, `''` when the rule has none. */
function ruleOut(v: RuleView): PbRule {
  const out: Record<string, unknown> = { id: v.id, pos: v.pos, line: v.line, ipversion: v.ipversion, errors: v.errors.map((e) => ({ ...e })) };
  for (const d of RULE_FIELDS) out[d.key] = v[d.key] ?? '';
  return out as unknown as PbRule;
}

function writeOut(w: WriteResult & { rule?: RuleView }): { meta: ReturnType<typeof encodeMeta>; digest: string; rule: PbRule | undefined } {
  return { meta: encodeMeta(w.record), digest: w.digest, rule: w.rule ? ruleOut(w.rule) : undefined };
}

/** Builds the FirewallService implementation. */
export function createFirewallService(rpc: ConfigdHandlers, api: FirewallApi, clock: Clock): FirewallServiceServer {
  // A caller carries the call's cancel signal and deadline: down to the log's retries for a
  // write, to the store's read-your-writes wait for a read.
  const unary = <Req, Res>(permission: Permission, fn: (req: Req, p: Caller) => Promise<Res> | Res) =>
    rpc.unary<Req, Res>(permission, (req, ctx) => {
      // Commit-confirmed: the window travels with the caller to the confirming store.
      const confirmWindowMs = (req as { precondition?: PbPrecondition }).precondition?.confirmWindowMs;
      return fn(req, withConfirmWindow(callerOf(ctx, clock), confirmWindowMs));
    });
  return {
    listRules: unary('read', async (req, p) => {
      const r = await api.listRules(scopeOf(req.scope), req.group || undefined, p.signal);
      return { rules: r.rules.map(ruleOut), digest: r.digest, revision: r.revision };
    }),
    getRule: unary('read', async (req, p) => {
      const r = await api.getRule(scopeOf(req.scope), req.group || undefined, refOf(req.rule), p.signal);
      return { rule: ruleOut(r.rule), digest: r.digest, revision: r.revision };
    }),
    createRule: unary('write', async (req, p) => {
      const f = fieldsOf(req.rule);
      if (!f.type || !f.action) throw new ConfigdError('invalid-argument', 'a new rule needs type and action');
      return writeOut(await api.createRule(scopeOf(req.scope), req.group || undefined, f as RuleSpec, req.pos, preOf(req.precondition), p));
    }),
    updateRule: unary('write', async (req, p) =>
      writeOut(await api.updateRule(scopeOf(req.scope), req.group || undefined, refOf(req.rule), fieldsOf(req.set), req.delete, preOf(req.precondition), p)),
    ),
    deleteRule: unary('write', async (req, p) => {
      const w = await api.deleteRule(scopeOf(req.scope), req.group || undefined, refOf(req.rule), preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    moveRule: unary('write', async (req, p) =>
      writeOut(await api.moveRule(scopeOf(req.scope), req.group || undefined, refOf(req.rule), req.to, preOf(req.precondition), p)),
    ),
    listGroups: unary('read', (_req, p) => api.listGroups(p.signal)),
    createGroup: unary('write', async (req, p) => {
      if (!req.group) throw new ConfigdError('invalid-argument', 'group name is required');
      const w = await api.createGroup(req.group, req.comment, req.rename, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    deleteGroup: unary('write', async (req, p) => {
      const w = await api.deleteGroup(req.group, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    listIpSets: unary('read', (req, p) => api.listIpSets(scopeOf(req.scope), p.signal)),
    createIpSet: unary('write', async (req, p) => {
      const w = req.rename
        ? await api.createIpSet(scopeOf(req.scope), req.name, req.comment || undefined, preOf(req.precondition), p, req.rename)
        : await api.createIpSet(scopeOf(req.scope), req.name, req.comment, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    deleteIpSet: unary('write', async (req, p) => {
      const w = await api.deleteIpSet(scopeOf(req.scope), req.name, req.force, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    listIpSetEntries: unary('read', (req, p) => api.listIpSetEntries(scopeOf(req.scope), req.name, p.signal)),
    addIpSetEntry: unary('write', async (req, p) => {
      const w = await api.addIpSetEntry(scopeOf(req.scope), req.name, req.cidr, req.nomatch, req.comment, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    updateIpSetEntry: unary('write', async (req, p) => {
      const w = await api.updateIpSetEntry(scopeOf(req.scope), req.name, req.cidr, req.nomatch, req.comment, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    deleteIpSetEntry: unary('write', async (req, p) => {
      const w = await api.deleteIpSetEntry(scopeOf(req.scope), req.name, req.cidr, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    listAliases: unary('read', (req, p) => api.listAliases(scopeOf(req.scope), p.signal)),
    createAlias: unary('write', async (req, p) => {
      const w = await api.createAlias(scopeOf(req.scope), req.name, req.cidr, req.comment, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    updateAlias: unary('write', async (req, p) => {
      const w = await api.updateAlias(scopeOf(req.scope), req.name, req.cidr, req.comment, req.rename, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    deleteAlias: unary('write', async (req, p) => {
      const w = await api.deleteAlias(scopeOf(req.scope), req.name, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    getOptions: unary('read', (req, p) => api.getOptions(scopeOf(req.scope), undefined, p.signal)),
    setOptions: unary('write', async (req, p) => {
      const w = await api.setOptions(scopeOf(req.scope), req.set, req.delete, preOf(req.precondition), p);
      return { meta: encodeMeta(w.record), digest: w.digest };
    }),
    listRefs: unary('read', async (req, p) => ({ refs: await api.listRefs(scopeOf(req.scope), req.type, p.signal) })),
    listMacros: unary('read', () => ({ macros: api.listMacros() })),
  };
}
