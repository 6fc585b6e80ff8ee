/**
 * Evaluates packets against the compiled intermediate ruleset, hook by hook, along the path a
 * packet takes through the node's topology (spec §7.3 zones, mapped onto Palisade's kernel
 * layout: per-NIC fwbr bridges, br_netfilter, bridge-table direction marks).
 *
 * Every packet is the first packet of a new connection. The verdict is the first non-accept
 * verdict of any hook on the path, otherwise ACCEPT.
 *
 * The verdict is the one pve-firewall's own simulator (FirewallSimulator.pm) gives, because
 * that is what users compare with (spec §7.4). Where that simulator short-cuts a chain, the
 * verdict follows it and `kernelVerdict` says what the kernel does with the packet:
 * - entering `PVEFW-Drop` (the DROP policy's noise filter) is DROP at once, so the ICMP errors
 *   it would accept (fragmentation-needed, time-exceeded) are DROP (the kernel agrees for a
 *   packet without a connection: conntrack calls such an ICMP error INVALID);
 * - entering `PVEFW-reject` is REJECT at once, also for ICMP, broadcast destinations and
 *   multicast sources, which the helper silently drops (`kernelVerdict` DROP: no answer);
 *   the same holds for a multicast destination, which the helper lets reach the reject
 *   statement but the kernel never answers (`kernelVerdict` DROP; for IPv6 the verdict);
 * - `PVEFW-tcpflags` does nothing (the kernel drops e.g. a SYN from source port 0);
 * - an ICMP type matches when the case's `dport` is spelled as the rule spells it (`8` does
 *   not match `echo-request`); a case without `dport` matches no ICMP type.
 * - address types are UNICAST unless the case gives `srctype`/`dsttype` (the kernel derives
 *   them: 239.1.1.1 is MULTICAST, the host network's broadcast address BROADCAST).
 * - a `queue` statement (NFQUEUE of a guest with `ips: 1`) is ACCEPT: the firewall has let the
 *   packet through to the IPS (Suricata), which decides next; the decision carries a `note`
 *   saying so. With `bypass` and no program on the queue the kernel accepts it too.
 * The reference evaluates IPv4 only; IPv6 cases get the kernel's verdict.
 */
import { icmpTypesFor, lookupProtocol, lookupService } from '@palisade/fw-lang';
import type { CompileResult, Topology, TopologyNic } from './compile.js';
import { cidrInterval, formatAddress as formatAddressLocal, intervalContains, parseAddress, parseCidr, type IpFamily } from './ip.js';
import { PORT_PROTO_NUMBERS, type AddrType, type Chain, type Hook, type Match, type NamedSet, type Rule, type Stmt, type Table, type TcpFlag } from './ir.js';
import { renderRule } from './nft-text.js';

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

export type SimVerdict = 'ACCEPT' | 'DROP' | 'REJECT';

/** The rule that decided one hook traversal. */
export interface SimDecision {
  readonly table: string;
  readonly chain: string;
  /** 0-based rule index in the chain; -1 for the base chain policy. */
  readonly index: number;
  /** Rendered nft text of the rule (or `policy accept`). */
  readonly rule: string;
  /** Source document position of the rule, when it came from a user rule. */
  readonly origin?: string;
  /** The rules that jumped to the deciding chain, outermost first (e.g. the policy rule that jumped to PVEFW-reject). */
  readonly via?: readonly SimDecision[];
  /**
   * What the verdict means when the rule text alone does not say it: a `queue` rule (IPS,
   * NFQUEUE) is ACCEPT as far as the firewall is concerned, the queue reader decides next.
   */
  readonly note?: string;
}

/** One hook traversal on the path. */
export interface SimHop {
  readonly where: string;
  readonly hook: Hook;
  readonly family: string;
  readonly iif?: string;
  readonly oif?: string;
  readonly verdict: SimVerdict;
  readonly decision?: SimDecision;
  /** Log statements hit on the way (NFLOG prefixes). */
  readonly logs: readonly string[];
}

