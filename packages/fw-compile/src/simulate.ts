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
import type { Hook, Table, TcpFlag } from '@palisade/nft-ir';
import type { CompileResult, TopologyNic } from './compile-types.js';
import { formatAddress, parseAddress } from './ip.js';
import { prepareCase, type PreparedCase, type SimCase } from './sim-case.js';
import { Evaluator, type Packet } from './sim-evaluator.js';
import type { SimDecision, SimHop, SimOutcome, SimResult, SimVerdict } from './sim-result.js';

export {
  NFVM_PORT,
  OUTSIDE_PORT,
  prepareCase,
  resolveZone,
  SIM_DEFAULT_DEST,
  SIM_DEFAULT_DEST_V6,
  SIM_DEFAULT_SOURCE,
  SIM_DEFAULT_SOURCE_V6,
  type PreparedCase,
  type SimCase,
  type Zone,
} from './sim-case.js';
export { formatSimResult, simOutcomeJson, type SimDecision, type SimHop, type SimOutcome, type SimResult, type SimVerdict } from './sim-result.js';

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

/** The verdict of the packet along its whole path, in reference or kernel mode. */
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
  const ptext = `${protoName} ${formatAddress(family, s.address)}${sport !== undefined ? `:${sport}` : ''} -> ${formatAddress(family, d.address)}${dport !== undefined ? `:${dport}` : ''}${icmpType !== undefined ? ` type ${icmpType}/${icmpCode ?? 0}` : ''}`;
  return { verdict, ...(decision ? { decision } : {}), hops, packet: ptext };
}

function nicLabel(nic: TopologyNic): string {
  return `${nic.guestType === 'qemu' ? 'vm' : 'ct'}${nic.vmid} net${nic.index}`;
}

