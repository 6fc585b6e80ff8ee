/**
 * The kernel lab: builds the node's topology out of network namespaces, applies a compiled
 * Palisade ruleset inside the host namespace, sends one real packet per case and classifies
 * what happened (delivered = ACCEPT, silence = DROP, TCP reset / ICMP unreachable = REJECT).
 * A packet the host sends itself and its output hook drops or rejects fails in sendmsg with
 * EPERM either way; REJECT is then told from DROP by the ICMP error (or TCP reset) that the
 * kernel delivers back to the sending socket within milliseconds (see `NamespaceAgent`).
 *
 * Topology (all inside namespaces this lab creates and removes; nothing in the caller's
 * namespace is touched):
 * - host namespace: bridges of the guests (vmbr0 always) with the host addresses on vmbr0,
 *   br_netfilter on, forwarding on; per firewalled NIC the pve layout
 *   `tap/veth<V>i<N>` ─ fwbr<V>i<N> ─ fwln<V>i<N> ═ fwpr<V>p<N> ─ vmbrX;
 *   non-firewalled NICs as plain ports of their bridge;
 * - one namespace per guest NIC (`eth0` with the NIC's MAC), one for `outside`
 *   (port eth0 of vmbr0), one for `nfvm` (port tapXYZ) and one per other `<bridge>/<port>` zone.
 * Addresses, routes and static neighbours are set per case and removed after it, so every
 * case may use its own source and destination addresses.
 *
 * Cases are independent: before each probe the host namespace's conntrack table (the only
 * one: no other namespace has rules that use conntrack) is flushed and checked to be empty,
 * after the previous case's sockets are closed and its addresses removed (see `runCase`).
 *
 * Outcomes: a case the lab cannot reproduce or set up is a SKIP with the reason, and the run
 * goes on; a missing program, a topology that cannot be built, a ruleset nft refuses, a
 * conntrack table that cannot be emptied or an agent that dies fail the whole run
 * (`LabError`), because no verdict after them could be trusted.
 */
import { randomBytes } from 'node:crypto';
import {
  NFVM_PORT,
  REQUIRED_SYSCTLS,
  OUTSIDE_PORT,
  parseAddress,
  parseCidr,
  prepareCase,
  renderNftText,
  resolveZone,
  type CompileResult,
  type PreparedCase,
  type SimCase,
  type Zone,
} from '@palisade/fw-compile';
import { NamespaceAgent, type AgentReply } from './agent.js';
import { ipBatch, LabError, missingToolError, run } from './exec.js';

/**
 * The verdict of one case as observed with a real packet, comparable with `simulate`'s; `SKIP`
 * when the lab could not reproduce or set up the case (see `LabSkipKind`).
 */
export type LabVerdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'SKIP';

/**
 * Why a case is a SKIP: `unsupported` — real packets from sockets cannot reproduce it (other
 * protocols, broadcast/multicast addresses…); `setup-failed` — its addresses, routes or
 * neighbours could not be configured (`ip -batch` refused them); `probe-failed` — the probe
 * failed locally (a bind, connect or ping error) instead of sending a packet.
 */
export type LabSkipKind = 'unsupported' | 'setup-failed' | 'probe-failed';

/**
 * The outcome of one case of `runLab`, in case order (also passed to `onResult` as it comes).
 * `observed` says what the verdict was concluded from.
 */
export interface LabCaseResult {
  readonly case: SimCase;
  readonly verdict: LabVerdict;
  /**
   * What the sender saw: `connected`, `reply` (ACCEPT); `timeout`, `EPERM` (DROP: silence,
   * EPERM when the host's own output hook dropped it); `ECONNREFUSED`, `EHOSTUNREACH`,
   * `EACCES`, `unreachable` (REJECT: TCP reset or ICMP error). See `NamespaceAgent`.
   */
  readonly observed?: string;
  /** Why a case was skipped (set for every SKIP). */
  readonly reason?: string;
  /** Set for every SKIP. */
  readonly skip?: LabSkipKind;
  /** Ports actually used when the case left them open. */
  readonly sport?: number;
  readonly dport?: number;
}