export interface SimResult {
  /** Verdict of the reference simulator's semantics (spec §7.4). */
  readonly verdict: SimVerdict;
  /**
   * What the kernel does with the packet, when it differs from `verdict` (a reference
   * short-cut, see the module comment): e.g. REJECT of an ICMP echo is silence on the wire.
   */
  readonly kernelVerdict?: SimVerdict;
  /** The deciding rule in the kernel's evaluation, when `kernelVerdict` is set. */
  readonly kernelDecision?: SimDecision;
  /** The decision of the hop that gave the verdict (for ACCEPT: of the last filtering hop). */
  readonly decision?: SimDecision;
  readonly hops: readonly SimHop[];
  /** Packet as simulated, for display. */
  readonly packet: string;
}

export type SimOutcome = { readonly ok: true; readonly result: SimResult } | { readonly ok: false; readonly error: string };

/** Defaults of spec §7.3. */
export const SIM_DEFAULT_SOURCE = '100.100.1.2';
export const SIM_DEFAULT_DEST = '100.200.3.4';
export const SIM_DEFAULT_SOURCE_V6 = '2001:db8:100:1::2';
export const SIM_DEFAULT_DEST_V6 = '2001:db8:200:3::4';
/** Port of the zone `outside` and of `nfvm`. */
export const OUTSIDE_PORT = { bridge: 'vmbr0', port: 'eth0' } as const;
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

interface Packet {
  readonly family: IpFamily;
  readonly saddr: bigint;
  readonly daddr: bigint;
  readonly l4proto: number;
  readonly sport?: number;
  readonly dport?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly tcpFlags: ReadonlySet<TcpFlag>;
  readonly srctype: AddrType;
  readonly dsttype: AddrType;
  readonly etherSrc: string;
  /** The case's ICMP type as spelled (reference matching), undefined when not given. */
  readonly icmpSpelling?: string;
  mark: number;
}

interface HookCtx {
  readonly iif: string;
  readonly oif: string;
}

type EvalResult =
  | { readonly kind: 'accept' | 'drop' | 'reject'; readonly decision: SimDecision }
  | { readonly kind: 'continue' | 'return' };

const MAX_DEPTH = 64;

class Evaluator {
  private readonly chains = new Map<string, Chain>();
  private readonly sets = new Map<string, NamedSet>();
  logs: string[] = [];

  /** Chains the reference simulator decides on entry (spec §7.4 point 3). */
  private static readonly SHORT_CUT: Readonly<Record<string, 'drop' | 'reject' | 'nothing'>> = {
    'PVEFW-Drop': 'drop',
    'PVEFW-reject': 'reject',
    'PVEFW-tcpflags': 'nothing',
  };

  constructor(
    readonly table: Table,
    /** Evaluate with the reference simulator's short-cuts and ICMP spelling match. */
    readonly reference: boolean,
  ) {
    for (const c of table.chains) this.chains.set(c.name, c);
    for (const s of table.sets) this.sets.set(s.name, s);
  }

  baseChains(hook: Hook): Chain[] {
    return this.table.chains.filter((c) => c.base?.hook === hook).sort((a, b) => (a.base?.priority ?? 0) - (b.base?.priority ?? 0));
  }

  private ifMatch(actual: string, names: readonly string[]): boolean {
    return names.some((n) => (n.endsWith('*') ? actual.startsWith(n.slice(0, -1)) : actual === n));
  }

