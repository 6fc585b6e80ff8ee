/**
 * Evaluates one packet against the chains of one table, as the kernel does (or, in reference
 * mode, with the short-cuts of pve-firewall's simulator, see simulate.ts): matches,
 * statements, jumps and verdict maps, with the deciding rule and the rules that led to it.
 */
import { PORT_PROTO_NUMBERS, type AddrType, type Chain, type Hook, type IpFamily, type Match, type NamedSet, type Rule, type Stmt, type Table, type TcpFlag } from '@palisade/nft-ir';
import { intervalContains } from './ip.js';
import { renderRule } from './nft-text.js';
import type { SimDecision } from './sim-result.js';

/** The packet as the evaluator sees it; `mark` changes as mark statements run. */
export interface Packet {
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


/** The interfaces of one hook traversal. */
export interface HookCtx {
  readonly iif: string;
  readonly oif: string;
}

/** What a chain evaluation ends with: a verdict with its decision, or fall-through/return. */
export type EvalResult =
  | { readonly kind: 'accept' | 'drop' | 'reject'; readonly decision: SimDecision }
  | { readonly kind: 'continue' | 'return' };

const MAX_DEPTH = 64;


/** An evaluator of one table (the inet or the bridge table of a ruleset). */
export class Evaluator {
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
