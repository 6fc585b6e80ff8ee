/**
 * A simulated case and its preparation (spec §7.3): zone names resolved against the topology,
 * addresses and their types, protocol, ports or ICMP type, with the defaults of the spec.
 * The kernel lab prepares its cases here too, so both see the same packet.
 */
import { icmpTypesFor, lookupProtocol, parsePortList } from '@palisade/fw-lang';
import type { AddrType, IpFamily } from '@palisade/nft-ir';
import type { Topology, TopologyNic } from './compile-types.js';
import { cidrInterval, formatAddress, parseAddress, parseCidr } from './ip.js';

/** One simulated case; field names as in the reference test files (spec §7.1). */
export interface SimCase {
  readonly from: string;
  readonly to: string;
  readonly proto?: string;
  readonly dport?: string | number;
  readonly sport?: string | number;
  readonly source?: string;
  readonly dest?: string;
  readonly srctype?: string;
  readonly dsttype?: string;
}

/** Default source of spec §7.3 (an IPv4 case without `source`). */
export const SIM_DEFAULT_SOURCE = '100.100.1.2';
/** Default destination of spec §7.3 (an IPv4 case without `dest`). */
export const SIM_DEFAULT_DEST = '100.200.3.4';
/** IPv6 default source of spec §7.3 (an IPv6 case without `source`). */
export const SIM_DEFAULT_SOURCE_V6 = '2001:db8:100:1::2';
/** IPv6 default destination of spec §7.3. */
export const SIM_DEFAULT_DEST_V6 = '2001:db8:200:3::4';
/** Port of the zone `outside`. */
export const OUTSIDE_PORT = { bridge: 'vmbr0', port: 'eth0' } as const;
/** Port of the zone `nfvm` (a guest NIC without firewall). */
export const NFVM_PORT = { bridge: 'vmbr0', port: 'tapXYZ' } as const;

/** A resolved zone. */
export type Zone =
  | { readonly kind: 'host' }
  | { readonly kind: 'port'; readonly bridge: string; readonly port: string; readonly nic?: TopologyNic }
  | { readonly kind: 'guest'; readonly nic: TopologyNic };

/** Resolves a zone name of spec §7.3 against the topology. */
export function resolveZone(topology: Topology, name: string, role: 'from' | 'to'): Zone | string {
  if (name === 'host') return { kind: 'host' };
  if (name === 'outside') return { kind: 'port', ...OUTSIDE_PORT };
  if (name === 'nfvm') return { kind: 'port', ...NFVM_PORT };
  let m = /^(vm|ct)(\d+)(?:i(\d+))?$/.exec(name);
  if (m) {
    const vmid = Number(m[2]);
    if (m[3] !== undefined && role === 'to') return `zone '${name}': a NIC index is only allowed for 'from'`;
    if (m[1] === 'ct' && m[3] !== undefined) return `zone '${name}': containers are always net0`;
    const index = m[3] !== undefined ? Number(m[3]) : 0;
    const nic = topology.nics.find((n) => n.vmid === vmid && n.index === index);
    if (!nic) return `zone '${name}': guest ${vmid} has no net${index} on this node`;
    if ((m[1] === 'vm') !== (nic.guestType === 'qemu')) return `zone '${name}': guest ${vmid} is a ${nic.guestType === 'qemu' ? 'VM (vm…)' : 'container (ct…)'}`;
    if (!nic.firewall) return { kind: 'port', bridge: nic.bridge, port: nic.iface, nic };
    return { kind: 'guest', nic };
  }
  m = /^([a-zA-Z][a-zA-Z0-9]{0,9})\/(\S+)$/.exec(name);
  if (m) return { kind: 'port', bridge: m[1] as string, port: m[2] as string };
  return `unknown zone '${name}'`;
}

/**
 * A `dport`/`sport` of a case: one port 0-65535 or one service name, read by fw-lang's port
 * list parser; 'bad' for anything else (lists, ranges, ICMP names).
 */
function parsePortValue(v: string | number | undefined): number | undefined | 'bad' {
  if (v === undefined) return undefined;
  const list = parsePortList(String(v), { icmpNames: false });
  const item = list.ok && list.items.length === 1 ? list.items[0] : undefined;
  if (item?.kind === 'port' || item?.kind === 'service') return item.port;
  return 'bad';
}

function addrType(text: string | undefined, derived: AddrType): AddrType | { error: string } {
  if (text === undefined) return derived;
  const t = text.toLowerCase();
  if (t === 'unicast' || t === 'local' || t === 'broadcast' || t === 'anycast' || t === 'multicast') return t;
  return { error: `unknown address type '${text}'` };
}

/** Address type the kernel's fib would report for an address (approximation for simulate). */
function deriveAddrType(family: IpFamily, a: bigint, topology: Topology): AddrType {
  for (const h of topology.hostAddresses) {
    const c = parseCidr(h);
    if (!c || c.family !== family) continue;
    if (c.address === a) return 'local';
    if (family === 4 && h.includes('/') && c.prefix < 31 && cidrInterval(c).to === a) return 'broadcast';
  }
  if (family === 4) {
    if (a === 0xffffffffn) return 'broadcast';
    if (a >> 28n === 0xen) return 'multicast';
    if (a >> 24n === 127n) return 'local';
  } else if (a >> 120n === 0xffn) return 'multicast';
  return 'unicast';
}

