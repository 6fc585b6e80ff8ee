/**
 * The small endpoints: each scope's index, `refs`, `macros`, and what clients call on connect
 * (`GET /version`, `GET /cluster/resources`).
 */
import type { Route } from './router.js';
import { CLUSTER_BASE, type RestDeps, type ScopeBase } from './scopes.js';

/** The Proxmox VE release whose firewall API this layer follows. */
export const PVE_API_VERSION = { version: '8.4.1', release: '8.4' } as const;

/** The children of a scope's index, as each Proxmox handler lists them. */
const INDEX: Readonly<Record<ScopeBase['env'], readonly string[]>> = {
  cluster: ['aliases', 'rules', 'options', 'groups', 'ipset', 'macros', 'refs'],
  host: ['rules', 'options', 'log'],
  vm: ['rules', 'aliases', 'ipset', 'refs', 'options'],
  ct: ['rules', 'aliases', 'ipset', 'refs', 'options'],
  vnet: ['rules', 'options'],
};

/**
 * The index of one scope (`GET {prefix}`) and, where Proxmox has them, `refs` (cluster and guests)
 * and `macros` (cluster only); a guest scope answers only for a guest whose configuration is in the
 * store.
 */
export function indexRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  const routes: Route[] = [
    {
      method: 'GET',
      path: base.prefix,
      schema: base.schema,
      handler: async (ctx) => {
        await base.resolve(ctx.params, deps, ctx.caller.signal);
        return INDEX[base.env].map((name) => ({ name }));
      },
    },
  ];
  if (base.env === 'cluster' || base.env === 'vm' || base.env === 'ct') {
    routes.push({
      method: 'GET',
      path: `${base.prefix}/refs`,
      schema: { ...base.schema, type: { type: 'string', optional: true, enum: ['alias', 'ipset'] } },
      handler: async (ctx) => {
        const scope = await base.resolve(ctx.params, deps, ctx.caller.signal);
        const refs = await deps.api.listRefs(scope, ctx.params.type === undefined ? '' : String(ctx.params.type), ctx.caller.signal);
        return refs.map((r) => ({
          type: r.type,
          name: r.name,
          ref: r.ref,
          scope: r.scope,
          ...(r.comment ? { comment: r.comment } : {}),
        }));
      },
    });
  }
  if (base === CLUSTER_BASE) {
    routes.push({ method: 'GET', path: 'cluster/firewall/macros', schema: {}, handler: () => deps.api.listMacros() });
  }
  return routes;
}

const GUEST_CONFIG = /^nodes\/([^/]+)\/(qemu-server|lxc)\/(\d+)\.conf$/;

/** `GET /version` and `GET /cluster/resources` (guests and nodes from the store). */
export function clusterRoutes(deps: RestDeps, configdVersion: string): Route[] {
  const guests = () =>
    deps.store.mirror
      .list('nodes/')
      .map((r) => ({ r, m: GUEST_CONFIG.exec(r.path) }))
      .filter((x) => x.m !== null && (x.r.content?.length ?? 0) > 0)
      .map(({ r, m }) => {
        const type = m![2] === 'lxc' ? 'lxc' : 'qemu';
        const text = Buffer.from(r.content ?? new Uint8Array(0)).toString('utf8');
        const name = new RegExp(`^${type === 'lxc' ? 'hostname' : 'name'}:\\s*(\\S+)`, 'm').exec(text)?.[1];
        const vmid = Number(m![3]);
        return { id: `${type}/${vmid}`, type, vmid, node: m![1]!, ...(name ? { name } : {}), status: 'unknown', template: /^template:\s*1/m.test(text) ? 1 : 0 };
      })
      .sort((a, b) => a.vmid - b.vmid);
  const nodes = () => {
    const names = new Set(deps.store.mirror.list('nodes/').map((r) => r.path.split('/')[1]!));
    return [...names].sort().map((node) => ({ id: `node/${node}`, type: 'node', node, status: 'unknown' }));
  };
  return [
    {
      method: 'GET',
      path: 'version',
      schema: {},
      handler: () => ({ ...PVE_API_VERSION, repoid: `palisade-configd-${configdVersion}` }),
    },
    {
      method: 'GET',
      path: 'cluster/resources',
      schema: { type: { type: 'string', optional: true, enum: ['vm', 'storage', 'node', 'sdn'] } },
      handler: (ctx) => {
        const type = ctx.params.type;
        if (type === 'vm') return guests();
        if (type === 'node') return nodes();
        if (type === undefined) return [...nodes(), ...guests()];
        return [];
      },
    },
  ];
}
