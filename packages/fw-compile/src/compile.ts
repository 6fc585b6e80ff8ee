/**
 * Compiles the firewall configuration of one node into the intermediate ruleset, with the
 * semantics of pve-firewall (spec pve-semantics §6) expressed in nftables.
 *
 * Layout (see docs/design/guest-filtering.md for why):
 * - `table inet <name>` holds every filtering chain, named as pve-firewall names them
 *   (`PVEFW-HOST-IN`, `tap100i0-IN`, `GROUP-web-OUT`, …) so that log prefixes and traces read
 *   like the reference. Base chains `PVEFW-INPUT`, `PVEFW-OUTPUT`, `PVEFW-FORWARD` (filter
 *   priority), plus `PVEFW-PREROUTING` (raw, synflood) and `PVEFW-HELPERS` (conntrack helpers)
 *   when configured.
 * - Guests sit behind their per-NIC bridge `fwbr<V>i<N>` (as pve-firewall requires); with
 *   br_netfilter every guest frame is bridged on that fwbr and passes the inet forward hook
 *   with full conntrack. `table bridge <name>` marks the direction from the ingress port
 *   (`fwln*` = towards the guest, `tap*`/`veth*` = from the guest), and `PVEFW-FORWARD`
 *   dispatches on that mark to `PVEFW-FWBR-IN`/`PVEFW-FWBR-OUT`, then by fwbr name to the
 *   NIC's chain.
 */
import {
  clusterOptions,
  findConntrackHelper,
  findMacro,
  guestOptions,
  hostOptions,
  icmpProtocolVersion,
  icmpTypesFor,
  ipsetKernelName,
  lookupProtocol,
  macroTemplatesFor,
  resolveAlias,
  resolveIpSet,
  type CorosyncConfig,
  type FwDocument,
  type GuestConfig,
  type IpSet,
  type LogLevel,
  type Rule as FwRule,
} from '@palisade/fw-lang';
import {
  cidrInterval,
  flattenLongestPrefix,
  formatInterval,
  macLinkLocal,
  parseCidr,
  type AddrInterval,
  type Cidr,
  type IpFamily,
  type SetEntryInterval,
} from './ip.js';
import type { Chain, CtHelper, IcmpMatch, Match, NamedSet, PortProto, QueueStmt, Rule, RuleOrigin, Ruleset, Stmt, Table } from './ir.js';
import { DEFAULT_LOG_GROUP, formatLogPrefix } from './log-prefix.js';
import { documentRuleIds } from './rule-id.js';
import { chainFingerprint } from './fingerprint.js';
import { shareRepeatedSets } from './shared-sets.js';
import { parseAddressList, parsePorts } from './values.js';

/** The documents of an /etc/pve-like tree the compiler reads (a `PveTree` fits). */
export interface CompileTree {
  readonly cluster?: FwDocument;
  readonly hosts: ReadonlyMap<string, FwDocument>;
  readonly guests: ReadonlyMap<number, FwDocument>;
  readonly guestConfigs: ReadonlyMap<number, { readonly node: string; readonly config: GuestConfig }>;
  readonly corosync?: CorosyncConfig;
}

/** Facts about the node that are not in the configuration. */
export interface NodeFacts {
  /** Node name (`nodes/<name>/`). */
  readonly node: string;
  /**
   * Host addresses, `IP` or `IP/prefix`. The first one is "the host's address" of simulate.
   * Default: the node's `ring0_addr` from corosync.conf.
   */
  readonly hostAddresses?: readonly string[];
  /** Effective `local_network` unless cluster.fw defines the alias. Default: network of the first host address. */
  readonly localNetwork?: string;
  /** Seconds since the epoch, for a cluster `enable: <timestamp>`. */
  readonly nowSeconds?: number;
}

export interface CompileOptions {
  /** Name of Palisade's tables (`inet` and `bridge`). Default `palisade`. */
  readonly tableName?: string;
  /** NFLOG group every log rule sends to. Default {@link DEFAULT_LOG_GROUP} (not pvefw-logger's 0). */
  readonly logGroup?: number;
  /**
   * Packet-mark bits used to carry the bridge direction into the inet table. Default mask
   * 0x0c000000, towards-guest 0x04000000, from-guest 0x08000000.
   */
  readonly markMask?: number;
  readonly markIn?: number;
  readonly markOut?: number;
  /**
   * Mark bit set on every packet the reject helper answers. With `fwmark_reflect` the kernel
   * copies it to the TCP reset / ICMP error, which is then let through the INVALID checks it
   * meets on its way back (it has no conntrack entry of its own). Default 0x10000000.
   */
  readonly markReject?: number;
}

/**
 * Kernel settings the ruleset relies on, inside the namespace it is applied to: bridged
 * traffic must pass the inet hooks (br_netfilter), and kernel-generated REJECT answers must
 * carry the mark of the packet they answer.
 */
export const REQUIRED_SYSCTLS: readonly (readonly [string, string])[] = [
  ['net.bridge.bridge-nf-call-iptables', '1'],
  ['net.bridge.bridge-nf-call-ip6tables', '1'],
  ['net.ipv4.fwmark_reflect', '1'],
  ['net.ipv6.fwmark_reflect', '1'],
];

export const DEFAULT_COMPILE_OPTIONS: Required<CompileOptions> = {
  tableName: 'palisade',
  logGroup: DEFAULT_LOG_GROUP,
  markMask: 0x0c000000,
  markIn: 0x04000000,
  markOut: 0x08000000,
  markReject: 0x10000000,
};

export const COMPILE_CODES = {
  FWC01: 'rule skipped: reference does not resolve in its scope',
  FWC02: 'rule skipped: value cannot be compiled for this IP version',
  FWC03: 'security group not defined: behaves as an empty group',
  FWC05: 'guest NIC without MAC address: no MAC filter',
  FWC06: 'host address unknown',
  FWC07: 'corosync peer address is a host name: no rule (names are not resolved)',
  FWC08: 'ips_queues is not a queue number or range of 0-65535: queue 0 used',
} as const;
export type CompileCode = keyof typeof COMPILE_CODES;

export interface CompileDiagnostic {
  readonly code: CompileCode;
  readonly message: string;
  readonly path?: string;
  readonly line?: number;
}

/** A guest NIC as the topology sees it. */
export interface TopologyNic {
  readonly vmid: number;
  readonly index: number;
  readonly guestType: 'qemu' | 'lxc';
  /** `tap<V>i<N>` or `veth<V>i<N>`. */
  readonly iface: string;
  readonly bridge: string;
  readonly mac?: string;
  /** NIC has `firewall=1`: it sits behind `fwbr<V>i<N>`. */
  readonly firewall: boolean;
  /** Guest firewall enabled and NIC firewalled: chains exist for it. */
  readonly filtered: boolean;
  readonly fwbr: string;
  readonly fwln: string;
  readonly fwpr: string;
  readonly ip?: string;
  readonly ip6?: string;
}

