/**
 * The node's topology as the compiler sees it: host addresses, the local network, and every
 * guest NIC of this node with the device names pve-firewall gives it (`tap<V>i<N>`,
 * `fwbr<V>i<N>`, …). Simulate and the agent read the same topology from the compile result.
 */
import { guestOptions, type FwDocument, type GuestConfig } from '@palisade/fw-lang';
import type { CompileTree, NodeFacts, Topology, TopologyNic } from './compile-types.js';
import { cidrInterval, formatInterval, parseCidr } from './ip.js';

/** The host addresses from the facts, else the node's corosync `ring0_addr` when it is an address. */
function hostAddressesOf(tree: CompileTree, facts: NodeFacts): string[] {
  if (facts.hostAddresses && facts.hostAddresses.length > 0) return [...facts.hostAddresses];
  const me = tree.corosync?.nodes.find((n) => n.name === facts.node);
  const ring0 = me?.rings.get(0);
  if (ring0 !== undefined && parseCidr(ring0)) return [ring0];
  return [];
}

/** The topology of `facts.node`: its guests (sorted by vmid, NICs by index) and addresses. */
export function buildTopology(tree: CompileTree, facts: NodeFacts): Topology {
  const hostAddresses = hostAddressesOf(tree, facts);
  const nics: TopologyNic[] = [];
  const bridges = new Set<string>(['vmbr0']);
  const vmids = [...tree.guestConfigs.entries()]
    .filter(([, g]) => g.node === facts.node)
    .map(([vmid]) => vmid)
    .sort((a, b) => a - b);
  for (const vmid of vmids) {
    const { config } = tree.guestConfigs.get(vmid) as { config: GuestConfig };
    const opts = guestOptions(tree.guests.get(vmid));
    const enabled = opts?.enable === true;
    const prefix = config.guestType === 'qemu' ? 'tap' : 'veth';
    for (const nic of [...config.nics].sort((a, b) => a.index - b.index)) {
      const bridge = nic.bridge ?? 'vmbr0';
      bridges.add(bridge);
      nics.push({
        vmid,
        index: nic.index,
        guestType: config.guestType,
        iface: `${prefix}${vmid}i${nic.index}`,
        bridge,
        ...(nic.mac !== undefined ? { mac: nic.mac } : {}),
        firewall: nic.firewall,
        filtered: enabled && nic.firewall,
        fwbr: `fwbr${vmid}i${nic.index}`,
        fwln: `fwln${vmid}i${nic.index}`,
        fwpr: `fwpr${vmid}p${nic.index}`,
        ...(nic.ip !== undefined ? { ip: nic.ip } : {}),
        ...(nic.ip6 !== undefined ? { ip6: nic.ip6 } : {}),
      });
    }
  }
  const localNetwork = localNetworkOf(tree.cluster, facts, hostAddresses);
  return {
    node: facts.node,
    hostAddresses,
    ...(localNetwork !== undefined ? { localNetwork } : {}),
    bridges: [...bridges].sort(),
    nics,
  };
}

/** `local_network`: cluster.fw's alias, else the facts, else the network of the first host address. */
function localNetworkOf(cluster: FwDocument | undefined, facts: NodeFacts, hostAddresses: readonly string[]): string | undefined {
  const alias = cluster?.aliases.get('local_network');
  if (alias) return alias.cidr;
  if (facts.localNetwork !== undefined) return facts.localNetwork;
  const first = hostAddresses[0];
  if (first === undefined) return undefined;
  const c = parseCidr(first);
  if (!c) return undefined;
  const prefix = first.includes('/') ? c.prefix : c.family === 4 ? 24 : 64;
  return formatInterval(cidrInterval({ ...c, prefix }));
}
