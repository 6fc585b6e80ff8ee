/**
 * The firewall log endpoints of the node and guest scopes (`GET …/firewall/log`), answered from
 * palisade-logger's ProxmoxLog call (the logger renders pvefw-logger's lines and counts them):
 * `[{n, t}]` with the count of matching lines as the top-level `total`, as Proxmox answers.
 */
import type { Route } from './router.js';
import { failed } from './rest-error.js';
import type { RestDeps, ScopeBase } from './scopes.js';
import { WithTotal } from './envelope.js';

const UINT = { type: 'integer', minimum: 0, optional: true } as const;

/**
 * The log endpoint of a node or guest scope (`{prefix}/log`), none for the other scopes. Without a
 * logger (`--rest-logger`) it answers 500 saying so.
 */
export function logRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  if (base.env !== 'host' && base.env !== 'vm' && base.env !== 'ct') return [];
  return [
    {
      method: 'GET',
      path: `${base.prefix}/log`,
      schema: { ...base.schema, start: UINT, limit: UINT, since: UINT, until: UINT },
      handler: async (ctx) => {
        const scope = await base.resolve(ctx.params, deps, ctx.caller.signal);
        if (!deps.logs) throw failed('no firewall log here: configd was started without --rest-logger');
        const p = ctx.params;
        const r = await deps.logs.proxmoxLog(
          {
            node: String(p.node),
            ...(scope.kind === 'guest' ? { vmid: scope.vmid } : {}),
            start: p.start === undefined ? 0 : Number(p.start),
            ...(p.limit !== undefined ? { limit: Number(p.limit) } : {}),
            since: p.since === undefined ? 0 : Number(p.since),
            until: p.until === undefined ? 0 : Number(p.until),
          },
          ctx.caller.signal,
        );
        return new WithTotal(
          r.lines.map((l) => ({ n: l.n, t: l.t })),
          r.total,
        );
      },
    },
  ];
}
