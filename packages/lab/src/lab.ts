/**
 * The kernel lab: builds the node's topology out of network namespaces, applies a compiled
 * Palisade ruleset inside the host namespace, sends one real packet per case and classifies
 * what happened (delivered = ACCEPT, silence = DROP, TCP reset / ICMP unreachable = REJECT).
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
 */
import { randomBytes } from 'node:crypto';
import {
  NFVM_PORT,
  REQUIRED_SYSCTLS,
  OUTSIDE_PORT,
  prepareCase,
  renderNftText,
  resolveZone,
  type CompileResult,
  type PreparedCase,
  type SimCase,
  type Zone,
} from '@palisade/fw-compile';
import { NamespaceAgent } from './agent.js';
import { ipBatch, LabError, run } from './exec.js';

export type LabVerdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'SKIP';

export interface LabCaseResult {
  readonly case: SimCase;
  readonly verdict: LabVerdict;
  /** What the sender saw: connected, reply, ECONNREFUSED, EHOSTUNREACH, timeout… */
  readonly observed?: string;
  /** Why a case was skipped (or could not be set up). */
  readonly reason?: string;
  /** Ports actually used when the case left them open. */
  readonly sport?: number;
  readonly dport?: number;
}

export interface LabOptions {
  /** How long silence must last before a probe counts as dropped. Default 400 ms. */
  readonly probeTimeoutMs?: number;
  /** Prefix of the namespaces; default `pl-<random>`. */
  readonly prefix?: string;
  readonly signal?: AbortSignal;
  /** Called after each case (for streaming output). */
  readonly onResult?: (r: LabCaseResult, index: number) => void;
  /** Ruleset text to apply; default: `renderNftText` of the compile result. */
  readonly nftText?: string;
}

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

/** Ports named by port rules in the ruleset (so the lab can pick ports no rule names). */
function portsInRules(compiled: CompileResult, field: 'sport' | 'dport'): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  for (const t of compiled.ruleset.tables)
    for (const c of t.chains) for (const r of c.rules) for (const m of r.matches) if (m.kind === 'port' && m.field === field) out.push(...m.ranges);
  return out;
}

function freePorts(used: readonly (readonly [number, number])[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let p = from; p <= to && out.length < 4000; p++) if (!used.some(([a, b]) => a <= p && p <= b)) out.push(p);
  return out;
}

const HOST_LIKE = new Set(['local']);