/** Options of `runLab`. Each has a default, so `runLab(compiled, cases)` alone builds the topology, probes and cleans up. */
export interface LabOptions {
  /**
   * How long silence must last before a probe counts as dropped; a datagram the host's own
   * output hook refused (EPERM) waits as long for a REJECT's ICMP error. Default 400 ms
   * (`DEFAULT_PROBE_TIMEOUT_MS`); ICMP echo waits at least 1 s (ping's resolution).
   */
  readonly probeTimeoutMs?: number;
  /** Prefix of the namespaces; default `pl-<random>`. */
  readonly prefix?: string;
  /** Aborts the run: the current command is killed, everything created is removed, `runLab` rejects with `aborted`. */
  readonly signal?: AbortSignal;
  /** Called after each case (for streaming output). */
  readonly onResult?: (r: LabCaseResult, index: number) => void;
  /** Ruleset text to apply; default: `renderNftText` of the compile result. */
  readonly nftText?: string;
}

/** Default `LabOptions.probeTimeoutMs`, in milliseconds. */
export const DEFAULT_PROBE_TIMEOUT_MS = 400;

interface Endpoint {
  /** Namespace of the endpoint (the host namespace for `host`). */
  readonly ns: string;
  /** Device the endpoint sends from (inside its namespace); for the host: the bridge. */
  readonly dev: string;
  readonly mac: string;
  /** Bridge the endpoint is attached to. */
  readonly bridge: string;
  readonly isHost: boolean;
}

interface PortNs {
  readonly bridge: string;
  readonly port: string;
  readonly ns: string;
  readonly mac: string;
}