/** A case resolved into zones and a concrete packet (shared by simulate and the kernel lab). */
export interface PreparedCase {
  readonly from: Zone;
  readonly to: Zone;
  readonly family: IpFamily;
  readonly source: string;
  readonly dest: string;
  readonly protoName: string;
  readonly l4proto: number;
  /** Undefined when the case gives none: then no port rule matches (as in the reference). */
  readonly sport?: number;
  readonly dport?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** The case's `dport` text for an ICMP case (the reference matches ICMP types by spelling). */
  readonly icmpSpelling?: string;
  readonly srctype: AddrType;
  readonly dsttype: AddrType;
  /**
   * Address types as the reference simulator sees them: as given by the case, else UNICAST
   * whatever the address (spec §7.4 point 8), e.g. 239.1.1.1 without `dsttype` is UNICAST.
   */
  readonly referenceSrctype: AddrType;
  readonly referenceDsttype: AddrType;
  /** Address types were given explicitly by the case (not derived from the addresses). */
  readonly explicitTypes: boolean;
}

/** Resolves zones, defaults and the packet of a case (spec §7.3). */
export function prepareCase(topo: Topology, c: SimCase): { ok: true; prepared: PreparedCase } | { ok: false; error: string } {
  const from = resolveZone(topo, c.from, 'from');
  if (typeof from === 'string') return { ok: false, error: from };
  const to = resolveZone(topo, c.to, 'to');
  if (typeof to === 'string') return { ok: false, error: to };
  if (c.from === c.to) return { ok: false, error: "'from' and 'to' are the same zone" };
  if (from.kind === 'host' && to.kind === 'host') return { ok: false, error: 'host to host is not simulated' };

  const given = [c.source, c.dest].filter((x): x is string => x !== undefined).map((x) => parseAddress(x));
  if (given.some((g) => g === undefined)) return { ok: false, error: `invalid address in source/dest` };
  const family: IpFamily = given.some((g) => g?.family === 6) ? 6 : 4;
  const hostAddr = topo.hostAddresses.map((h) => parseCidr(h)).find((h) => h?.family === family);
  let source = c.source;
  let dest = c.dest;
  if (source === undefined && from.kind === 'host') {
    if (!hostAddr) return { ok: false, error: `no IPv${family} host address` };
    source = formatAddress(family, hostAddr.address);
  }
  if (dest === undefined && to.kind === 'host') {
    if (!hostAddr) return { ok: false, error: `no IPv${family} host address` };
    dest = formatAddress(family, hostAddr.address);
  }
  source ??= family === 4 ? SIM_DEFAULT_SOURCE : SIM_DEFAULT_SOURCE_V6;
  dest ??= family === 4 ? SIM_DEFAULT_DEST : SIM_DEFAULT_DEST_V6;
  const s = parseAddress(source);
  const d = parseAddress(dest);
  if (!s || !d || s.family !== d.family) return { ok: false, error: 'source and dest must be addresses of one family' };

  const protoName = c.proto ?? 'tcp';
  const l4proto = protoName === 'icmpv6' ? 58 : lookupProtocol(protoName)?.number;
  if (l4proto === undefined) return { ok: false, error: `unknown protocol '${protoName}'` };
  let icmpType: number | undefined;
  let icmpCode: number | undefined;
  let sport: number | undefined;
  let dport: number | undefined;
  if (l4proto === 1 || l4proto === 58) {
    const fam: IpFamily = l4proto === 1 ? 4 : 6;
    const spec = c.dport === undefined ? 'echo-request' : String(c.dport);
    if (/^\d+$/.test(spec)) icmpType = Number(spec);
    else {
      const info = icmpTypesFor(fam).get(spec);
      if (!info || info.any === true) return { ok: false, error: `unknown ICMP type '${spec}'` };
      icmpType = info.type;
      icmpCode = info.code;
    }
    icmpCode ??= 0;
  } else {
    const dp = parsePortValue(c.dport);
    const sp = parsePortValue(c.sport);
    if (dp === 'bad' || sp === 'bad') {
      const [key, value] = dp === 'bad' ? ['dport', c.dport] : ['sport', c.sport];
      return { ok: false, error: `invalid ${key} '${String(value)}' (a port 0-65535 or a service name)` };
    }
    dport = dp;
    sport = sp;
  }
  const srctype = addrType(c.srctype, deriveAddrType(family, s.address, topo));
  const dsttype = addrType(c.dsttype, deriveAddrType(family, d.address, topo));
  if (typeof srctype !== 'string') return { ok: false, error: srctype.error };
  if (typeof dsttype !== 'string') return { ok: false, error: dsttype.error };
  return {
    ok: true,
    prepared: {
      from,
      to,
      family,
      source: formatAddress(family, s.address),
      dest: formatAddress(family, d.address),
      protoName,
      l4proto,
      ...(sport !== undefined ? { sport } : {}),
      ...(dport !== undefined ? { dport } : {}),
      ...(icmpType !== undefined ? { icmpType, icmpCode } : {}),
      ...((l4proto === 1 || l4proto === 58) && c.dport !== undefined ? { icmpSpelling: String(c.dport) } : {}),
      srctype,
      dsttype,
      referenceSrctype: c.srctype !== undefined ? srctype : 'unicast',
      referenceDsttype: c.dsttype !== undefined ? dsttype : 'unicast',
      explicitTypes: c.srctype !== undefined || c.dsttype !== undefined,
    },
  };
}
