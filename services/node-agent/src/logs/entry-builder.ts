/**
 * One NFLOG packet → one log entry (the `@palisade/log-model` contract): the prefix taken apart
 * as pvefw-logger does (vmid, level, chain, verdict) with Palisade's rule id stripped, the rule
 * it names, the devices by name, the guest a security-group hit protected (from the device
 * names, where pvefw-logger says 0), the packet's fields and pvefw-logger's packet text. Pure.
 */
import { parseLogPrefix, type ParsedLogPrefix } from '@palisade/fw-compile';
import type { LogAction, LogDirection, LogRuleOrigin, PacketLogEntry } from '@palisade/log-model';
import { formatPacketText, type NflogPacket } from '@palisade/nft-netlink';

/** What the builder needs besides the packet. */
export interface EntryContext {
  readonly node: string;
  /** The entry id: `${node}:${bootId}:${seq}`. */
  readonly id: string;
  /** Receive time, µs (used when the kernel sent no timestamp: output-side hooks). */
  readonly nowUs: number;
  readonly ifname: (index: number) => string | undefined;
  readonly rule: (ruleId: string) => LogRuleOrigin | undefined;
}

/** Guest device names: `tap<vmid>i<n>` (QEMU), `veth<vmid>i<n>` (LXC), `fwbr`/`fwln`/`fwpr<vmid>[ip]<n>` (firewall bridges). */
const GUEST_DEVICE = /^(?:tap|veth|fwbr|fwln|fwpr)(\d+)[ip]\d+$/;

/** The guest a device belongs to, 0 when none. */
export function guestOfDevice(name: string | undefined): number {
  const m = name === undefined ? null : GUEST_DEVICE.exec(name);
  return m ? Number(m[1]) : 0;
}

/** `in` for `…-IN` chains (towards the host or the guest), `out` for `…-OUT`. */
export function directionOfChain(chain: string): LogDirection {
  if (/-IN(?:-Q[\d-]+)?$/.test(chain)) return 'in';
  if (/-OUT$/.test(chain)) return 'out';
  return 'unknown';
}

const VERDICT = /^(policy )?(ACCEPT|DROP|REJECT)$/;

/** What an entry takes from its prefix: the parse and the fields derived from it. */
interface PrefixFacts {
  readonly prefix: ParsedLogPrefix;
  readonly verdict: string;
  readonly action: LogAction;
  readonly isPolicy: boolean;
  readonly direction: LogDirection;
}

// A ruleset has a few hundred distinct prefixes and every hit repeats one: parse each once,
// and derive its verdict, action and direction once too.
const PREFIX_CACHE_MAX = 4096;
const prefixCache = new Map<string, PrefixFacts>();
function prefixFacts(text: string): PrefixFacts {
  let facts = prefixCache.get(text);
  if (!facts) {
    if (prefixCache.size >= PREFIX_CACHE_MAX) prefixCache.clear();
    const prefix = parseLogPrefix(text);
    const verdictText = prefix.message.endsWith(': ') ? prefix.message.slice(0, -2) : prefix.message.trim();
    const verdict = verdictText === '' ? '-' : verdictText;
    const vm = VERDICT.exec(verdict);
    facts = { prefix, verdict, action: vm ? (vm[2] as LogAction) : 'OTHER', isPolicy: vm?.[1] !== undefined, direction: directionOfChain(prefix.chain) };
    prefixCache.set(text, facts);
  }
  return facts;
}

/** The log entry of one NFLOG packet (see the module comment); pure apart from the prefix cache. */
export function buildPacketEntry(p: NflogPacket, c: EntryContext): PacketLogEntry {
  const { prefix, verdict, action, isPolicy, direction } = prefixFacts(p.prefix ?? '');
  const name = (i: number): string | undefined => (i > 0 ? (c.ifname(i) ?? String(i)) : undefined);
  const iif = name(p.indev);
  const oif = name(p.outdev);
  const physIn = name(p.physindev);
  const physOut = name(p.physoutdev);
  let vmid = prefix.vmid;
  if (vmid === 0 && prefix.chain.startsWith('GROUP-')) {
    // The guest side of the packet: towards the guest (IN) it leaves by the guest's device.
    const order = direction === 'in' ? [physOut, oif, physIn, iif] : [physIn, iif, physOut, oif];
    for (const d of order) {
      vmid = guestOfDevice(d);
      if (vmid) break;
    }
  }
  const { text, fields, mac } = formatPacketText(p, c.ifname);
  const rule = prefix.ruleId !== undefined ? c.rule(prefix.ruleId) : undefined;
  // One object literal with every field (absent ones undefined, which JSON leaves out): one
  // shape for all entries, cheaper to build and to encode than fields added one by one.
  const e: PacketLogEntry = {
    kind: 'packet',
    id: c.id,
    node: c.node,
    timeUs: p.timestampUs ?? c.nowUs,
    vmid,
    level: prefix.level,
    chain: prefix.chain,
    verdict,
    action,
    isPolicy,
    direction,
    ruleId: prefix.ruleId,
    rule,
    iif,
    oif,
    physIn,
    physOut,
    mac,
    family: fields.family,
    proto: fields.proto,
    src: fields.src,
    dst: fields.dst,
    sport: fields.sport,
    dport: fields.dport,
    icmpType: fields.icmpType,
    icmpCode: fields.icmpCode,
    len: fields.len,
    tcpFlags: fields.tcpFlags,
    mark: p.mark ? p.mark >>> 0 : undefined,
    packet: text,
  };
  return e;
}