export interface Topology {
  readonly node: string;
  /** Host addresses as given/derived (`IP/prefix`). */
  readonly hostAddresses: readonly string[];
  readonly localNetwork?: string;
  /** Bridges named by the guests of this node (always includes vmbr0), sorted. */
  readonly bridges: readonly string[];
  readonly nics: readonly TopologyNic[];
}

export interface CompileResult {
  readonly ruleset: Ruleset;
  /** Tables the transaction owns (created or replaced; deleted when the firewall is off). */
  readonly ownTables: readonly { readonly family: 'inet' | 'bridge'; readonly name: string }[];
  readonly topology: Topology;
  readonly diagnostics: readonly CompileDiagnostic[];
  /** True when the cluster firewall is enabled (otherwise the ruleset is empty). */
  readonly enabled: boolean;
}

const LEVEL_NUMBERS: Readonly<Record<string, number>> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

const PORT_PROTOS: Readonly<Record<string, PortProto>> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  sctp: 'sctp',
  '132': 'sctp',
  dccp: 'dccp',
  '33': 'dccp',
  udplite: 'udplite',
  '136': 'udplite',
};

const MANAGEMENT_PORTS: readonly (readonly [number, number])[] = [
  [22, 22],
  [3128, 3128],
  [5900, 5999],
  [8006, 8006],
  [60000, 60050],
];
const LOCAL_OUT_PORTS: readonly (readonly [number, number])[] = [
  [22, 22],
  [3128, 3128],
  [5900, 5999],
  [8006, 8006],
];

const ACCEPT: Stmt = { kind: 'accept' };
const DROP: Stmt = { kind: 'drop' };
const RETURN: Stmt = { kind: 'return' };
const jump = (target: string): Stmt => ({ kind: 'jump', target });
const goto = (target: string): Stmt => ({ kind: 'goto', target });
const nfproto = (family: IpFamily): Match => ({ kind: 'nfproto', family });
const l4 = (...protos: number[]): Match => ({ kind: 'l4proto', op: 'eq', protos });
const icmp = (family: IpFamily, types: number[], code?: number, spelling?: string): IcmpMatch => ({
  kind: 'icmp',
  family,
  types,
  ...(code !== undefined ? { code } : {}),
  ...(spelling !== undefined ? { spelling } : {}),
});
const port = (proto: PortProto, field: 'sport' | 'dport', ranges: readonly (readonly [number, number])[]): Match => ({
  kind: 'port',
  proto,
  field,
  op: 'eq',
  ranges,
});
const single = (p: number): readonly (readonly [number, number])[] => [[p, p]];
const rule = (matches: Match[], stmts: Stmt[], extra: { comment?: string; origin?: RuleOrigin } = {}): Rule => ({
  matches,
  stmts,
  ...extra,
});

/** The do-reject helper of pve-firewall (`PVEFW-reject`, spec §6.3.10). */
const REJECT_CHAIN = 'PVEFW-reject';

interface LimitSpec {
  readonly rate: number;
  readonly per: 'second' | 'minute' | 'hour' | 'day';
  readonly burst: number;
}

function parseRateLimit(rl: { rate: string; burst?: number } | undefined): LimitSpec | undefined {
  if (!rl) return undefined;
  const m = /^(\d+)\/(second|minute|hour|day)$/.exec(rl.rate);
  if (!m) return { rate: 1, per: 'second', burst: rl.burst ?? 5 };
  return { rate: Number(m[1]), per: m[2] as LimitSpec['per'], burst: rl.burst ?? 5 };
}

interface RuleCtx {
  /** Chain the rule lands in (log prefix). */
  readonly chain: string;
  readonly dir: 'in' | 'out';
  readonly scope: 'host' | 'guest' | 'group';
  readonly from: 'cluster' | 'guest';
  readonly guestDoc?: FwDocument;
  /** vmid for the log prefix (0 for host and groups). */
  readonly logVmid: number;
  /** vmid owning guest IP sets. */
  readonly guestVmid: number;
  readonly path: string;
  /**
   * What ACCEPT becomes (default `accept`): the NFQUEUE statement in the IN chain of a guest
   * with `ips: 1` (spec §6.3.11), also for the security groups that chain jumps to.
   */
  readonly accept?: QueueStmt;
}

/** Default queue when `ips_queues` is absent, as iptables' NFQUEUE without `--queue-num`. */
const DEFAULT_IPS_QUEUE: QueueStmt = { kind: 'queue', from: 0, to: 0, bypass: true };

/** Queue number or balance range of `ips_queues` (`N` or `A:B`); undefined when unusable. */
function parseIpsQueues(text: string | undefined): QueueStmt | undefined {
  if (text === undefined) return DEFAULT_IPS_QUEUE;
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] !== undefined ? Number(m[2]) : from;
  if (from > 65535 || to > 65535 || from > to) return undefined;
  return { kind: 'queue', from, to, bypass: true };
}

/** Suffix of the group chain variant whose ACCEPT is this queue (`-Q0`, `-Q0-3`). */
function queueSuffix(q: QueueStmt): string {
  return q.from === q.to ? `-Q${q.from}` : `-Q${q.from}-${q.to}`;
}

class Compiler {
  private readonly opts: Required<CompileOptions>;
  private readonly diagnostics: CompileDiagnostic[] = [];
  private readonly sets = new Map<string, NamedSet>();
  private readonly chains = new Map<string, Chain>();
  private readonly groupChains = new Set<string>();
  private readonly extraSetEntries = new Map<string, SetEntryInterval[]>();
  private limit: LimitSpec | undefined;
  private cluster: FwDocument | undefined;

  constructor(
    private readonly tree: CompileTree,
    private readonly facts: NodeFacts,
    options: CompileOptions,
  ) {
    this.opts = { ...DEFAULT_COMPILE_OPTIONS, ...options };
    this.cluster = tree.cluster;
  }

  private diag(code: CompileCode, message: string, path?: string, line?: number): void {
    if (this.diagnostics.some((d) => d.code === code && d.message === message && d.path === path && d.line === line)) return;
    this.diagnostics.push({ code, message, ...(path !== undefined ? { path } : {}), ...(line !== undefined ? { line } : {}) });
  }

  // ---------------------------------------------------------------- topology

  private hostAddresses(): string[] {
    if (this.facts.hostAddresses && this.facts.hostAddresses.length > 0) return [...this.facts.hostAddresses];
    const me = this.tree.corosync?.nodes.find((n) => n.name === this.facts.node);
    const ring0 = me?.rings.get(0);
    if (ring0 !== undefined && parseCidr(ring0)) return [ring0];
    return [];
  }