  matches(m: Match, p: Packet, h: HookCtx): boolean {
    switch (m.kind) {
      case 'ifname': {
        const r = this.ifMatch(m.dir === 'iif' ? h.iif : h.oif, m.names);
        return m.op === 'eq' ? r : !r;
      }
      case 'nfproto':
        return p.family === m.family;
      case 'l4proto': {
        const r = m.protos.includes(p.l4proto);
        return m.op === 'eq' ? r : !r;
      }
      case 'addr': {
        if (p.family !== m.family) return false;
        const a = m.field === 'saddr' ? p.saddr : p.daddr;
        const ivs = 'set' in m.value ? (this.sets.get(m.value.set)?.elements ?? []) : m.value.intervals;
        const r = intervalContains(ivs, p.family, a);
        return m.op === 'eq' ? r : !r;
      }
      case 'port': {
        if (p.l4proto !== PORT_PROTO_NUMBERS[m.proto]) return false;
        const v = m.field === 'sport' ? p.sport : p.dport;
        if (v === undefined) return false;
        const r = m.ranges.some(([a, b]) => a <= v && v <= b);
        return m.op === 'eq' ? r : !r;
      }
      case 'icmp': {
        if (p.family !== m.family || p.l4proto !== (m.family === 4 ? 1 : 58)) return false;
        if (this.reference && m.spelling !== undefined) return p.icmpSpelling === m.spelling;
        if (m.types.length > 0 && (p.icmpType === undefined || !m.types.includes(p.icmpType))) return false;
        if (m.code !== undefined && p.icmpCode !== m.code) return false;
        return true;
      }
      case 'ctstate':
        return m.states.includes('new');
      case 'fibtype':
        return m.types.includes(m.field === 'saddr' ? p.srctype : p.dsttype);
      case 'mark': {
        const r = (p.mark & m.mask) >>> 0 === m.value >>> 0;
        return m.op === 'eq' ? r : !r;
      }
      case 'ether': {
        const r = p.etherSrc === m.mac.toLowerCase();
        return m.op === 'eq' ? r : !r;
      }
      case 'tcpflags': {
        if (p.l4proto !== 6) return false;
        const masked = m.mask.filter((f) => p.tcpFlags.has(f));
        const r = masked.length === m.value.length && m.value.every((f) => masked.includes(f));
        return m.op === 'eq' ? r : !r;
      }
    }
  }

  private decision(chain: Chain, index: number, r: Rule): SimDecision {
    return {
      table: `${this.table.family} ${this.table.name}`,
      chain: chain.name,
      index,
      rule: renderRule(r),
      ...(r.origin ? { origin: `${r.origin.path}:${r.origin.line}${r.origin.text ? ` ${r.origin.text}` : ''}` } : {}),
    };
  }

  /** Records the calling rule of a terminal result (dispatch chains are not worth showing). */
  private through(res: EvalResult & { decision: SimDecision }, chain: Chain, index: number, r: Rule): EvalResult {
    if (chain.base || chain.name === 'PVEFW-FWBR-IN' || chain.name === 'PVEFW-FWBR-OUT') return res;
    const { via, ...inner } = res.decision;
    return { kind: res.kind, decision: { ...inner, via: [this.decision(chain, index, r), ...(via ?? [])] } };
  }

  private call(target: string, p: Packet, h: HookCtx, depth: number): EvalResult {
    const c = this.chains.get(target);
    if (!c) return { kind: 'continue' };
    return this.evalChain(c, p, h, depth + 1);
  }

  evalChain(chain: Chain, p: Packet, h: HookCtx, depth = 0): EvalResult {
    if (depth > MAX_DEPTH) return { kind: 'continue' };
    rules: for (const [index, r] of chain.rules.entries()) {
      if (!r.matches.every((m) => this.matches(m, p, h))) continue;
      for (const s of r.stmts) {
        const res = this.stmt(s, chain, index, r, p, h, depth);
        if (res === 'next-stmt') continue;
        if (res === 'next-rule') continue rules;
        return res;
      }
    }
    return { kind: 'continue' };
  }

