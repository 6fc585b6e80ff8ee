/**
 * The four firewall scopes of the Proxmox API and where they are mounted: cluster
 * (`/cluster/firewall`), node (`/nodes/{node}/firewall`), guest
 * (`/nodes/{node}/qemu|lxc/{vmid}/firewall`) and vnet (`/cluster/sdn/vnets/{vnet}/firewall`).
 * A guest scope needs the guest's configuration in the store (as a Proxmox node has it).
 */
import type { LogClient } from '@palisade/api';
import type { FirewallApi, FwScope } from '../firewall/firewall-api.js';
import type { DocumentStore } from '../store/document-store.js';
import { NODE, VMID, VNET, type Params, type Schema } from './params.js';
import { failed } from './rest-error.js';

/** What the resource modules need. */
export interface RestDeps {
  readonly api: FirewallApi;
  readonly store: DocumentStore;
  /** palisade-logger, for the log endpoints (absent: they answer 500). */
  readonly logs?: LogClient;
}

/** Rule environment of a scope (`$rule_env` in the Perl source). */
export type RuleEnv = 'cluster' | 'host' | 'vm' | 'ct' | 'vnet' | 'group';

/** One mount point of the firewall endpoints. */
export interface ScopeBase {
  readonly env: Exclude<RuleEnv, 'group'>;
  /** Path template without the leading `/` (e.g. `nodes/{node}/firewall`). */
  readonly prefix: string;
  /** The path parameters of the prefix. */
  readonly schema: Schema;
  /**
   * The scope the parameters address; refuses with Proxmox's error a guest that does not exist
   * (read through the store's read-your-writes, bounded by `signal`).
   */
  resolve(params: Params, deps: RestDeps, signal?: AbortSignal): Promise<FwScope>;
}

function guest(kind: 'qemu' | 'lxc'): ScopeBase {
  const dir = kind === 'qemu' ? 'qemu-server' : 'lxc';
  return {
    env: kind === 'qemu' ? 'vm' : 'ct',
    prefix: `nodes/{node}/${kind}/{vmid}/firewall`,
    schema: { node: NODE, vmid: VMID },
    async resolve(params, deps, signal) {
      const path = `nodes/${String(params.node)}/${dir}/${String(params.vmid)}.conf`;
      // Inferred from qemu-server/pve-container (load_config): the message of a missing guest.
      if (!(await deps.store.readCurrent(path, signal))?.content) throw failed(`Configuration file '${path}' does not exist`);
      return { kind: 'guest', vmid: Number(params.vmid) };
    },
  };
}

/**
 * The cluster scope (`cluster/firewall`); misc.ts compares a base with it by identity for the
 * cluster-only `macros` endpoint.
 */
export const CLUSTER_BASE: ScopeBase = {
  env: 'cluster',
  prefix: 'cluster/firewall',
  schema: {},
  resolve: () => Promise.resolve({ kind: 'cluster' }),
};

/**
 * The node scope (`nodes/{node}/firewall`); unlike a guest, any valid node name resolves, without a
 * lookup in the store.
 */
export const HOST_BASE: ScopeBase = {
  env: 'host',
  prefix: 'nodes/{node}/firewall',
  schema: { node: NODE },
  resolve: (params) => Promise.resolve({ kind: 'host', node: String(params.node) }),
};

/**
 * The VM scope (`nodes/{node}/qemu/{vmid}/firewall`); resolves only while the node's
 * `qemu-server/<vmid>.conf` is in the store.
 */
export const QEMU_BASE = guest('qemu');
/**
 * The container scope (`nodes/{node}/lxc/{vmid}/firewall`); resolves only while the node's
 * `lxc/<vmid>.conf` is in the store.
 */
export const LXC_BASE = guest('lxc');

/**
 * The SDN vnet scope (`cluster/sdn/vnets/{vnet}/firewall`); like a node, any valid vnet name
 * resolves, without a lookup in the store.
 */
export const VNET_BASE: ScopeBase = {
  env: 'vnet',
  prefix: 'cluster/sdn/vnets/{vnet}/firewall',
  schema: { vnet: VNET },
  resolve: (params) => Promise.resolve({ kind: 'vnet', vnet: String(params.vnet) }),
};

/** Every scope, in the order the routes are registered. */
export const SCOPE_BASES: readonly ScopeBase[] = [CLUSTER_BASE, HOST_BASE, QEMU_BASE, LXC_BASE, VNET_BASE];
