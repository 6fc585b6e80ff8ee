/**
 * Rule endpoints of every scope and of security groups (Proxmox `PVE::API2::Firewall::RulesBase`):
 * list, get, create (always at the top, `pos` ignored, `enable` 0 unless given), update (fields,
 * `''`/`-` or `delete` to remove, or only a move with Proxmox's `moveto`), delete. The edits are
 * FirewallApi's.
 */
import type { RuleSpec, RuleSpecField } from '@palisade/fw-lang';
import type { FwScope, RuleView } from '../firewall/firewall-api.js';
import { DIGEST, GROUP_NAME, LOG_LEVEL_VALUES, splitList, type Params, type ParamSpec, type Schema } from './params.js';
import { MODIFIED_MESSAGE, failed, paramError } from './rest-error.js';
import type { Route, RouteContext } from './router.js';
import type { RestDeps, ScopeBase } from './scopes.js';


/** `$rule_properties` of PVE::Firewall (the fields a rule call may carry). */
export const RULE_PROPERTIES: Schema = {
  pos: { type: 'integer', minimum: 0, optional: true },
  digest: DIGEST,
  type: { type: 'string', optional: true, enum: ['in', 'out', 'forward', 'group'] },
  action: { type: 'string', optional: true, pattern: /^[A-Za-z][A-Za-z0-9\-_]+$/, minLength: 2, maxLength: 20 },
  macro: { type: 'string', optional: true, maxLength: 128 },
  iface: { type: 'string', optional: true, pattern: /^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.]\d+)?$/, minLength: 2, maxLength: 20 },
  source: { type: 'string', optional: true, maxLength: 512 },
  dest: { type: 'string', optional: true, maxLength: 512 },
  proto: { type: 'string', optional: true },
  enable: { type: 'integer', minimum: 0, optional: true },
  log: { type: 'string', optional: true, enum: LOG_LEVEL_VALUES },
  sport: { type: 'string', optional: true },
  dport: { type: 'string', optional: true },
  comment: { type: 'string', optional: true },
  'icmp-type': { type: 'string', optional: true },
};

/** Rule fields a client sets, Proxmox name → RuleSpec name. */
const FIELD_OF: Readonly<Record<string, RuleSpecField | 'type' | 'action'>> = {
  type: 'type',
  action: 'action',
  macro: 'macro',
  iface: 'iface',
  source: 'source',
  dest: 'dest',
  proto: 'proto',
  log: 'log',
  sport: 'sport',
  dport: 'dport',
  comment: 'comment',
  'icmp-type': 'icmpType',
};

/** A rule as Proxmox lists it: only the fields it has, `enable` 0/1, `ipversion`, `errors`. */
export function ruleOut(v: RuleView, digest: string, pos: number | string): Record<string, unknown> {
  const out: Record<string, unknown> = { type: v.type, action: v.action };
  const put = (k: string, x: string | undefined): void => {
    if (x !== undefined) out[k] = x;
  };
  put('macro', v.macro);
  put('iface', v.iface);
  put('source', v.source);
  put('dest', v.dest);
  put('proto', v.proto);
  put('dport', v.dport);
  put('sport', v.sport);
  put('icmp-type', v.icmpType);
  put('log', v.log);
  put('comment', v.comment);
  out.enable = v.enable ? 1 : 0;
  if (v.ipversion) out.ipversion = v.ipversion;
  if (v.errors.length > 0) out.errors = Object.fromEntries(v.errors.map((e) => [e.field, e.message]));
  out.pos = pos;
  out.digest = digest;
  return out;
}

/** `copy_rule_data`: given fields set, `''` or `-` removes. */
function ruleChanges(params: Params): { set: Partial<RuleSpec> & { enable?: boolean }; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [name, field] of Object.entries(FIELD_OF)) {
    const v = params[name];
    if (v === undefined) continue;
    if (v === '' || v === '-') remove.push(name);
    else set[field] = String(v);
  }
  if (params.enable !== undefined) set.enable = Number(params.enable) > 0;
  return { set: set, remove };
}

interface RuleList {
  /** Path template of the list (`…/rules` or `cluster/firewall/groups/{group}`). */
  readonly path: string;
  readonly schema: Schema;
  scope(params: Params, deps: RestDeps): FwScope;
  group(params: Params): string | undefined;
}

function precondition(params: Params): { digest: string } | undefined {
  return typeof params.digest === 'string' && params.digest !== '' ? { digest: params.digest } : undefined;
}