/** A reason to skip a case that real packets from sockets cannot reproduce, or undefined. */
export function skipReason(pc: PreparedCase, hostAddrs: ReadonlySet<string>): string | undefined {
  if (pc.l4proto !== 6 && pc.l4proto !== 17 && pc.l4proto !== 1 && pc.l4proto !== 58) return `protocol ${pc.protoName}: the lab sends only TCP, UDP and ICMP echo`;
  if ((pc.l4proto === 1 && pc.icmpType !== 8) || (pc.l4proto === 58 && pc.icmpType !== 128)) return 'only ICMP echo requests can be sent';
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

  private constructor(
    readonly prefix: string,
    readonly compiled: CompileResult,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.host = `${prefix}-host`;
  }

  /** Creates the topology for a compile result and the zones the cases name. */
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

  /** Applies a ruleset text inside the host namespace (one `nft -f -` transaction). */
  async apply(text: string): Promise<void> {
    const r = await run('ip', ['netns', 'exec', this.host, 'nft', '-f', '-'], { input: text, signal: this.signal, check: false, timeoutMs: 120_000 });
    if (r.code !== 0) throw new LabError('apply-failed', `nft refused the ruleset: ${r.stderr.trim().slice(0, 2000)}`, { command: 'nft -f -', stderr: r.stderr });
  }

  agent(ns: string): NamespaceAgent {
    const a = this.agents.get(ns);
    if (!a) throw new LabError('agent-failed', `no agent for ${ns}`);
    return a;
  }

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

function classify(observed: string): LabVerdict {
  if (observed === 'connected' || observed === 'reply') return 'ACCEPT';
  if (observed === 'timeout') return 'DROP';
  if (observed === 'ECONNREFUSED' || observed === 'EHOSTUNREACH' || observed === 'ENETUNREACH' || observed === 'unreachable' || observed === 'EACCES') return 'REJECT';
  return 'DROP';
}

/**
 * Runs cases against a compile result with real packets. Builds the topology, applies the
 * ruleset, probes every case in order, and removes everything it created, also when a case
 * fails or the signal aborts.
 */
export async function runLab(compiled: CompileResult, cases: readonly SimCase[], options: LabOptions = {}): Promise<LabCaseResult[]> {
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const results: LabCaseResult[] = [];
  const topo = await LabTopology.create(compiled, cases, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  try {
    await topo.apply(options.nftText ?? renderNftText(compiled.ruleset, compiled.ownTables));
    const hostAddrs = new Set(compiled.topology.hostAddresses.map((a) => a.split('/')[0] as string));
    const dports = freePorts(portsInRules(compiled, 'dport'), 20000, 39999);
    const sports = freePorts(portsInRules(compiled, 'sport'), 41000, 59999);
    let counter = 0;
    for (const [index, c] of cases.entries()) {
      if (options.signal?.aborted) throw new LabError('aborted', 'lab run aborted');
      const r = await runCase(topo, c, hostAddrs, timeoutMs, dports, sports, counter++, options.signal);
      results.push(r);
      options.onResult?.(r, index);
    }
  } finally {
    await topo.destroy();
  }
  return results;
}

async function runCase(
  topo: LabTopology,
  c: SimCase,
  hostAddrs: ReadonlySet<string>,
  timeoutMs: number,
  dports: readonly number[],
  sports: readonly number[],
  n: number,
  signal: AbortSignal | undefined,
): Promise<LabCaseResult> {
  const prep = prepareCase(topo.compiled.topology, c);
  if (!prep.ok) return { case: c, verdict: 'SKIP', reason: prep.error };
  const pc = prep.prepared;
  const skip = skipReason(pc, hostAddrs);
  if (skip) return { case: c, verdict: 'SKIP', reason: skip };
  const isIcmp = pc.l4proto === 1 || pc.l4proto === 58;
  const dport = isIcmp ? undefined : (pc.dport ?? dports[n % Math.max(1, dports.length)]);
  const sport = isIcmp ? undefined : (pc.sport ?? sports[n % Math.max(1, sports.length)]);
  if (!isIcmp && (dport === undefined || sport === undefined)) return { case: c, verdict: 'SKIP', reason: 'no port left that no rule names' };
  const snd = topo.endpoint(pc.from, pc.to);
  const rcv = topo.endpoint(pc.to, pc.from);
  const setup = caseSetup(topo, pc, snd, rcv, hostAddrs);
  const key = `case${n}`;
  try {
    for (const [ns, lines] of setup.apply) await ipBatch(ns, lines, { ...(signal ? { signal } : {}) });
    await run('ip', ['netns', 'exec', topo.host, 'conntrack', '-F'], { check: false, timeoutMs: 5000 }).catch(() => undefined);
    const receiver = topo.agent(rcv.ns);
    const sender = topo.agent(snd.ns);
    let observed: string;
    if (isIcmp) {
      const r = await sender.request('ping', { src: pc.source, dst: pc.dest, family: pc.family, timeoutMs: Math.max(timeoutMs, 1000) }, timeoutMs + 10_000);
      observed = r.result ?? r.error ?? 'error';
    } else {
      const proto = pc.l4proto === 6 ? 'tcp' : 'udp';
      const lr = await receiver.request(`${proto}-listen`, { key, addr: pc.dest, port: dport, family: pc.family });
      if (lr.error) return { case: c, verdict: 'SKIP', reason: `cannot listen on ${pc.dest}:${dport}: ${lr.error}` };
      try {
        const r = await sender.request(`${proto}-probe`, { src: pc.source, dst: pc.dest, dport, sport, family: pc.family, timeoutMs }, timeoutMs + 10_000);
        observed = r.result ?? r.error ?? 'error';
      } finally {
        await receiver.request('close', { key });
      }
    }
    return { case: c, verdict: classify(observed), observed, ...(sport !== undefined ? { sport } : {}), ...(dport !== undefined ? { dport } : {}) };
  } finally {
    for (const [ns, lines] of setup.undo) await ipBatch(ns, lines, { check: false }).catch(() => undefined);
  }
}