  private topology(): Topology {
    const hostAddresses = this.hostAddresses();
    const nics: TopologyNic[] = [];
    const bridges = new Set<string>(['vmbr0']);
    const vmids = [...this.tree.guestConfigs.entries()]
      .filter(([, g]) => g.node === this.facts.node)
      .map(([vmid]) => vmid)
      .sort((a, b) => a - b);
    for (const vmid of vmids) {
      const { config } = this.tree.guestConfigs.get(vmid) as { config: GuestConfig };
      const opts = guestOptions(this.tree.guests.get(vmid));
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
    const localNetwork = this.localNetwork(hostAddresses);
    return {
      node: this.facts.node,
      hostAddresses,
      ...(localNetwork !== undefined ? { localNetwork } : {}),
      bridges: [...bridges].sort(),
      nics,
    };
  }

  private localNetwork(hostAddresses: readonly string[]): string | undefined {
    const alias = this.cluster?.aliases.get('local_network');
    if (alias) return alias.cidr;
    if (this.facts.localNetwork !== undefined) return this.facts.localNetwork;
    const first = hostAddresses[0];
    if (first === undefined) return undefined;
    const c = parseCidr(first);
    if (!c) return undefined;
    const prefix = first.includes('/') ? c.prefix : c.family === 4 ? 24 : 64;
    return formatInterval(cidrInterval({ ...c, prefix }));
  }

  // ---------------------------------------------------------------- sets

  private resolveSetEntries(set: IpSet, from: 'cluster' | 'guest', guestDoc: FwDocument | undefined): SetEntryInterval[] {
    const out: SetEntryInterval[] = [];
    for (const e of set.entries) {
      if (e.error) continue;
      let cidr: Cidr | undefined = parseCidr(e.cidr);
      if (!cidr) {
        const alias = resolveAlias(e.cidr, from, this.cluster, guestDoc);
        if (!alias) continue;
        cidr = parseCidr(alias.cidr);
      }
      if (cidr) out.push({ cidr, nomatch: e.nomatch });
    }
    return out;
  }

  /** Registers (once) the kernel set of one family and returns its name. */
  private kernelSet(vmid: number, name: string, family: IpFamily, entries: () => SetEntryInterval[], comment: string): string {
    const kname = ipsetKernelName(vmid, name, family);
    if (!this.sets.has(kname)) {
      const all = [...entries(), ...(this.extraSetEntries.get(`${vmid}/${name}`) ?? [])];
      this.sets.set(kname, { name: kname, family, kind: 'interval', elements: flattenLongestPrefix(all, family), comment });
    }
    return kname;
  }

  private ipsetRef(ref: string, family: IpFamily, ctx: RuleCtx): string | undefined {
    const r = resolveIpSet(ref, ctx.from, this.cluster, ctx.guestDoc);
    if (!r) return undefined;
    const vmid = r.owner === 'guest' ? ctx.guestVmid : 0;
    const from = r.owner === 'guest' ? 'guest' : 'cluster';
    return this.kernelSet(vmid, r.set.name, family, () => this.resolveSetEntries(r.set, from, ctx.guestDoc), r.owner === 'guest' ? `guest ${vmid} ${r.set.name}` : `cluster ${r.set.name}`);
  }

  // ---------------------------------------------------------------- rules

  private logStmts(level: LogLevel | undefined, vmid: number, chain: string, message: string, ruleId?: string): Stmt[] | undefined {
    if (level === undefined || level === 'nolog') return undefined;
    const n = LEVEL_NUMBERS[level];
    if (n === undefined) return undefined;
    const stmts: Stmt[] = [];
    if (this.limit) stmts.push({ kind: 'limit', rate: this.limit.rate, per: this.limit.per, burst: this.limit.burst });
    stmts.push({ kind: 'log', prefix: formatLogPrefix(vmid, n, chain, message, ruleId), group: this.opts.logGroup });
    return stmts;
  }

  private actionStmts(action: string, accept: Stmt = ACCEPT): Stmt[] {
    if (action === 'ACCEPT') return [accept];
    if (action === 'DROP') return [DROP];
    return [jump(REJECT_CHAIN)];
  }

  /** Protocol, port and ICMP matches of one expanded rule for one family. */
  private protoMatches(
    proto: string | undefined,
    dport: string | undefined,
    sport: string | undefined,
    icmpType: string | undefined,
    family: IpFamily,
  ): { matches: Match[]; specific: boolean } | 'skip' | { error: string } {
    if (proto === undefined) {
      if (dport !== undefined || sport !== undefined) return { error: 'ports given without a protocol' };
      return { matches: [], specific: false };
    }
    const icmpV = icmpProtocolVersion(proto);
    if (icmpV !== undefined) {
      if (icmpV !== family) return 'skip';
      if (sport !== undefined) return { error: `protocol '${proto}' does not support ports` };
      const table = icmpTypesFor(icmpV);
      let spec = icmpType;
      if (spec === undefined && dport !== undefined) {
        if (proto === 'ipv6-icmp') return { error: 'protocol ipv6-icmp does not have ports' };
        spec = dport;
      }
      if (spec === undefined) return { matches: [icmp(icmpV, [])], specific: true };
      if (/^\d+$/.test(spec)) {
        if (icmpType !== undefined) return { error: `invalid icmp-type '${spec}'` };
        const n = Number(spec);
        if (n > 255) return { error: `invalid ICMP type '${spec}'` };
        return { matches: [icmp(icmpV, [n], undefined, spec)], specific: true };
      }
      const info = table.get(spec);
      if (!info) return { error: `ICMP type '${spec}' is not valid for IPv${icmpV}` };
      if (info.any === true) return { matches: [icmp(icmpV, [], undefined, spec)], specific: true };
      return { matches: [icmp(icmpV, [info.type], info.code, spec)], specific: true };
    }
    const pp = PORT_PROTOS[proto];
    if (pp !== undefined) {
      const matches: Match[] = [];
      if (sport !== undefined) {
        const r = parsePorts(sport);
        if (!r) return { error: `invalid source port list '${sport}'` };
        matches.push(port(pp, 'sport', r));
      }
      if (dport !== undefined) {
        const r = parsePorts(dport);
        if (!r) return { error: `invalid destination port list '${dport}'` };
        matches.push(port(pp, 'dport', r));
      }
      if (matches.length === 0) matches.push(l4(PORT_PROTO_NUMBER[pp]));
      return { matches, specific: false };
    }
    if (dport !== undefined || sport !== undefined) return { error: `protocol '${proto}' does not support ports` };
    const info = lookupProtocol(proto);
    if (!info) return { error: `unknown protocol '${proto}'` };
    return { matches: [l4(info.number)], specific: false };
  }

  private addrMatch(
    field: 'saddr' | 'daddr',
    spec: string | undefined,
    family: IpFamily,
    ctx: RuleCtx,
  ): { match?: Match; specific: boolean } | 'skip' | { error: string } {
    if (spec === undefined) return { specific: false };
    if (spec.startsWith('+')) {
      const name = this.ipsetRef(spec.slice(1), family, ctx);
      if (name === undefined) return { error: `no such ipset '${spec.slice(1)}' in this scope` };
      return { match: { kind: 'addr', family, field, op: 'eq', value: { set: name } }, specific: true };
    }
    if (/^(?:(?:dc|guest)\/)?[A-Za-z][A-Za-z0-9_-]+$/.test(spec)) {
      const alias = resolveAlias(spec, ctx.from, this.cluster, ctx.guestDoc);
      if (!alias) return { error: `no such alias '${spec}' in this scope` };
      const c = parseCidr(alias.cidr);
      if (!c) return { error: `alias '${spec}' has an invalid value` };
      if (c.family !== family) return 'skip';
      return { match: { kind: 'addr', family, field, op: 'eq', value: { intervals: [cidrInterval(c)] } }, specific: true };
    }
    const list = parseAddressList(spec);
    if (!list) return { error: `invalid address list '${spec}'` };
    if (list.family !== family) return 'skip';
    return { match: { kind: 'addr', family, field, op: 'eq', value: { intervals: list.intervals } }, specific: true };
  }

  private groupChainName(name: string, dir: 'in' | 'out'): string {
    return `GROUP-${name}-${dir === 'in' ? 'IN' : 'OUT'}`;
  }

  /** Creates the two chains of a security group at its first reference. */
  private ensureGroup(name: string, refPath: string, refLine: number): void {
    const inName = this.groupChainName(name, 'in');
    if (this.groupChains.has(inName)) return;
    this.groupChains.add(inName);
    const group = this.cluster?.groups.get(name);
    if (!group) this.diag('FWC03', `no such security group '${name}'`, refPath, refLine);
    for (const dir of ['in', 'out'] as const) {
      const chain = this.groupChainName(name, dir);
      this.groupChains.add(chain);
      const rules: Rule[] = [];
      // Reserve the slot first so recursive references see it.
      this.chains.set(chain, { name: chain, rules });
      const ctx: RuleCtx = {
        chain,
        dir,
        scope: 'group',
        from: 'cluster',
        logVmid: 0,
        guestVmid: 0,
        path: this.cluster?.path ?? 'firewall/cluster.fw',
      };
      for (const r of group?.rules ?? []) {
        if (r.type !== dir) continue;
        rules.push(...this.translate(r, ctx));
      }
    }
  }

  /**
   * The IN chain of a security group whose ACCEPT is a queue statement, for the IN chains of
   * IPS guests (pve-firewall: the group sets the accept bit and the caller queues). Named
   * `GROUP-<name>-IN-Q<queues>`; its log prefixes keep the group chain's name.
   */
  private ensureGroupQueueVariant(name: string, queue: QueueStmt, refPath: string, refLine: number): string {
    this.ensureGroup(name, refPath, refLine);
    const logName = this.groupChainName(name, 'in');
    const chain = `${logName}${queueSuffix(queue)}`;
    if (this.groupChains.has(chain)) return chain;
    this.groupChains.add(chain);
    const rules: Rule[] = [];
    this.chains.set(chain, { name: chain, rules });
    const ctx: RuleCtx = {
      chain: logName,
      dir: 'in',
      scope: 'group',
      from: 'cluster',
      logVmid: 0,
      guestVmid: 0,
      path: this.cluster?.path ?? 'firewall/cluster.fw',
      accept: queue,
    };
    for (const r of this.cluster?.groups.get(name)?.rules ?? []) {
      if (r.type !== 'in') continue;
      rules.push(...this.translate(r, ctx));
    }
    return chain;
  }

  /** Translates one user rule (after filtering by type) into IR rules; [] when skipped. */
  private translate(r: FwRule, ctx: RuleCtx, ifaceMatch?: Match): Rule[] {
    if (!r.enabled || r.errors.length > 0) return [];
    const id = this.ruleIdOf(ctx, r);
    const origin: RuleOrigin = { path: ctx.path, line: r.line, text: this.sourceText(ctx, r), ...(id !== undefined ? { id } : {}) };
    const comment = `${ctx.path}:${r.line}`;
    const base: Match[] = ifaceMatch ? [ifaceMatch] : [];
    if (ctx.scope === 'host' && r.iface !== undefined) {
      base.push({ kind: 'ifname', dir: ctx.dir === 'in' ? 'iif' : 'oif', op: 'eq', names: [r.iface] });
    }
    if (r.type === 'group') {
      if (ctx.accept !== undefined && ctx.dir === 'in') {
        return [rule(base, [jump(this.ensureGroupQueueVariant(r.action, ctx.accept, ctx.path, r.line))], { comment, origin })];
      }
      this.ensureGroup(r.action, ctx.path, r.line);
      return [rule(base, [jump(this.groupChainName(r.action, ctx.dir))], { comment, origin })];
    }
    const families: IpFamily[] = r.ipVersion !== undefined ? [r.ipVersion] : [4, 6];
    const macro = r.macro !== undefined ? findMacro(r.macro) : undefined;
    if (r.macro !== undefined && !macro) return [];
    const variants: { family: IpFamily; specific: boolean; matches: Match[] }[] = [];
    for (const family of families) {
      const templates = macro ? macroTemplatesFor(macro, family) : [{ proto: r.proto, dport: r.dport, sport: r.sport }];
      for (const t of templates) {
        const pm = this.protoMatches(t.proto ?? r.proto, t.dport ?? r.dport, t.sport ?? r.sport, r.icmpType, family);
        if (pm === 'skip') continue;
        if ('error' in pm) {
          this.diag('FWC02', `rule skipped: ${pm.error}`, ctx.path, r.line);
          return [];
        }
        const src = this.addrMatch('saddr', r.source, family, ctx);
        const dst = this.addrMatch('daddr', r.dest, family, ctx);
        if (src === 'skip' || dst === 'skip') continue;
        if ('error' in src || 'error' in dst) {
          this.diag('FWC01', `rule skipped: ${'error' in src ? src.error : (dst as { error: string }).error}`, ctx.path, r.line);
          return [];
        }
        const matches = [...base];
        if (src.match) matches.push(src.match);
        if (dst.match) matches.push(dst.match);
        matches.push(...pm.matches);
        variants.push({ family, specific: pm.specific || src.specific || dst.specific, matches });
      }
    }
    // Merge family-neutral variants that both families produce identically into one rule.
    const key = (m: Match[]): string => JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const neutral: Record<IpFamily, Set<string>> = { 4: new Set(), 6: new Set() };
    for (const v of variants) if (!v.specific) neutral[v.family].add(key(v.matches));
    const emitted = new Set<string>();
    const out: Rule[] = [];
    // Security-group rules carry their action too (as proxmox-firewall writes them; pve-firewall's
    // iptables prefix has none), so that a group hit's log entry says what the rule did.
    const message = `${r.action}: `;
    const log = this.logStmts(r.log, ctx.logVmid, ctx.chain, message, id);
    for (const v of variants) {
      let matches = v.matches;
      if (!v.specific) {
        const k = key(v.matches);
        if (neutral[4].has(k) && neutral[6].has(k)) {
          if (emitted.has(k)) continue;
          emitted.add(k);
        } else {
          matches = [nfproto(v.family), ...v.matches];
        }
      }
      if (log) out.push(rule(matches, log, { comment, origin }));
      out.push(rule(matches, this.actionStmts(r.action, ctx.accept), { comment, origin }));
    }
    return out;
  }

  private sourceText(ctx: RuleCtx, r: FwRule): string {
    return this.documentOf(ctx)?.lines[r.line - 1]?.text.trim() ?? '';
  }

  /** The document a rule of this context comes from. */
  private documentOf(ctx: RuleCtx): FwDocument | undefined {
    if (ctx.scope === 'guest' && ctx.guestDoc) return ctx.guestDoc;
    return ctx.path === this.cluster?.path ? this.cluster : [...this.tree.hosts.values()].find((h) => h.path === ctx.path);
  }

  private readonly ruleIdsByDoc = new Map<FwDocument, ReadonlyMap<number, string>>();

  /** The stable id of a source rule (computed once per document). */
  private ruleIdOf(ctx: RuleCtx, r: FwRule): string | undefined {
    const doc = this.documentOf(ctx);
    if (!doc) return undefined;
    let ids = this.ruleIdsByDoc.get(doc);
    if (!ids) {
      ids = documentRuleIds(doc);
      this.ruleIdsByDoc.set(doc, ids);
    }
    return ids.get(r.line);
  }

  private policyRules(policy: string, level: LogLevel, vmid: number, chain: string, acceptStmt: Stmt): Rule[] {
    if (policy === 'ACCEPT') return [rule([], [acceptStmt], { comment: 'policy ACCEPT' })];
    const out: Rule[] = [];
    if (policy === 'REJECT') {
      out.push(rule([], [jump('PVEFW-Reject')]));
      const log = this.logStmts(level, vmid, chain, 'policy REJECT: ');
      if (log) out.push(rule([], log));
      out.push(rule([], [jump(REJECT_CHAIN)], { comment: 'policy REJECT' }));
    } else {
      out.push(rule([], [jump('PVEFW-Drop')]));
      const log = this.logStmts(level, vmid, chain, 'policy DROP: ');
      if (log) out.push(rule([], log));
      out.push(rule([], [DROP], { comment: 'policy DROP' }));
    }
    return out;
  }

  // ---------------------------------------------------------------- standard chains

  private standardChains(hostLogOut: LogLevel, smurfLevel: LogLevel, flagsLevel: LogLevel, blacklist: boolean): void {
    const add = (name: string, rules: Rule[]): void => {
      this.chains.set(name, { name, rules });
    };
    add(REJECT_CHAIN, [
      rule([], [{ kind: 'mark-set', and: 0xffffffff, or: this.opts.markReject }], { comment: 'answers carry this mark (fwmark_reflect)' }),
      rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['broadcast'] }], [DROP]),
      rule([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('224.0.0.0/4') as Cidr)] } }], [DROP]),
      rule([icmp(4, [])], [DROP]),
      rule([icmp(6, [])], [DROP]),
      rule([l4(6)], [{ kind: 'reject', with: { kind: 'tcp-reset' } }]),
      rule([nfproto(4), l4(17)], [{ kind: 'reject', with: { kind: 'icmp', family: 4, type: 'port-unreachable' } }]),
      rule([nfproto(6), l4(17)], [{ kind: 'reject', with: { kind: 'icmp', family: 6, type: 'port-unreachable' } }]),
      rule([nfproto(4)], [{ kind: 'reject', with: { kind: 'icmp', family: 4, type: 'host-prohibited' } }]),
      rule([nfproto(6)], [{ kind: 'reject', with: { kind: 'icmp', family: 6, type: 'admin-prohibited' } }]),
      rule([], [DROP]),
    ]);
    add('PVEFW-DropBroadcast', [
      rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['broadcast'] }], [DROP]),
      rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['multicast'] }], [DROP]),
      rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['anycast'] }], [DROP]),
      rule([{ kind: 'addr', family: 4, field: 'daddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('224.0.0.0/4') as Cidr)] } }], [DROP]),
      rule([{ kind: 'addr', family: 6, field: 'daddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('ff00::/8') as Cidr)] } }], [DROP]),
    ]);
    const noise = (smb: Stmt): Rule[] => [
      rule([nfproto(6), port('tcp', 'dport', single(43))], [jump(REJECT_CHAIN)]),
      rule([], [jump('PVEFW-DropBroadcast')]),
      rule([icmp(4, [3], 4, 'fragmentation-needed')], [ACCEPT]),
      rule([icmp(4, [11], undefined, 'time-exceeded')], [ACCEPT]),
      rule([icmp(6, [1, 2, 3])], [ACCEPT]),
      rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]),
      rule([port('udp', 'dport', [[135, 135], [445, 445]])], [smb]),
      rule([port('udp', 'dport', [[137, 139]])], [smb]),
      rule([port('udp', 'sport', single(137)), port('udp', 'dport', [[1024, 65535]])], [smb]),
      rule([port('tcp', 'dport', [[135, 135], [139, 139], [445, 445]])], [smb]),
      rule([port('udp', 'dport', single(1900))], [DROP]),
      rule([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'ne' }], [DROP]),
      rule([port('udp', 'sport', single(53))], [DROP]),
    ];
    add('PVEFW-Drop', noise(DROP));
    add('PVEFW-Reject', noise(jump(REJECT_CHAIN)));
    add('PVEFW-tcpflags', [
      rule([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'], value: ['fin', 'psh', 'urg'], op: 'eq' }], [goto('PVEFW-logflags')]),
      rule([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'], value: [], op: 'eq' }], [goto('PVEFW-logflags')]),
      rule([{ kind: 'tcpflags', mask: ['syn', 'rst'], value: ['syn', 'rst'], op: 'eq' }], [goto('PVEFW-logflags')]),
      rule([{ kind: 'tcpflags', mask: ['fin', 'syn'], value: ['fin', 'syn'], op: 'eq' }], [goto('PVEFW-logflags')]),
      rule([port('tcp', 'sport', single(0)), { kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'eq' }], [goto('PVEFW-logflags')]),
    ]);
    const logDrop = (chain: string, level: LogLevel): Rule[] => {
      const log = this.logStmts(level, 0, chain, 'DROP: ');
      return [...(log ? [rule([], log)] : []), rule([], [DROP])];
    };
    add('PVEFW-logflags', logDrop('PVEFW-logflags', flagsLevel));
    add('PVEFW-smurfs', [
      rule([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [{ family: 4, from: 0n, to: 0n }] } }], [RETURN]),
      rule([nfproto(4), { kind: 'fibtype', field: 'saddr', types: ['broadcast'] }], [goto('PVEFW-smurflog')]),
      rule([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('224.0.0.0/4') as Cidr)] } }], [goto('PVEFW-smurflog')]),
    ]);
    add('PVEFW-smurflog', logDrop('PVEFW-smurflog', smurfLevel));
    if (blacklist) add('PVEFW-blacklist', logDrop('PVEFW-blacklist', hostLogOut));
  }

  // ---------------------------------------------------------------- main

  compile(): CompileResult {
    const t = this.opts.tableName;
    const ownTables = [
      { family: 'inet' as const, name: t },
      { family: 'bridge' as const, name: t },
    ];
    const topology = this.topology();
    const copts = clusterOptions(this.cluster, this.facts.nowSeconds);
    if (!copts.enable) {
      return { ruleset: { tables: [] }, ownTables, topology, diagnostics: this.diagnostics, enabled: false };
    }
    this.limit = parseRateLimit(copts.logRateLimit);
    const hostDoc = this.tree.hosts.get(this.facts.node);
    const hopts = hostOptions(hostDoc);
    const hostPath = hostDoc?.path ?? `nodes/${this.facts.node}/host.fw`;
    const clusterPath = this.cluster?.path ?? 'firewall/cluster.fw';
    if (topology.hostAddresses.length === 0) this.diag('FWC06', 'no host address given and none in corosync.conf');

    // management = cluster set + local_network (spec §6.1 step 3)
    if (topology.localNetwork !== undefined) {
      const ln = parseCidr(topology.localNetwork);
      if (ln) this.extraSetEntries.set('0/management', [{ cidr: ln, nomatch: false }]);
    }
    // implicit ipfilter entries of every firewalled NIC (spec §6.8)
    for (const nic of topology.nics) {
      if (!nic.firewall) continue;
      const extra: SetEntryInterval[] = [];
      const ll = nic.mac !== undefined ? macLinkLocal(nic.mac) : undefined;
      if (ll !== undefined) extra.push({ cidr: { family: 6, address: ll, prefix: 128 }, nomatch: false });
      extra.push({ cidr: parseCidr('fe80::/10') as Cidr, nomatch: true });
      if (nic.guestType === 'lxc') {
        for (const ip of [nic.ip, nic.ip6]) {
          if (ip === undefined) continue;
          const c = parseCidr(ip.split('/')[0] ?? '');
          if (c) extra.push({ cidr: c, nomatch: false });
        }
      }
      this.extraSetEntries.set(`${nic.vmid}/ipfilter-net${nic.index}`, extra);
    }

    const managementSet = (family: IpFamily): string => {
      const set = this.cluster?.ipsets.get('management');
      return this.kernelSet(0, 'management', family, () => (set ? this.resolveSetEntries(set, 'cluster', undefined) : []), 'cluster management');
    };
    const blacklist = this.cluster?.ipsets.get('blacklist');
    const blacklistSet = (family: IpFamily): string =>
      this.kernelSet(0, 'blacklist', family, () => this.resolveSetEntries(blacklist as IpSet, 'cluster', undefined), 'cluster blacklist');

    this.standardChains(hopts.logLevelOut, hopts.smurfLogLevel, hopts.tcpFlagsLogLevel, blacklist !== undefined);

    const blacklistRules = (): Rule[] =>
      blacklist
        ? ([4, 6] as const).map((f) => rule([{ kind: 'addr', family: f, field: 'saddr', op: 'eq', value: { set: blacklistSet(f) } }], [jump('PVEFW-blacklist')]))
        : [];
    const smurfRule = (): Rule[] =>
      hopts.smurfFilter ? [rule([nfproto(4), { kind: 'ctstate', states: ['invalid', 'new'] }], [jump('PVEFW-smurfs')])] : [];
    const tcpflagsRule = (): Rule[] => (hopts.tcpFlagsFilter ? [rule([l4(6)], [jump('PVEFW-tcpflags')])] : []);

    // ------------------------------------------------ host chains
    const corosync = this.corosyncRules();
    if (hopts.enable) {
      const hin: Rule[] = [
        rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['lo'] }], [ACCEPT]),
        rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]),
        rule([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT]),
      ];
      if (hopts.ndp) hin.push(rule([icmp(6, [133, 134, 135, 136])], [ACCEPT]));
      hin.push(...blacklistRules(), ...smurfRule(), ...tcpflagsRule());
      hin.push(rule([l4(2)], [ACCEPT]));
      const hostCtx = (dir: 'in' | 'out', path: string): RuleCtx => ({
        chain: dir === 'in' ? 'PVEFW-HOST-IN' : 'PVEFW-HOST-OUT',
        dir,
        scope: 'host',
        from: 'cluster',
        logVmid: 0,
        guestVmid: 0,
        path,
      });
      for (const [doc, path] of [
        [hostDoc, hostPath],
        [this.cluster, clusterPath],
      ] as const) {
        for (const r of doc?.rules ?? []) if (r.type === 'in' || r.type === 'group') hin.push(...this.translate(r, hostCtx('in', path)));
      }
      for (const f of [4, 6] as const) {
        hin.push(
          rule([{ kind: 'addr', family: f, field: 'saddr', op: 'eq', value: { set: managementSet(f) } }, port('tcp', 'dport', MANAGEMENT_PORTS)], [ACCEPT], {
            comment: 'management',
          }),
        );
      }
      hin.push(...corosync.in);
      hin.push(...this.policyRules(copts.policyIn, hopts.logLevelIn, 0, 'PVEFW-HOST-IN', ACCEPT));
      this.chains.set('PVEFW-HOST-IN', { name: 'PVEFW-HOST-IN', rules: hin });

      const hout: Rule[] = [
        rule([{ kind: 'ifname', dir: 'oif', op: 'eq', names: ['lo'] }], [ACCEPT]),
        rule([{ kind: 'mark', mask: this.opts.markReject, value: this.opts.markReject, op: 'eq' }], [ACCEPT], { comment: 'REJECT answers' }),
        rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]),
        rule([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT]),
      ];
      if (hopts.ndp) hout.push(rule([icmp(6, [133, 135, 136])], [ACCEPT]));
      hout.push(rule([l4(2)], [ACCEPT]));
      for (const [doc, path] of [
        [hostDoc, hostPath],
        [this.cluster, clusterPath],
      ] as const) {
        for (const r of doc?.rules ?? []) if (r.type === 'out' || r.type === 'group') hout.push(...this.translate(r, hostCtx('out', path)));
      }
      const ln = topology.localNetwork !== undefined ? parseCidr(topology.localNetwork) : undefined;
      if (ln) {
        hout.push(
          rule([{ kind: 'addr', family: ln.family, field: 'daddr', op: 'eq', value: { intervals: [cidrInterval(ln)] } }, port('tcp', 'dport', LOCAL_OUT_PORTS)], [ACCEPT], {
            comment: 'local_network management',
          }),
        );
      }
      hout.push(...corosync.out);
      hout.push(...this.policyRules(copts.policyOut, hopts.logLevelOut, 0, 'PVEFW-HOST-OUT', ACCEPT));
      this.chains.set('PVEFW-HOST-OUT', { name: 'PVEFW-HOST-OUT', rules: hout });
    }

    // ------------------------------------------------ guest chains
    const fwbrIn: Rule[] = [...blacklistRules(), ...smurfRule(), ...tcpflagsRule()];
    const inMap: [string, { kind: 'jump'; target: string }][] = [];
    const outMap: [string, { kind: 'jump'; target: string }][] = [];
    const ipsRules: Rule[] = [];
    for (const nic of topology.nics) {
      if (!nic.filtered) continue;
      const doc = this.tree.guests.get(nic.vmid) as FwDocument;
      const gopts = guestOptions(doc);
      if (!gopts) continue;
      const path = doc.path;
      const netKey = `net${nic.index}`;
      const inChain = `${nic.iface}-IN`;
      const outChain = `${nic.iface}-OUT`;
      let queue: QueueStmt | undefined;
      if (gopts.ips) {
        queue = parseIpsQueues(gopts.ipsQueues);
        if (!queue) {
          this.diag('FWC08', `ips_queues '${gopts.ipsQueues ?? ''}' is not a queue number or range of 0-65535: queue 0 used`, path);
          queue = DEFAULT_IPS_QUEUE;
        }
      }
      const acc: Stmt = queue ?? ACCEPT;
      const ctx = (dir: 'in' | 'out'): RuleCtx => ({
        chain: dir === 'in' ? inChain : outChain,
        dir,
        scope: 'guest',
        from: 'guest',
        guestDoc: doc,
        logVmid: nic.vmid,
        guestVmid: nic.vmid,
        path,
        ...(dir === 'in' && queue !== undefined ? { accept: queue } : {}),
      });
      const userRules = (dir: 'in' | 'out'): Rule[] => {
        const out: Rule[] = [];
        for (const r of doc.rules) {
          if (r.type !== dir && r.type !== 'group') continue;
          if (r.iface !== undefined && r.iface !== netKey) continue;
          out.push(...this.translate(r, ctx(dir)));
        }
        return out;
      };
      // IN
      const gin: Rule[] = [rule([], [{ kind: 'ctmark-set', value: nic.vmid }])];
      if (gopts.dhcp) {
        gin.push(rule([nfproto(4), port('udp', 'sport', single(67)), port('udp', 'dport', single(68))], [ACCEPT]));
        gin.push(rule([nfproto(6), port('udp', 'sport', single(547)), port('udp', 'dport', single(546))], [ACCEPT]));
      }
      if (gopts.ndp) gin.push(rule([icmp(6, [133, 134, 135, 136])], [acc]));
      gin.push(...userRules('in'));
      gin.push(...this.policyRules(gopts.policyIn, gopts.logLevelIn, nic.vmid, inChain, acc));
      // Established/related traffic towards this NIC is queued too (PVEFW-IPS, spec §6.3.11).
      if (queue) ipsRules.push(rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: [nic.fwbr] }], [queue], { comment: `ips ${nic.iface}` }));
      this.chains.set(inChain, { name: inChain, rules: gin });
      // OUT
      const gout: Rule[] = [rule([], [{ kind: 'ctmark-set', value: nic.vmid }])];
      if (gopts.dhcp) {
        gout.push(rule([nfproto(4), port('udp', 'sport', single(68)), port('udp', 'dport', single(67))], [ACCEPT]));
        gout.push(rule([nfproto(6), port('udp', 'sport', single(546)), port('udp', 'dport', single(547))], [ACCEPT]));
      }
      if (gopts.macfilter) {
        if (nic.mac !== undefined) gout.push(rule([{ kind: 'ether', op: 'ne', mac: nic.mac.toLowerCase() }], [DROP], { comment: 'macfilter' }));
        else this.diag('FWC05', `${netKey} has no MAC address: no MAC filter`, path);
      }
      if (!gopts.radv) gout.push(rule([icmp(6, [134])], [DROP]));
      const explicit = doc.ipsets.get(`ipfilter-${netKey}`);
      if (gopts.ipfilter || explicit) {
        for (const f of [4, 6] as const) {
          const name = this.kernelSet(nic.vmid, `ipfilter-${netKey}`, f, () => (explicit ? this.resolveSetEntries(explicit, 'guest', doc) : []), `guest ${nic.vmid} ipfilter-${netKey}`);
          gout.push(rule([{ kind: 'addr', family: f, field: 'saddr', op: 'ne', value: { set: name } }], [DROP], { comment: 'ipfilter' }));
        }
      }
      if (gopts.ndp) gout.push(rule([icmp(6, gopts.radv ? [133, 134, 135, 136] : [133, 135, 136])], [ACCEPT]));
      gout.push(...userRules('out'));
      gout.push(...this.policyRules(gopts.policyOut, gopts.logLevelOut, nic.vmid, outChain, ACCEPT));
      this.chains.set(outChain, { name: outChain, rules: gout });
      inMap.push([nic.fwbr, { kind: 'jump', target: inChain }]);
      outMap.push([nic.fwbr, { kind: 'jump', target: outChain }]);
    }
    if (inMap.length > 0) fwbrIn.push(rule([], [{ kind: 'vmap', key: 'iifname', entries: inMap }]));
    this.chains.set('PVEFW-FWBR-IN', { name: 'PVEFW-FWBR-IN', rules: fwbrIn });
    this.chains.set('PVEFW-FWBR-OUT', { name: 'PVEFW-FWBR-OUT', rules: outMap.length > 0 ? [rule([], [{ kind: 'vmap', key: 'iifname', entries: outMap }])] : [] });
    if (ipsRules.length > 0) this.chains.set('PVEFW-IPS', { name: 'PVEFW-IPS', rules: ipsRules });

    // ------------------------------------------------ base chains
    const { markMask, markIn, markOut } = this.opts;
    const fwbr: Match = { kind: 'ifname', dir: 'iif', op: 'eq', names: ['fwbr*'] };
    const forward: Rule[] = [];
    // pve-firewall's rule 0 (spec §6.3.4): established traffic into IPS NICs goes to the queue.
    if (ipsRules.length > 0) {
      forward.push(rule([{ kind: 'ctstate', states: ['established', 'related'] }, fwbr, { kind: 'mark', mask: markMask, value: markIn, op: 'eq' }], [jump('PVEFW-IPS')]));
    }
    forward.push(rule([{ kind: 'mark', mask: this.opts.markReject, value: this.opts.markReject, op: 'eq' }], [ACCEPT], { comment: 'REJECT answers' }));
    if (!hopts.allowInvalid) forward.push(rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]));
    forward.push(rule([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT]));
    forward.push(rule([fwbr, { kind: 'mark', mask: markMask, value: markIn, op: 'eq' }], [jump('PVEFW-FWBR-IN')]));
    forward.push(rule([fwbr, { kind: 'mark', mask: markMask, value: markOut, op: 'eq' }], [jump('PVEFW-FWBR-OUT')]));
    const inputPolicy = hopts.enable && copts.policyIn !== 'ACCEPT' ? 'drop' : 'accept';
    const outputPolicy = hopts.enable && copts.policyOut !== 'ACCEPT' ? 'drop' : 'accept';
    const baseChains: Chain[] = [];
    if (hopts.synflood) baseChains.push(this.synfloodChain(hopts.synfloodRate, hopts.synfloodBurst, hopts.tcpTimeoutSynRecv ?? 60));
    const helpers = this.helperObjects(hopts.conntrackHelpers);
    if (helpers.chain) baseChains.push(helpers.chain);
    baseChains.push(
      { name: 'PVEFW-INPUT', base: { hook: 'input', priority: 0, policy: inputPolicy }, rules: hopts.enable ? [rule([], [jump('PVEFW-HOST-IN')])] : [] },
      { name: 'PVEFW-OUTPUT', base: { hook: 'output', priority: 0, policy: outputPolicy }, rules: hopts.enable ? [rule([], [jump('PVEFW-HOST-OUT')])] : [] },
      { name: 'PVEFW-FORWARD', base: { hook: 'forward', priority: 0, policy: 'accept' }, rules: forward },
    );

    const chainOrder = (c: Chain): string => c.name;
    const regular = [...this.chains.values()].sort((a, b) => (chainOrder(a) < chainOrder(b) ? -1 : chainOrder(a) > chainOrder(b) ? 1 : 0));
    const sets = [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const inet: Table = { family: 'inet', name: t, sets, ctHelpers: helpers.objects, chains: [...regular, ...baseChains] };
    const clear = ~markMask >>> 0;
    const bridge: Table = {
      family: 'bridge',
      name: t,
      sets: [],
      ctHelpers: [],
      chains: [
        {
          name: 'PALISADE-PORT-MARK',
          base: { hook: 'prerouting', priority: -300, policy: 'accept' },
          rules: [
            rule([], [{ kind: 'mark-set', and: clear, or: 0 }]),
            rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['fwln*'] }], [{ kind: 'mark-set', and: clear, or: markIn }]),
            rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['tap*'] }], [{ kind: 'mark-set', and: clear, or: markOut }]),
            rule([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['veth*'] }], [{ kind: 'mark-set', and: clear, or: markOut }]),
          ],
        },
      ],
    };
    return { ruleset: { tables: [shareRepeatedSets(inet), bridge] }, ownTables, topology, diagnostics: this.diagnostics, enabled: true };
  }

  private synfloodChain(rate: number, burst: number, expireS: number): Chain {
    const rules: Rule[] = [];
    for (const f of [4, 6] as const) {
      const name = `PVEFW-synflood-v${f}`;
      this.sets.set(name, { name, family: f, kind: 'meter', elements: [], timeoutS: expireS, size: 65536 });
      rules.push(
        rule(
          [nfproto(f), { kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'eq' }],
          [{ kind: 'meter-over', set: name, family: f, prefix: f === 4 ? 32 : 64, rate, burst }, DROP],
          { comment: 'protection_synflood' },
        ),
      );
    }
    return { name: 'PVEFW-PREROUTING', base: { hook: 'prerouting', priority: -300, policy: 'accept' }, rules };
  }

  private helperObjects(names: readonly string[]): { objects: CtHelper[]; chain?: Chain } {
    const objects: CtHelper[] = [];
    const rules: Rule[] = [];
    for (const n of names) {
      const h = findConntrackHelper(n);
      if (!h) continue;
      const name = `helper-${h.name}-${h.proto}`;
      objects.push({ name, type: h.name, protocol: h.proto, ...(h.v6 ? {} : { l3proto: 'ip' as const }) });
      const fam: Match[] = h.v6 ? [] : [nfproto(4)];
      rules.push(rule([...fam, port(h.proto, 'dport', single(h.dport))], [{ kind: 'ct-helper-set', name }]));
    }
    if (rules.length === 0) return { objects };
    return { objects, chain: { name: 'PVEFW-HELPERS', base: { hook: 'prerouting', priority: -150, policy: 'accept' }, rules } };
  }

  private corosyncRules(): { in: Rule[]; out: Rule[] } {
    const cs = this.tree.corosync;
    const res = { in: [] as Rule[], out: [] as Rule[] };
    if (!cs) return res;
    const coro = port('udp', 'dport', [[5404, 5405]]);
    if (cs.transport === 'udp') {
      res.in.push(rule([{ kind: 'fibtype', field: 'daddr', types: ['multicast'] }, coro], [ACCEPT], { comment: 'corosync multicast' }));
      res.out.push(rule([{ kind: 'fibtype', field: 'daddr', types: ['multicast'] }, coro], [ACCEPT], { comment: 'corosync multicast' }));
    }
    const me = cs.nodes.find((n) => n.name === this.facts.node);
    if (!me) return res;
    const peers = cs.nodes.filter((n) => n.name !== this.facts.node).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const peer of peers) {
      for (const ring of [...peer.rings.keys()].sort((a, b) => a - b)) {
        const localAddr = me.rings.get(ring);
        const peerAddr = peer.rings.get(ring) as string;
        if (localAddr === undefined) continue;
        const l = parseCidr(localAddr);
        const p = parseCidr(peerAddr);
        if (!l || !p) {
          this.diag('FWC07', `corosync ring${ring} of ${peer.name}: '${l ? peerAddr : localAddr}' is not an address`, cs.path);
          continue;
        }
        if (l.family !== p.family) continue;
        const a = (field: 'saddr' | 'daddr', c: Cidr): Match => ({ kind: 'addr', family: c.family, field, op: 'eq', value: { intervals: [cidrInterval(c)] } });
        res.in.push(rule([a('saddr', p), a('daddr', l), coro], [ACCEPT], { comment: `corosync ${peer.name} ring${ring}` }));
        res.out.push(rule([a('saddr', l), a('daddr', p), coro], [ACCEPT], { comment: `corosync ${peer.name} ring${ring}` }));
      }
    }
    return res;
  }
}

const PORT_PROTO_NUMBER: Readonly<Record<PortProto, number>> = { tcp: 6, udp: 17, sctp: 132, dccp: 33, udplite: 136 };

/**
 * Compiles one node. Pure and deterministic: the same tree, facts and options give the same
 * ruleset. Problems that skip a rule are returned as diagnostics, never thrown.
 */
export function compileNode(tree: CompileTree, facts: NodeFacts, options: CompileOptions = {}): CompileResult {
  const result = new Compiler(tree, facts, options).compile();
  // the netlink planner compares compiles per chain by fingerprint: computed here, once
  for (const t of result.ruleset.tables) for (const c of t.chains) chainFingerprint(c);
  return result;
}

export type { AddrInterval };