  private stmt(s: Stmt, chain: Chain, index: number, r: Rule, p: Packet, h: HookCtx, depth: number): EvalResult | 'next-stmt' | 'next-rule' {
    switch (s.kind) {
      case 'accept':
      case 'drop':
        return { kind: s.kind, decision: this.decision(chain, index, r) };
      case 'reject':
        // The kernel answers no packet to a multicast or broadcast destination: icmp_send()
        // and icmp6_send() refuse an ICMP error for it, and the TCP reset is sent for unicast
        // only. On the wire such a REJECT is silence, a DROP (packages/lab/src/agent.test.ts:
        // UDP from a connected socket to 239.1.1.1 / ff05::1:3 gets EPERM and no ICMP error).
        if (!this.reference && (p.dsttype === 'multicast' || p.dsttype === 'broadcast')) {
          return { kind: 'drop', decision: { ...this.decision(chain, index, r), note: `the kernel sends no reset or ICMP error to a ${p.dsttype} destination: no answer, as DROP` } };
        }
        return { kind: 'reject', decision: this.decision(chain, index, r) };
      case 'queue': {
        const q = s.from === s.to ? `queue ${s.from}` : `queues ${s.from}-${s.to}`;
        const note = `queued to NFQUEUE ${q} for the IPS: ACCEPT as far as the firewall is concerned, the IPS (Suricata) decides${s.bypass ? '; with no IPS listening the kernel accepts it (bypass)' : ''}`;
        return { kind: 'accept', decision: { ...this.decision(chain, index, r), note } };
      }
      case 'return':
        return { kind: 'return' };
      case 'jump':
      case 'goto': {
        const cut = this.reference ? Evaluator.SHORT_CUT[s.target] : undefined;
        if (cut === 'drop' || cut === 'reject') return { kind: cut, decision: this.decision(chain, index, r) };
        if (cut === 'nothing') return s.kind === 'goto' ? { kind: 'return' } : 'next-rule';
        const res = this.call(s.target, p, h, depth);
        if (res.kind === 'accept' || res.kind === 'drop' || res.kind === 'reject') return this.through(res, chain, index, r);
        return s.kind === 'goto' ? { kind: 'return' } : 'next-rule';
      }
      case 'vmap': {
        const key = s.key === 'iifname' ? h.iif : h.oif;
        const hit = s.entries.find(([k]) => k === key);
        if (!hit) return 'next-rule';
        const res = this.call(hit[1].target, p, h, depth);
        if (res.kind === 'accept' || res.kind === 'drop' || res.kind === 'reject') return this.through(res, chain, index, r);
        return hit[1].kind === 'goto' ? { kind: 'return' } : 'next-rule';
      }
      case 'log':
        this.logs.push(s.prefix);
        return 'next-stmt';
      case 'mark-set':
        p.mark = ((p.mark & s.and) | s.or) >>> 0;
        return 'next-stmt';
      case 'limit':
      case 'ctmark-set':
      case 'ct-helper-set':
      case 'meter-over':
        // One packet never exceeds a rate: the meter does not fire.
        return s.kind === 'meter-over' ? 'next-rule' : 'next-stmt';
    }
  }
}

