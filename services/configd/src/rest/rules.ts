/**
 * Rule endpoints of every scope and of security groups (Proxmox `PVE::API2::Firewall::RulesBase`):
 * list, get, create (always at the top, `pos` ignored, `enable` 0 unless given), update (fields,
 * `''`/`-` or `delete` to remove, or only a move with Proxmox's `moveto`), delete. The edits are
 * FirewallApi's.
 */
import { RULE_FIELDS, ruleFieldByName, type RuleFieldDef, type RuleSpec } from '@palisade/fw-lang';
import type { FwScope, RuleView } from '../firewall/firewall-api.js';
import { DIGEST, GROUP_NAME, digestPrecondition, splitList, type Params, type ParamSpec, type Schema } from './params.js';
import { assertUnmodified, failed, paramError } from './rest-error.js';
import type { Route, RouteContext } from './router.js';
import type { RestDeps, ScopeBase } from './scopes.js';

/** A rule field's Proxmox parameter: a string of the field's API format, `enable` an integer. */
function ruleParam(d: RuleFieldDef): ParamSpec {
  if (d.kind === 'enable') return { type: 'integer', minimum: 0, optional: true };
  return { type: 'string', optional: true, ...d.apiFormat };
}

/** `$rule_properties` of PVE::Firewall (the fields a rule call may carry), from the rule-field table. */
export const RULE_PROPERTIES: Schema = {
  pos: { type: 'integer', minimum: 0, optional: true },
  digest: DIGEST,
  ...Object.fromEntries((RULE_FIELDS as readonly RuleFieldDef[]).map((d) => [d.api, ruleParam(d)])),
};

/** The text fields a client sets (every field but `enable`), by Proxmox name. */
const TEXT_FIELDS = (RULE_FIELDS as readonly RuleFieldDef[]).filter((d) => d.kind !== 'enable');

/** A rule as Proxmox lists it: only the fields it has, `enable` 0/1, `ipversion`, `errors`. */
export function ruleOut(v: RuleView, digest: string, pos: number | string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of RULE_FIELDS) {
    const x = d.kind === 'enable' ? (v.enable ? 1 : 0) : v[d.key];
    if (x !== undefined) out[d.api] = x;
  }
  if (v.ipversion) out.ipversion = v.ipversion;
  if (v.errors.length > 0) out.errors = Object.fromEntries(v.errors.map((e) => [e.field, e.message]));
  out.pos = pos;
  out.digest = digest;
  return out;
}

/** `copy_rule_data`: given fields set, `''` or `-` removes (Proxmox names in `remove`). */
function ruleChanges(params: Params): { set: Partial<RuleSpec> & { enable?: boolean }; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const d of TEXT_FIELDS) {
    const v = params[d.api];
    if (v === undefined) continue;
    if (v === '' || v === '-') remove.push(d.api);
    else set[d.key] = String(v);
  }
  if (params.enable !== undefined) set.enable = Number(params.enable) > 0;
  return { set, remove };
}

interface RuleList {
  /** Path template of the list (`…/rules` or `cluster/firewall/groups/{group}`). */
  readonly path: string;
  readonly schema: Schema;
  scope(params: Params, deps: RestDeps, signal?: AbortSignal): Promise<FwScope>;
  group(params: Params): string | undefined;
}

function listRoutes(list: RuleList, deps: RestDeps): Route[] {
  const { api } = deps;
  const at = async (ctx: RouteContext) => ({ scope: await list.scope(ctx.params, deps, ctx.caller.signal), group: list.group(ctx.params), signal: ctx.caller.signal });
  const pos: ParamSpec = { type: 'integer', minimum: 0 };
  return [
    {
      method: 'GET',
      path: list.path,
      schema: list.schema,
      handler: async (ctx) => {
        const { scope, group, signal } = await at(ctx);
        const r = await api.listRules(scope, group, signal);
        return r.rules.map((v) => ruleOut(v, r.digest, v.pos));
      },
    },
    {
      method: 'GET',
      path: `${list.path}/{pos}`,
      schema: { ...list.schema, pos },
      handler: async (ctx) => {
        const { scope, group, signal } = await at(ctx);
        const r = await api.listRules(scope, group, signal);
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
        const { scope, group } = await at(ctx);
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
        const { scope, group, signal } = await at(ctx);
        const p = Number(ctx.params.pos);
        const pre = digestPrecondition(ctx.params);
        const moveto = ctx.params.moveto;
        if (moveto !== undefined && Number(moveto) !== p) {
          // Only the move happens. Proxmox inserts before the rule originally at `moveto`:
          // moving down ends at moveto − 1; FirewallApi.moveRule takes the final index.
          const count = (await api.listRules(scope, group, signal)).rules.length;
          const m = Number(moveto);
          const to = m > p ? Math.min(m - 1, Math.max(count - 1, 0)) : m;
          await api.moveRule(scope, group, { pos: p }, to, pre, ctx.caller);
          return null;
        }
        // Proxmox's order: the digest, then the position, then the `delete` names.
        const current = await api.listRules(scope, group, signal);
        assertUnmodified(pre, current.digest);
        if (p >= current.rules.length) throw failed(`no rule at position ${p}`);
        const { set, remove } = ruleChanges(ctx.params);
        for (const name of splitList(ctx.params.delete)) {
          if (RULE_PROPERTIES[name] === undefined) throw paramError({ delete: `no such property ('${name}')` });
          const field = ruleFieldByName(name);
          if (field?.required) throw paramError({ delete: `unable to delete required property '${name}'` });
          if (field?.kind === 'enable') set.enable = true; // no `enable` key means enabled
          else if (field) remove.push(name);
        }
        const required = remove.find((n) => ruleFieldByName(n)?.required);
        if (required !== undefined) throw paramError({ [required]: 'missing property' });
        await api.updateRule(scope, group, { pos: p }, set, remove, pre, ctx.caller);
        return null;
      },
    },
    {
      method: 'DELETE',
      path: `${list.path}/{pos}`,
      schema: { ...list.schema, pos, digest: DIGEST },
      handler: async (ctx) => {
        const { scope, group } = await at(ctx);
        await api.deleteRule(scope, group, { pos: Number(ctx.params.pos) }, digestPrecondition(ctx.params), ctx.caller);
        return null;
      },
    },
  ];
}

/** The rule endpoints of one scope (`{prefix}/rules`). */
export function scopeRuleRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  return listRoutes({ path: `${base.prefix}/rules`, schema: base.schema, scope: (p, d, signal) => base.resolve(p, d, signal), group: () => undefined }, deps);
}

/** The rule endpoints of security groups (`cluster/firewall/groups/{group}`). */
export function groupRuleRoutes(deps: RestDeps): Route[] {
  return listRoutes(
    { path: 'cluster/firewall/groups/{group}', schema: { group: GROUP_NAME }, scope: () => Promise.resolve({ kind: 'cluster' }), group: (p) => String(p.group) },
    deps,
  );
}