function mac(prefix: number, n: number): string {
  const b = [0x02, 0x00, (prefix >> 8) & 0xff, prefix & 0xff, (n >> 8) & 0xff, n & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

type PortRanges = readonly (readonly [number, number])[];

const inRanges = (ranges: PortRanges, p: number): boolean => ranges.some(([a, b]) => a <= p && p <= b);

/**
 * Picks the ports a case leaves open so that no port match of the ruleset matches the packet,
 * as `simulate` assumes for a case without ports. Source ports avoid every source port any
 * rule names; a destination port has to avoid only the destination ports of rules whose
 * source-port match (if any) the packet's source port meets — so `udp sport 137 dport
 * 1024-65535` of the DROP pre-chain does not rule out every high destination port.
 */
class PortPicker {
  private readonly rules: { readonly sport?: PortRanges; readonly dport?: PortRanges }[] = [];
  private readonly sports: number[];

  constructor(compiled: CompileResult) {
    for (const t of compiled.ruleset.tables)
      for (const c of t.chains)
        for (const r of c.rules) {
          const sport = r.matches.flatMap((m) => (m.kind === 'port' && m.field === 'sport' ? m.ranges : []));
          const dport = r.matches.flatMap((m) => (m.kind === 'port' && m.field === 'dport' ? m.ranges : []));
          if (sport.length > 0 || dport.length > 0) this.rules.push({ ...(sport.length > 0 ? { sport } : {}), ...(dport.length > 0 ? { dport } : {}) });
        }
    const usedSports = this.rules.flatMap((r) => r.sport ?? []);
    this.sports = [];
    for (let p = 41000; p <= 59999 && this.sports.length < 4000; p++) if (!inRanges(usedSports, p)) this.sports.push(p);
  }

  /** The case's ports, the `n`-th free ones where it gives none; undefined when none is free. */
  pick(n: number, sport: number | undefined, dport: number | undefined): { sport: number; dport: number } | undefined {
    const sp = sport ?? this.sports[n % Math.max(1, this.sports.length)];
    if (sp === undefined) return undefined;
    if (dport !== undefined) return { sport: sp, dport };
    const relevant = this.rules.filter((r) => r.dport && (!r.sport || inRanges(r.sport, sp))).flatMap((r) => r.dport ?? []);
    const span = 20000;
    for (let i = 0; i < span; i++) {
      const p = 20000 + ((n + i) % span);
      if (!inRanges(relevant, p)) return { sport: sp, dport: p };
    }
    return undefined;
  }
}

const HOST_LIKE = new Set(['local']);

/**
 * Multicast or broadcast by the address itself, whatever type the case claims: 224.0.0.0/4,
 * ff00::/8, 255.255.255.255 and the broadcast address of a host network (`hostAddresses` with
 * their prefixes, as in the topology).
 */
function groupAddressKind(address: string, hostAddresses: readonly string[]): 'multicast' | 'broadcast' | undefined {
  const a = parseAddress(address);
  if (!a) return undefined;
  if (a.family === 6) return a.address >> 120n === 0xffn ? 'multicast' : undefined;
  if (a.address >> 28n === 0xen) return 'multicast';
  if (a.address === 0xffffffffn) return 'broadcast';
  for (const h of hostAddresses) {
    const c = h.includes('/') ? parseCidr(h) : undefined;
    if (!c || c.family !== 4 || c.prefix >= 31) continue;
    const hostBits = (1n << BigInt(32 - c.prefix)) - 1n;
    if ((c.address | hostBits) === a.address) return 'broadcast';
  }
  return undefined;
}

/**
 * A reason to skip a case that real packets from sockets cannot reproduce, or undefined.
 * `hostAddresses` are the topology's host addresses (with or without prefix). A multicast or
 * broadcast destination is skipped even when the case calls it UNICAST: the lab sends from
 * connected sockets to one receiver that owns the destination address, which a group address
 * cannot be (and the kernel never answers such a packet with a reset or ICMP error).
 */
export function skipReason(pc: PreparedCase, hostAddresses: readonly string[]): string | undefined {
  const hostAddrs = new Set(hostAddresses.map((a) => a.split('/')[0] as string));
  if (pc.l4proto !== 6 && pc.l4proto !== 17 && pc.l4proto !== 1 && pc.l4proto !== 58) return `protocol ${pc.protoName}: the lab sends only TCP, UDP and ICMP echo`;
  if ((pc.l4proto === 1 && pc.icmpType !== 8) || (pc.l4proto === 58 && pc.icmpType !== 128)) return 'only ICMP echo requests can be sent';
  const srcGroup = groupAddressKind(pc.source, hostAddresses);
  if (srcGroup) return `source ${pc.source} is a ${srcGroup} address: it cannot be sent from a socket`;
  const dstGroup = groupAddressKind(pc.dest, hostAddresses);
  if (dstGroup) return `destination ${pc.dest} is a ${dstGroup} address: the lab sends only to one unicast receiver`;
  if (pc.srctype !== 'unicast' && !(pc.srctype === 'local' && pc.from.kind === 'host')) return `source address type ${pc.srctype.toUpperCase()} cannot be sent from a socket`;
  if (pc.dsttype !== 'unicast' && !(HOST_LIKE.has(pc.dsttype) && pc.to.kind === 'host')) return `destination address type ${pc.dsttype.toUpperCase()} cannot be reproduced`;
  if (pc.source === pc.dest) return 'source and destination are the same address';
  if (pc.sport === 0) return 'source port 0 cannot be bound by a socket';
  if (pc.from.kind !== 'host' && hostAddrs.has(pc.source)) return "source is the host's own address";
  if (pc.to.kind !== 'host' && hostAddrs.has(pc.dest)) return "destination is the host's own address";
  if (/^(0\.|127\.|::$|::1$|fe80:)/.test(pc.source) || /^(0\.|127\.|::$|::1$|fe80:)/.test(pc.dest)) return 'loopback, unspecified or link-local address';
  return undefined;
}

/** A built topology; `destroy()` removes every namespace and agent it created. */
export class LabTopology {
  readonly host: string;
  private readonly namespaces: string[] = [];
  private readonly agents = new Map<string, NamespaceAgent>();
  private readonly ports = new Map<string, PortNs>();
  private readonly nicNs = new Map<string, { ns: string; mac: string }>();
  readonly bridgeMacs = new Map<string, string>();
  private destroyed = false;
  private probes = 0;
  private portPicker: PortPicker | undefined;

  private constructor(
    readonly prefix: string,
    readonly compiled: CompileResult,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.host = `${prefix}-host`;
  }

  /**
   * Creates the topology for a compile result and the zones the cases name. A failure
   * removes what was created and rejects (`command-failed`, `missing-tool`, `aborted`).
   */
  static async create(compiled: CompileResult, cases: readonly SimCase[], options: { prefix?: string; signal?: AbortSignal } = {}): Promise<LabTopology> {
    const prefix = options.prefix ?? `pl-${randomBytes(3).toString('hex')}`;
    const topo = new LabTopology(prefix, compiled, options.signal);
    try {
      await topo.build(cases);
    } catch (err) {
      await topo.destroy();
      throw err;
    }
    return topo;
  }

  private async addNs(name: string): Promise<void> {
    await run('ip', ['netns', 'add', name], { signal: this.signal });
    this.namespaces.push(name);
  }

  private async build(cases: readonly SimCase[]): Promise<void> {
    const t = this.compiled.topology;
    const portZones = new Map<string, { bridge: string; port: string }>();
    portZones.set(`${OUTSIDE_PORT.bridge}/${OUTSIDE_PORT.port}`, OUTSIDE_PORT);
    portZones.set(`${NFVM_PORT.bridge}/${NFVM_PORT.port}`, NFVM_PORT);
    for (const c of cases) {
      for (const [z, role] of [
        [c.from, 'from'],
        [c.to, 'to'],
      ] as const) {
        const zone = resolveZone(t, z, role);
        if (typeof zone !== 'string' && zone.kind === 'port' && !zone.nic) portZones.set(`${zone.bridge}/${zone.port}`, { bridge: zone.bridge, port: zone.port });
      }
    }
    const bridges = new Set<string>(t.bridges);
    for (const p of portZones.values()) bridges.add(p.bridge);
    const bridgeList = [...bridges].sort();

    await this.addNs(this.host);
    const hostLines: string[] = ['link set lo up'];
    bridgeList.forEach((b, i) => {
      const m = mac(0xfe, i + 1);
      this.bridgeMacs.set(b, m);
      hostLines.push(`link add ${b} type bridge mcast_snooping 0`, `link set ${b} address ${m} up`);
    });
    for (const a of t.hostAddresses) {
      const withPrefix = a.includes('/') ? a : a.includes(':') ? `${a}/64` : `${a}/24`;
      hostLines.push(`addr add ${withPrefix} dev vmbr0${a.includes(':') ? ' nodad' : ''}`);
    }
    let k = 0;
    for (const p of portZones.values()) {
      k++;
      const ns = `${this.prefix}-p${k}`;
      await this.addNs(ns);
      const m = mac(0x01, k);
      this.ports.set(`${p.bridge}/${p.port}`, { ...p, ns, mac: m });
      hostLines.push(`link add ${p.port} type veth peer name eth0 netns ${ns}`, `link set ${p.port} master ${p.bridge} up`);
    }
    let g = 0;
    for (const nic of t.nics) {
      g++;
      const ns = `${this.prefix}-g${g}`;
      await this.addNs(ns);
      const m = (nic.mac ?? mac(0x02, g)).toLowerCase();
      this.nicNs.set(`${nic.vmid}/${nic.index}`, { ns, mac: m });
      hostLines.push(`link add ${nic.iface} type veth peer name eth0 netns ${ns}`);
      if (nic.firewall) {
        hostLines.push(
          `link add ${nic.fwbr} type bridge mcast_snooping 0`,
          `link set ${nic.fwbr} up`,
          `link set ${nic.iface} master ${nic.fwbr} up`,
          `link add ${nic.fwln} type veth peer name ${nic.fwpr}`,
          `link set ${nic.fwln} master ${nic.fwbr} up`,
          `link set ${nic.fwpr} master ${nic.bridge} up`,
        );
      } else {
        hostLines.push(`link set ${nic.iface} master ${nic.bridge} up`);
      }
    }
    const sysctl = [
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`),
    ];
    await run('ip', ['netns', 'exec', this.host, 'sysctl', '-q', '-w', ...sysctl], { signal: this.signal });
    await ipBatch(this.host, hostLines, { signal: this.signal });
    const endpoints: [string, string][] = [...this.ports.values()].map((p) => [p.ns, p.mac]);
    for (const v of this.nicNs.values()) endpoints.push([v.ns, v.mac]);
    for (const [ns, m] of endpoints) {
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv4.ip_local_port_range=40000 40999'], {
        signal: this.signal,
      });
      await ipBatch(ns, ['link set lo up', `link set eth0 address ${m} up`], { signal: this.signal });
    }
    for (const ns of this.namespaces) this.agents.set(ns, new NamespaceAgent(ns));
  }

  /** Applies a ruleset text inside the host namespace (one `nft -f -` transaction); `apply-failed` with nft's message when refused. */
  async apply(text: string): Promise<void> {
    const r = await run('ip', ['netns', 'exec', this.host, 'nft', '-f', '-'], { input: text, signal: this.signal, check: false, timeoutMs: 120_000 });
    if (r.code !== 0) throw new LabError('apply-failed', `nft refused the ruleset: ${r.stderr.trim().slice(0, 2000)}`, { command: 'nft -f -', stderr: r.stderr });
  }

  /** The agent of one of this topology's namespaces; throws `agent-failed` for another name. */
  agent(ns: string): NamespaceAgent {
    const a = this.agents.get(ns);
    if (!a) throw new LabError('agent-failed', `no agent for ${ns}`);
    return a;
  }

  /** Where a zone sends from or receives in, given the zone at the other end (the host uses the peer's bridge). */
  endpoint(zone: Zone, peer: Zone): Endpoint {
    if (zone.kind === 'host') {
      const bridge = peer.kind === 'host' ? 'vmbr0' : peer.kind === 'port' ? peer.bridge : peer.nic.bridge;
      return { ns: this.host, dev: bridge, mac: this.bridgeMacs.get(bridge) ?? '', bridge, isHost: true };
    }
    if (zone.kind === 'guest' || zone.nic) {
      const nic = zone.kind === 'guest' ? zone.nic : zone.nic!;
      const n = this.nicNs.get(`${nic.vmid}/${nic.index}`);
      if (!n) throw new LabError('agent-failed', `no namespace for guest ${nic.vmid} net${nic.index}`);
      return { ns: n.ns, dev: 'eth0', mac: n.mac, bridge: nic.bridge, isHost: false };
    }
    const p = this.ports.get(`${zone.bridge}/${zone.port}`);
    if (!p) throw new LabError('agent-failed', `no namespace for port ${zone.bridge}/${zone.port}`);
    return { ns: p.ns, dev: 'eth0', mac: p.mac, bridge: p.bridge, isHost: false };
  }

  /**
   * Empties the host namespace's conntrack table (`conntrack -F`) and checks that it is empty
   * (`conntrack -C`). Throws `missing-tool` without conntrack, `command-failed` when the flush
   * fails, `conntrack-not-empty` (with the entries) when entries remain.
   */
  async flushConntrack(): Promise<void> {
    const exec = (args: string[]) => run('ip', ['netns', 'exec', this.host, 'conntrack', ...args], { timeoutMs: 5000, ...(this.signal ? { signal: this.signal } : {}) });
    await exec(['-F']);
    const count = (await exec(['-C'])).stdout.trim();
    if (count !== '0') {
      const listed = await exec(['-L']).catch((err: unknown) => ({ stdout: `(cannot list: ${String(err)})` }));
      throw new LabError('conntrack-not-empty', `conntrack table of ${this.host} not empty after a flush (${count} entries): ${listed.stdout.trim().slice(0, 2000)}`, {
        command: 'conntrack -C',
      });
    }
  }

  /**
   * Sends one case's packets through whatever ruleset the host namespace holds now (applied by
   * `apply()` or by someone else, e.g. a node agent) and classifies the outcome, as `runLab`
   * does for each of its cases. Ports a case leaves open are chosen from the ruleset this
   * topology was created for.
   */
  async probe(c: SimCase, options: { readonly timeoutMs?: number } = {}): Promise<LabCaseResult> {
    this.portPicker ??= new PortPicker(this.compiled);
    return runCase(this, c, options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, this.portPicker, this.probes++, this.signal);
  }

  /** Removes every namespace and stops every agent this topology created. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
    for (const ns of [...this.namespaces].reverse()) {
      await run('ip', ['netns', 'del', ns], { check: false, timeoutMs: 15_000 }).catch(() => undefined);
    }
  }
}

/** Per-case address, route and neighbour configuration with its undo. */
interface CaseSetup {
  readonly apply: Map<string, string[]>;
  readonly undo: Map<string, string[]>;
}

function plen(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function caseSetup(topo: LabTopology, pc: PreparedCase, snd: Endpoint, rcv: Endpoint, hostAddrs: ReadonlySet<string>): CaseSetup {
  const apply = new Map<string, string[]>();
  const undo = new Map<string, string[]>();
  const add = (ns: string, line: string, rev: string): void => {
    apply.set(ns, [...(apply.get(ns) ?? []), line]);
    undo.set(ns, [rev, ...(undo.get(ns) ?? [])]);
  };
  const L = plen(pc.family);
  const nodad = pc.family === 6 ? ' nodad' : '';
  const S = pc.source;
  const D = pc.dest;
  const H = topo.host;
  const sameL2 = !snd.isHost && !rcv.isHost && snd.bridge === rcv.bridge;
  // sender
  if (snd.isHost) {
    if (!hostAddrs.has(S)) add(H, `addr add ${S}/${L} dev lo${nodad}`, `addr del ${S}/${L} dev lo`);
    add(H, `route replace ${D}/${L} dev ${rcv.bridge} src ${S}`, `route del ${D}/${L} dev ${rcv.bridge}`);
    add(H, `neigh replace ${D} lladdr ${rcv.mac} dev ${rcv.bridge} nud permanent`, `neigh del ${D} dev ${rcv.bridge}`);
  } else {
    add(snd.ns, `addr add ${S}/${L} dev eth0${nodad}`, `addr del ${S}/${L} dev eth0`);
    add(snd.ns, `route replace ${D}/${L} dev eth0 src ${S}`, `route del ${D}/${L} dev eth0`);
    const nextMac = sameL2 ? rcv.mac : (topo.bridgeMacs.get(snd.bridge) ?? '');
    add(snd.ns, `neigh replace ${D} lladdr ${nextMac} dev eth0 nud permanent`, `neigh del ${D} dev eth0`);
    // the host needs the way back to the sender (replies it routes, REJECT answers it sends)
    add(H, `route replace ${S}/${L} dev ${snd.bridge}`, `route del ${S}/${L} dev ${snd.bridge}`);
    add(H, `neigh replace ${S} lladdr ${snd.mac} dev ${snd.bridge} nud permanent`, `neigh del ${S} dev ${snd.bridge}`);
  }
  // receiver
  if (rcv.isHost) {
    if (!hostAddrs.has(D)) add(H, `addr add ${D}/${L} dev lo${nodad}`, `addr del ${D}/${L} dev lo`);
  } else {
    add(rcv.ns, `addr add ${D}/${L} dev eth0${nodad}`, `addr del ${D}/${L} dev eth0`);
    add(rcv.ns, `route replace ${S}/${L} dev eth0 src ${D}`, `route del ${S}/${L} dev eth0`);
    const backMac = sameL2 ? snd.mac : (topo.bridgeMacs.get(rcv.bridge) ?? '');
    add(rcv.ns, `neigh replace ${S} lladdr ${backMac} dev eth0 nud permanent`, `neigh del ${S} dev eth0`);
    if (!snd.isHost && !sameL2) {
      add(H, `route replace ${D}/${L} dev ${rcv.bridge}`, `route del ${D}/${L} dev ${rcv.bridge}`);
      add(H, `neigh replace ${D} lladdr ${rcv.mac} dev ${rcv.bridge} nud permanent`, `neigh del ${D} dev ${rcv.bridge}`);
    }
  }
  return { apply, undo };
}

/**
 * What a probe's observation means. Exactly these are verdicts; anything else (an errno a
 * firewall does not cause) is not, and the case becomes a `probe-failed` SKIP.
 */
const OBSERVED_VERDICT: Readonly<Record<string, Exclude<LabVerdict, 'SKIP'>>> = {
  connected: 'ACCEPT',
  reply: 'ACCEPT',
  timeout: 'DROP',
  // the host's own output hook dropped the datagram and no ICMP error followed
  EPERM: 'DROP',
  // TCP reset, ICMP port-unreachable (TCP/UDP)
  ECONNREFUSED: 'REJECT',
  // ICMP host-prohibited (IPv4), host-unreachable
  EHOSTUNREACH: 'REJECT',
  // ICMPv6 admin-prohibited
  EACCES: 'REJECT',
  // ping saw an ICMP error
  unreachable: 'REJECT',
};

function classify(observed: string): Exclude<LabVerdict, 'SKIP'> | undefined {
  return Object.hasOwn(OBSERVED_VERDICT, observed) ? OBSERVED_VERDICT[observed] : undefined;
}

/**
 * Runs cases against a compile result with real packets. Builds the topology, applies the
 * ruleset, probes every case in order (each independent of the ones before: see `runCase`),
 * and removes everything it created, also when a case fails or the signal aborts. A case it
 * cannot reproduce or set up is a SKIP with the reason; a failure of the topology, the
 * ruleset, a tool or an agent rejects with a `LabError`.
 */
export async function runLab(compiled: CompileResult, cases: readonly SimCase[], options: LabOptions = {}): Promise<LabCaseResult[]> {
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const results: LabCaseResult[] = [];
  const topo = await LabTopology.create(compiled, cases, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  try {
    await topo.apply(options.nftText ?? renderNftText(compiled.ruleset, compiled.ownTables));
    const ports = new PortPicker(compiled);
    let counter = 0;
    for (const [index, c] of cases.entries()) {
      if (options.signal?.aborted) throw new LabError('aborted', 'lab run aborted');
      const r = await runCase(topo, c, timeoutMs, ports, counter++, options.signal);
      results.push(r);
      options.onResult?.(r, index);
    }
  } finally {
    await topo.destroy();
  }
  return results;
}

function skipped(c: SimCase, skip: LabSkipKind, reason: string): LabCaseResult {
  return { case: c, verdict: 'SKIP', skip, reason };
}

/** The observation in an agent's answer; a missing program fails the run. */
function observation(r: AgentReply, ns: string, tool?: string): { observed: string } | { error: string } {
  if (r.result !== undefined) return { observed: r.result };
  if (r.code === 'ENOENT' && tool !== undefined) throw missingToolError(tool, ` in namespace ${ns}`);
  return { error: r.error ?? 'no answer' };
}

/**
 * One case. Order, so that nothing of an earlier case can reach this one:
 * 1. addresses, routes and neighbours of this case (a refused line: SKIP `setup-failed`);
 * 2. the receiver listens;
 * 3. the host namespace's conntrack table is flushed and must then be empty (else the run
 *    fails with `conntrack-not-empty`, listing the entries). At this point every socket of
 *    the previous case is closed — the probe socket inside the probe (a connected TCP probe
 *    aborts with a reset, which never creates a conntrack entry; one still connecting is
 *    closed without sending anything, so no SYN is retransmitted later; the UDP resend at
 *    half the timeout is cancelled), the responder and the connections it accepted by
 *    `close` (aborted too, so no data or FIN is retransmitted) — and the previous case's
 *    addresses and routes are gone, so no late packet of it can recreate state after the
 *    flush. (The emptiness check found exactly that once: a SYN retransmitted by a probe
 *    socket that had only been asked to reset once connected.);
 * 4. the probe; 5. the responder closes; 6. the addresses are removed (`ip -force`).
 */
async function runCase(
  topo: LabTopology,
  c: SimCase,
  timeoutMs: number,
  portPicker: PortPicker,
  n: number,
  signal: AbortSignal | undefined,
): Promise<LabCaseResult> {
  const prep = prepareCase(topo.compiled.topology, c);
  if (!prep.ok) return skipped(c, 'unsupported', prep.error);
  const pc = prep.prepared;
  const hostAddresses = topo.compiled.topology.hostAddresses;
  const hostAddrs = new Set(hostAddresses.map((a) => a.split('/')[0] as string));
  const skip = skipReason(pc, hostAddresses);
  if (skip) return skipped(c, 'unsupported', skip);
  const isIcmp = pc.l4proto === 1 || pc.l4proto === 58;
  const picked = isIcmp ? undefined : portPicker.pick(n, pc.sport, pc.dport);
  if (!isIcmp && picked === undefined) return skipped(c, 'unsupported', 'no port left that no rule names');
  const dport = picked?.dport;
  const sport = picked?.sport;
  const snd = topo.endpoint(pc.from, pc.to);
  const rcv = topo.endpoint(pc.to, pc.from);
  const setup = caseSetup(topo, pc, snd, rcv, hostAddrs);
  const key = `case${n}`;
  const opts = signal ? { signal } : {};
  try {
    for (const [ns, lines] of setup.apply) {
      try {
        await ipBatch(ns, lines, opts);
      } catch (err) {
        if (err instanceof LabError && err.code === 'command-failed') return skipped(c, 'setup-failed', `cannot set up the case in ${ns}: ${err.context.stderr?.trim() || err.message}`);
        throw err;
      }
    }
    const receiver = topo.agent(rcv.ns);
    const sender = topo.agent(snd.ns);
    let seen: { observed: string } | { error: string };
    if (isIcmp) {
      await topo.flushConntrack();
      const r = await sender.request('ping', { src: pc.source, dst: pc.dest, family: pc.family, timeoutMs: Math.max(timeoutMs, 1000) }, timeoutMs + 10_000);
      seen = observation(r, snd.ns, 'ping');
    } else {
      const proto = pc.l4proto === 6 ? 'tcp' : 'udp';
      const lr = await receiver.request(`${proto}-listen`, { key, addr: pc.dest, port: dport, family: pc.family });
      if (lr.error) return skipped(c, 'probe-failed', `cannot listen on ${pc.dest}:${dport}: ${lr.error}`);
      try {
        await topo.flushConntrack();
        const r = await sender.request(`${proto}-probe`, { src: pc.source, dst: pc.dest, dport, sport, family: pc.family, timeoutMs }, timeoutMs + 10_000);
        seen = observation(r, snd.ns);
      } finally {
        await receiver.request('close', { key });
      }
    }
    const ports = { ...(sport !== undefined ? { sport } : {}), ...(dport !== undefined ? { dport } : {}) };
    if ('error' in seen) return { ...skipped(c, 'probe-failed', `the probe failed: ${seen.error}`), ...ports };
    const verdict = classify(seen.observed);
    if (verdict === undefined) return { ...skipped(c, 'probe-failed', `unexpected probe result ${seen.observed}`), observed: seen.observed, ...ports };
    return { case: c, verdict, observed: seen.observed, ...ports };
  } finally {
    for (const [ns, lines] of setup.undo) await ipBatch(ns, lines, { check: false, force: true }).catch(() => undefined);
  }
}
