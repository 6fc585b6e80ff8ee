/**
 * Alias endpoints of the cluster and guest scopes (Proxmox `PVE::API2::Firewall::Aliases`):
 * list (sorted, with `ipversion` and the digest), create, get, update (cidr required, comment
 * replaced, `rename`), delete (an absent alias is no error).
 */
import { parseIpOrCidr } from '@palisade/fw-lang';
import type { FwScope } from '../firewall/firewall-api.js';
import { ALIAS_NAME, COMMENT, DIGEST, digestPrecondition, optional, type ParamSpec } from './params.js';
import { assertUnmodified, paramError } from './rest-error.js';
import type { Route, RouteContext } from './router.js';
import type { RestDeps, ScopeBase } from './scopes.js';

/** `IPorCIDR`. */
const CIDR: ParamSpec = {
  type: 'string',
  check: (v) => (parseIpOrCidr(v).ok ? undefined : 'value does not look like a valid IP address or CIDR network'),
};

/**
 * The alias endpoints of one scope (`{prefix}/aliases`, `{prefix}/aliases/{name}`); routes.ts adds
 * them to the cluster and guest scopes only, the documents that have aliases.
 */
export function aliasRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  const { api } = deps;
  const scope = (ctx: RouteContext): Promise<FwScope> => base.resolve(ctx.params, deps, ctx.caller.signal);
  const list = `${base.prefix}/aliases`;
  const named = { ...base.schema, name: ALIAS_NAME };
  const out = (a: { name: string; cidr: string; comment: string; ipversion: number }, digest: string) => ({
    name: a.name,
    cidr: a.cidr,
    ...(a.comment ? { comment: a.comment } : {}),
    ipversion: a.ipversion,
    digest,
  });
  const find = async (s: FwScope, name: string, signal: AbortSignal | undefined) => {
    const r = await api.listAliases(s, signal);
    return { r, alias: r.aliases.find((a) => a.name.toLowerCase() === name.toLowerCase()) };
  };
  return [
    {
      method: 'GET',
      path: list,
      schema: base.schema,
      handler: async (ctx) => {
        const r = await api.listAliases(await scope(ctx), ctx.caller.signal);
        return r.aliases.map((a) => out(a, r.digest));
      },
    },
    {
      method: 'POST',
      path: list,
      schema: { ...named, cidr: CIDR, comment: COMMENT },
      handler: async (ctx) => {
        const s = await scope(ctx);
        const name = String(ctx.params.name);
        if ((await find(s, name, ctx.caller.signal)).alias) throw paramError({ name: `alias '${name}' already exists` });
        await api.createAlias(s, name, String(ctx.params.cidr), ctx.params.comment ? String(ctx.params.comment) : '', undefined, ctx.caller);
        return null;
      },
    },
    {
      method: 'GET',
      path: `${list}/{name}`,
      schema: named,
      handler: async (ctx) => {
        const { r, alias } = await find(await scope(ctx), String(ctx.params.name), ctx.caller.signal);
        if (!alias) throw paramError({ name: 'no such alias' });
        return out(alias, r.digest);
      },
    },
    {
      method: 'PUT',
      path: `${list}/{name}`,
      schema: { ...named, cidr: CIDR, comment: COMMENT, rename: optional(ALIAS_NAME), digest: DIGEST },
      handler: async (ctx) => {
        const s = await scope(ctx);
        const name = String(ctx.params.name);
        const { r, alias } = await find(s, name, ctx.caller.signal);
        const d = digestPrecondition(ctx.params);
        assertUnmodified(d, r.digest);
        if (!alias) throw paramError({ name: 'no such alias' });
        const rename = ctx.params.rename ? String(ctx.params.rename) : '';
        if (rename && rename.toLowerCase() !== name.toLowerCase() && (await find(s, rename, ctx.caller.signal)).alias) {
          throw paramError({ name: `alias '${rename}' already exists` });
        }
        // As Proxmox: the entry is replaced, so a missing comment drops the comment.
        await api.updateAlias(s, alias.name, String(ctx.params.cidr), ctx.params.comment ? String(ctx.params.comment) : '', rename, d, ctx.caller);
        return null;
      },
    },
    {
      method: 'DELETE',
      path: `${list}/{name}`,
      schema: { ...named, digest: DIGEST },
      handler: async (ctx) => {
        const s = await scope(ctx);
        const { r, alias } = await find(s, String(ctx.params.name), ctx.caller.signal);
        const d = digestPrecondition(ctx.params);
        assertUnmodified(d, r.digest);
        if (!alias) return null; // an absent alias: success, nothing written
        await api.deleteAlias(s, alias.name, d, ctx.caller);
        return null;
      },
    },
  ];
}
