/**
 * Options endpoints of every scope (Proxmox `get_options`/`set_options`): values typed
 * (booleans and integers as numbers), `delete` lists, the digest, and the cluster `enable`
 * anti-lockout switch (a value above 1 is stored as the current time; FirewallApi).
 */
import { LOG_LEVEL_VALUES, DIGEST, digestPrecondition, splitList, type ParamSpec, type Schema } from './params.js';
import { assertUnmodified, paramError } from './rest-error.js';
import type { Route } from './router.js';
import type { RestDeps, ScopeBase } from './scopes.js';

const BOOL: ParamSpec = { type: 'boolean', optional: true };
const LEVEL: ParamSpec = { type: 'string', optional: true, enum: LOG_LEVEL_VALUES };
const POLICY: ParamSpec = { type: 'string', optional: true, enum: ['ACCEPT', 'REJECT', 'DROP'] };
const uint = (minimum = 0, maximum?: number): ParamSpec => ({ type: 'integer', optional: true, minimum, ...(maximum !== undefined ? { maximum } : {}) });

/** The option properties of each scope (`$cluster_option_properties` etc. in PVE::Firewall). */
export const OPTION_PROPERTIES: Readonly<Record<ScopeBase['env'], Schema>> = {
  cluster: {
    enable: uint(),
    ebtables: BOOL,
    policy_in: POLICY,
    policy_out: POLICY,
    policy_forward: { type: 'string', optional: true, enum: ['ACCEPT', 'DROP'] },
    log_ratelimit: { type: 'string', optional: true },
  },
  host: {
    enable: BOOL,
    nosmurfs: BOOL,
    tcpflags: BOOL,
    ndp: BOOL,
    log_nf_conntrack: BOOL,
    nf_conntrack_allow_invalid: BOOL,
    protection_synflood: BOOL,
    nftables: BOOL,
    log_level_in: LEVEL,
    log_level_out: LEVEL,
    log_level_forward: LEVEL,
    tcp_flags_log_level: LEVEL,
    smurf_log_level: LEVEL,
    nf_conntrack_helpers: { type: 'string', optional: true },
    nf_conntrack_max: uint(32768),
    nf_conntrack_tcp_timeout_established: uint(7875),
    nf_conntrack_tcp_timeout_syn_recv: uint(30, 60),
    protection_synflood_rate: uint(),
    protection_synflood_burst: uint(),
  },
  vm: guestOptions(),
  ct: guestOptions(),
  vnet: {
    enable: BOOL,
    policy_forward: { type: 'string', optional: true, enum: ['ACCEPT', 'DROP'] },
    log_level_forward: LEVEL,
  },
};

function guestOptions(): Schema {
  return {
    enable: BOOL,
    dhcp: BOOL,
    ndp: BOOL,
    radv: BOOL,
    macfilter: BOOL,
    ipfilter: BOOL,
    policy_in: POLICY,
    policy_out: POLICY,
    log_level_in: LEVEL,
    log_level_out: LEVEL,
  };
}

/**
 * The options endpoints of one scope (`GET` and `PUT {prefix}/options`), checked against its
 * `OPTION_PROPERTIES`; a PUT that changes nothing still checks the digest, as Proxmox does.
 */
export function optionRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  const { api } = deps;
  const props = OPTION_PROPERTIES[base.env];
  return [
    {
      method: 'GET',
      path: `${base.prefix}/options`,
      schema: base.schema,
      handler: async (ctx) => {
        const r = await api.getTypedOptions(await base.resolve(ctx.params, deps, ctx.caller.signal), ctx.nowMs, ctx.caller.signal);
        return { ...r.options, digest: r.digest };
      },
    },
    {
      method: 'PUT',
      path: `${base.prefix}/options`,
      schema: { ...base.schema, ...props, delete: { type: 'string', optional: true }, digest: DIGEST },
      handler: async (ctx) => {
        const scope = await base.resolve(ctx.params, deps, ctx.caller.signal);
        const remove = splitList(ctx.params.delete);
        for (const name of remove) if (props[name] === undefined) throw paramError({ delete: `no such option '${name}'` });
        const set: Record<string, string> = {};
        for (const name of Object.keys(props)) {
          const v = ctx.params[name];
          if (v !== undefined && v !== '') set[name] = String(v);
        }
        const digest = digestPrecondition(ctx.params);
        if (Object.keys(set).length === 0 && remove.length === 0) {
          // Proxmox saves the unchanged file; only the digest is checked.
          const current = (await api.getTypedOptions(scope, ctx.nowMs, ctx.caller.signal)).digest;
          assertUnmodified(digest, current);
          return null;
        }
        await api.setOptions(scope, set, remove, digest, ctx.caller, ctx.nowMs);
        return null;
      },
    },
  ];
}
