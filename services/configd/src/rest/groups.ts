/**
 * Security group endpoints (Proxmox `PVE::API2::Firewall::Groups`): list, create, rename with
 * `rename` (references in every host and guest document follow), comment edit with `rename`
 * equal to `group`, delete of an empty group. Group rules are in rules.ts.
 */
import { COMMENT, DIGEST, GROUP_NAME, digestPrecondition, optional } from './params.js';
import { assertUnmodified, failed, paramError } from './rest-error.js';
import type { Route } from './router.js';
import type { RestDeps } from './scopes.js';

/**
 * The security group endpoints (`cluster/firewall/groups`, `cluster/firewall/groups/{group}`),
 * which are cluster-wide; the rules of a group are `groupRuleRoutes`.
 */
export function groupRoutes(deps: RestDeps): Route[] {
  const { api } = deps;
  return [
    {
      method: 'GET',
      path: 'cluster/firewall/groups',
      schema: {},
      handler: async (ctx) => {
        const r = await api.listGroups(ctx.caller.signal);
        return r.groups.map((g) => ({ group: g.group, ...(g.comment ? { comment: g.comment } : {}), digest: r.digest }));
      },
    },
    {
      method: 'POST',
      path: 'cluster/firewall/groups',
      schema: { group: GROUP_NAME, comment: COMMENT, rename: optional(GROUP_NAME), digest: DIGEST },
      handler: async (ctx) => {
        const group = String(ctx.params.group).toLowerCase();
        const rename = ctx.params.rename === undefined || ctx.params.rename === '' ? '' : String(ctx.params.rename).toLowerCase();
        const comment = ctx.params.comment === undefined ? undefined : String(ctx.params.comment);
        const list = await api.listGroups(ctx.caller.signal);
        const existing = new Set(list.groups.map((g) => g.group));
        const digest = digestPrecondition(ctx.params);
        if (rename) {
          // Proxmox checks the digest first, then the names (all inside the lock).
          assertUnmodified(digest, list.digest);
          if (!existing.has(rename)) throw paramError({ group: `Security group '${rename}' does not exist` });
          if (existing.has(group) && group !== rename) throw paramError({ group: `Security group '${group}' does already exist` });
        } else if (existing.has(group)) {
          throw paramError({ group: `Security group '${group}' already exists` });
        }
        await api.createGroup(group, comment, rename, digest, ctx.caller);
        return null;
      },
    },
    {
      method: 'DELETE',
      path: 'cluster/firewall/groups/{group}',
      schema: { group: GROUP_NAME },
      handler: async (ctx) => {
        const group = String(ctx.params.group);
        const found = (await api.listGroups(ctx.caller.signal)).groups.find((g) => g.group === group.toLowerCase());
        if (!found) throw failed(`no such security group '${group}'`);
        if (found.rules > 0) throw failed(`Security group '${group}' is not empty`);
        await api.deleteGroup(group, undefined, ctx.caller);
        return null;
      },
    },
  ];
}