function parsePortValue(v: string | number | undefined): number | undefined | 'bad' {
  if (v === undefined) return undefined;
  const s = String(v);
  if (/^\d+$/.test(s)) return Number(s) <= 65535 ? Number(s) : 'bad';
  return lookupService(s) ?? 'bad';
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
    source = h2s(hostAddr.address, family);
  }
  if (dest === undefined && to.kind === 'host') {
    if (!hostAddr) return { ok: false, error: `no IPv${family} host address` };
    dest = h2s(hostAddr.address, family);
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
      source: h2s(s.address, family),
      dest: h2s(d.address, family),
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

/**
 * Simulates one case against a compile result (the IR that is rendered to nftables). Returns
 * an error for cases that do not describe a packet (unknown zone, bad port…).
 */
export function simulate(compiled: CompileResult, c: SimCase): SimOutcome {
  const prep = prepareCase(compiled.topology, c);
  if (!prep.ok) return prep;
  return { ok: true, result: simulatePrepared(compiled, prep.prepared) };
}

/** Simulates an already prepared case. */
export function simulatePrepared(compiled: CompileResult, pc: PreparedCase): SimResult {
  // The reference simulator evaluates only the IPv4 rule set (spec §7.4 point 1): IPv6
  // packets have no reference verdict, so they get the kernel's.
  const ref = evaluatePath(compiled, pc, pc.family === 4);
  const kernel = evaluatePath(compiled, pc, false);
  if (kernel.verdict === ref.verdict) return ref;
  return { ...ref, kernelVerdict: kernel.verdict, ...(kernel.decision ? { kernelDecision: kernel.decision } : {}) };
}

function evaluatePath(compiled: CompileResult, pc: PreparedCase, reference: boolean): SimResult {
  const { from, to, family, protoName, l4proto, sport, dport, icmpType, icmpCode } = pc;
  const s = parseAddress(pc.source) as { address: bigint };
  const d = parseAddress(pc.dest) as { address: bigint };
  const fromNic = from.kind === 'guest' ? from.nic : from.kind === 'port' ? from.nic : undefined;
  const packet: Packet = {
    family,
    saddr: s.address,
    daddr: d.address,
    l4proto,
    ...(sport !== undefined ? { sport } : {}),
    ...(dport !== undefined ? { dport } : {}),
    ...(icmpType !== undefined ? { icmpType, icmpCode: icmpCode ?? 0 } : {}),
    ...(pc.icmpSpelling !== undefined ? { icmpSpelling: pc.icmpSpelling } : {}),
    tcpFlags: new Set<TcpFlag>(['syn']),
    srctype: reference ? pc.referenceSrctype : pc.srctype,
    dsttype: reference ? pc.referenceDsttype : pc.dsttype,
    etherSrc: fromNic?.mac?.toLowerCase() ?? '02:00:00:00:00:01',
    mark: 0,
  };

  const inet = compiled.ruleset.tables.find((t) => t.family === 'inet');
  const bridge = compiled.ruleset.tables.find((t) => t.family === 'bridge');
  const evals = [inet, bridge].filter((t): t is Table => t !== undefined).map((t) => new Evaluator(t, reference));
  const hops: SimHop[] = [];
  let final: { verdict: SimVerdict; decision?: SimDecision } | undefined;
  let lastAccept: SimDecision | undefined;

  const traverse = (where: string, tableFamily: 'inet' | 'bridge', hook: Hook, iif: string, oif: string): void => {
    if (final) return;
    for (const ev of evals) {
      if (ev.table.family !== tableFamily) continue;
      for (const chain of ev.baseChains(hook)) {
        ev.logs = [];
        const r = ev.evalChain(chain, packet, { iif, oif });
        let verdict: SimVerdict;
        let decision: SimDecision | undefined;
        if (r.kind === 'accept' || r.kind === 'drop' || r.kind === 'reject') {
          verdict = r.kind === 'accept' ? 'ACCEPT' : r.kind === 'drop' ? 'DROP' : 'REJECT';
          decision = r.decision;
        } else {
          const pol = chain.base?.policy ?? 'accept';
          verdict = pol === 'accept' ? 'ACCEPT' : 'DROP';
          decision = { table: `${ev.table.family} ${ev.table.name}`, chain: chain.name, index: -1, rule: `policy ${pol}` };
        }
        // Chains that only mark or meter (no verdict rule hit) are not shown.
        const silent = tableFamily === 'bridge' || chain.base?.hook === 'prerouting';
        if (!silent || verdict !== 'ACCEPT') {
          hops.push({ where, hook, family: tableFamily, ...(iif ? { iif } : {}), ...(oif ? { oif } : {}), verdict, ...(decision ? { decision } : {}), logs: ev.logs });
        }
        if (verdict !== 'ACCEPT') {
          final = { verdict, ...(decision ? { decision } : {}) };
          return;
        }
        if (!silent) lastAccept = decision;
      }
    }
  };
  const bridgeIngress = (bridgeName: string, portName: string): void => {
    traverse(`frame enters ${bridgeName} on port ${portName}`, 'bridge', 'prerouting', portName, '');
  };
  const bridged = (where: string, iif: string, oif: string): void => {
    traverse(where, 'inet', 'prerouting', iif, '');
    traverse(where, 'inet', 'forward', iif, oif);
  };
  const intoGuest = (nic: TopologyNic): void => {
    bridgeIngress(nic.fwbr, nic.fwln);
    bridged(`bridged on ${nic.fwbr} from ${nic.fwln} to ${nic.iface} (into ${nicLabel(nic)})`, nic.fwbr, nic.fwbr);
  };

  if (from.kind === 'host') {
    const oif = to.kind === 'host' ? 'lo' : to.kind === 'port' ? to.bridge : to.nic.bridge;
    traverse(`sent by the host via ${oif}`, 'inet', 'output', '', oif);
    if (to.kind === 'guest') intoGuest(to.nic);
  } else {
    let atBridge: string;
    if (from.kind === 'guest') {
      const nic = from.nic;
      bridgeIngress(nic.fwbr, nic.iface);
      bridged(`bridged on ${nic.fwbr} from ${nic.iface} to ${nic.fwln} (out of ${nicLabel(nic)})`, nic.fwbr, nic.fwbr);
      bridgeIngress(nic.bridge, nic.fwpr);
      atBridge = nic.bridge;
    } else {
      bridgeIngress(from.bridge, from.port);
      atBridge = from.bridge;
    }
    if (to.kind === 'host') {
      traverse(`delivered to the host from ${atBridge}`, 'inet', 'prerouting', atBridge, '');
      traverse(`delivered to the host from ${atBridge}`, 'inet', 'input', atBridge, '');
    } else {
      const tb = to.kind === 'port' ? to.bridge : to.nic.bridge;
      const how = tb === atBridge ? `bridged on ${atBridge}` : `routed from ${atBridge} to ${tb}`;
      bridged(`${how} towards ${to.kind === 'port' ? `port ${to.port}` : to.nic.fwpr}`, atBridge, tb);
      if (to.kind === 'guest') intoGuest(to.nic);
    }
  }
  const verdict = final?.verdict ?? 'ACCEPT';
  const decision = final ? final.decision : lastAccept;
  const ptext = `${protoName} ${h2s(s.address, family)}${sport !== undefined ? `:${sport}` : ''} -> ${h2s(d.address, family)}${dport !== undefined ? `:${dport}` : ''}${icmpType !== undefined ? ` type ${icmpType}/${icmpCode ?? 0}` : ''}`;
  return { verdict, ...(decision ? { decision } : {}), hops, packet: ptext };
}

function nicLabel(nic: TopologyNic): string {
  return `${nic.guestType === 'qemu' ? 'vm' : 'ct'}${nic.vmid} net${nic.index}`;
}

function h2s(a: bigint, family: IpFamily): string {
  return formatAddressLocal(family, a);
}

/** Formats a result for people: verdict alone on the first line, then the path. */
export function formatSimResult(r: SimResult): string {
  const lines = [r.verdict, `packet: ${r.packet}`];
  if (r.kernelVerdict !== undefined) {
    const k = r.kernelDecision;
    lines.push(`kernel: ${r.kernelVerdict}${k ? ` (${k.chain}${k.index >= 0 ? ` #${k.index + 1}` : ''}: ${k.rule})` : ''}; the verdict above follows pve-firewall's simulator`);
  }
  for (const h of r.hops) {
    const ifs = [h.iif ? `iif ${h.iif}` : '', h.oif ? `oif ${h.oif}` : ''].filter(Boolean).join(' ');
    lines.push(`  ${h.where}: ${h.family} ${h.hook}${ifs ? ` (${ifs})` : ''} -> ${h.verdict}`);
    if (h.decision) {
      lines.push(`    ${h.decision.chain}${h.decision.index >= 0 ? ` #${h.decision.index + 1}` : ''}: ${h.decision.rule}`);
      for (const v of h.decision.via ?? []) lines.push(`    reached via ${v.chain} #${v.index + 1}: ${v.rule}${v.origin ? ` (${v.origin})` : ''}`);
      if (h.decision.origin) lines.push(`    from ${h.decision.origin}`);
      if (h.decision.note !== undefined) lines.push(`    ${h.decision.note}`);
    }
    for (const l of h.logs) lines.push(`    log "${l}"`);
  }
  return `${lines.join('\n')}\n`;
}