function listRoutes(list: RuleList, deps: RestDeps): Route[] {
  const { api } = deps;
  const at = (ctx: RouteContext) => ({ scope: list.scope(ctx.params, deps), group: list.group(ctx.params) });
  const pos: ParamSpec = { type: 'integer', minimum: 0 };
  return [
    {
      method: 'GET',
      path: list.path,
      schema: list.schema,
      handler: (ctx) => {
        const { scope, group } = at(ctx);
        const r = api.listRules(scope, group);
        return r.rules.map((v) => ruleOut(v, r.digest, v.pos));
      },
    },
    {
      method: 'GET',
      path: `${list.path}/{pos}`,
      schema: { ...list.schema, pos },
      handler: (ctx) => {
        const { scope, group } = at(ctx);
        const r = api.listRules(scope, group);
        const p = Number(ctx.params.pos);
        const v = r.rules[p];
        if (!v) throw failed(`no rule at position ${p}`);
        // Proxmox copies the path parameter: `pos` is a string here.
        return ruleOut(v, r.digest, String(p));
      },
    },
    {
      method: 'POST',
      path: list.path,
      schema: { ...RULE_PROPERTIES, ...list.schema, type: { ...RULE_PROPERTIES.type!, optional: false }, action: { ...RULE_PROPERTIES.action!, optional: false } },
      handler: async (ctx) => {
        const { scope, group } = at(ctx);
        const { set } = ruleChanges(ctx.params);
        // A new rule goes to the top whatever `pos` says, disabled unless `enable` is given;
        // the digest is not checked (as Proxmox).
        const spec = { ...set, enable: set.enable ?? false } as RuleSpec;
        await api.createRule(scope, group, spec, 0, undefined, ctx.caller);
        return null;
      },
    },
    {
      method: 'PUT',
      path: `${list.path}/{pos}`,
      schema: {
        ...RULE_PROPERTIES,
        ...list.schema,
        pos,
        moveto: { type: 'integer', minimum: 0, optional: true },
        delete: { type: 'string', optional: true },
      },
      handler: async (ctx) => {
        const { scope, group } = at(ctx);
        const p = Number(ctx.params.pos);
        const pre = precondition(ctx.params);
        const moveto = ctx.params.moveto;
        if (moveto !== undefined && Number(moveto) !== p) {
          // Only the move happens. Proxmox inserts before the rule originally at `moveto`:
          // moving down ends at moveto − 1; FirewallApi.moveRule takes the final index.
          const count = api.listRules(scope, group).rules.length;
          const m = Number(moveto);
          const to = m > p ? Math.min(m - 1, Math.max(count - 1, 0)) : m;
          await api.moveRule(scope, group, { pos: p }, to, pre, ctx.caller);
          return null;
        }
        // Proxmox's order: the digest, then the position, then the `delete` names.
        const current = api.listRules(scope, group);
        if (pre && pre.digest !== current.digest) throw failed(MODIFIED_MESSAGE);
        if (p >= current.rules.length) throw failed(`no rule at position ${p}`);
        const { set, remove } = ruleChanges(ctx.params);
        for (const name of splitList(ctx.params.delete)) {
          if (RULE_PROPERTIES[name] === undefined) throw paramError({ delete: `no such property ('${name}')` });
          if (name === 'type' || name === 'action') throw paramError({ delete: `unable to delete required property '${name}'` });
          if (name === 'enable') set.enable = true; // no `enable` key means enabled
          else if (FIELD_OF[name] !== undefined) remove.push(name);
        }
        const removeFields = remove.map((n) => FIELD_OF[n]!).filter((f): f is RuleSpecField => f !== 'type' && f !== 'action');
        if (remove.includes('type') || remove.includes('action')) {
          throw paramError({ [remove.includes('type') ? 'type' : 'action']: 'missing property' });
        }
        await api.updateRule(scope, group, { pos: p }, set, removeFields, pre, ctx.caller);
        return null;
      },
    },
    {
      method: 'DELETE',
      path: `${list.path}/{pos}`,
      schema: { ...list.schema, pos, digest: DIGEST },
      handler: async (ctx) => {
        const { scope, group } = at(ctx);
        await api.deleteRule(scope, group, { pos: Number(ctx.params.pos) }, precondition(ctx.params), ctx.caller);
        return null;
      },
    },
  ];
}

/** The rule endpoints of one scope (`{prefix}/rules`). */
export function scopeRuleRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  return listRoutes({ path: `${base.prefix}/rules`, schema: base.schema, scope: (p, d) => base.resolve(p, d), group: () => undefined }, deps);
}

/** The rule endpoints of security groups (`cluster/firewall/groups/{group}`). */
export function groupRuleRoutes(deps: RestDeps): Route[] {
  return listRoutes(
    { path: 'cluster/firewall/groups/{group}', schema: { group: GROUP_NAME }, scope: () => ({ kind: 'cluster' }), group: (p) => String(p.group) },
    deps,
  );
}
