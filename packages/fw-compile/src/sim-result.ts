/**
 * What a simulation returns: the verdict, the deciding rule, the hooks on the packet's path,
 * and their text for people.
 */
import type { Hook } from '@palisade/nft-ir';
import type { SimCase } from './sim-case.js';

/** A verdict of the simulator. */
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

/** The result of one simulated case. */
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

/** A result, or why the case describes no packet (unknown zone, bad port…). */
export type SimOutcome = { readonly ok: true; readonly result: SimResult } | { readonly ok: false; readonly error: string };

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

/**
 * The JSON object of one simulated case, as `palisade simulate --cases` and the agent's
 * Simulate print it: the case's fields, the verdict, the deciding rule, chain and origin, the
 * jumps that led there, the path; where the kernel does something else than pve-firewall's
 * simulator says (REJECT of an ICMP packet is silence on the wire) what the kernel does.
 */
export function simOutcomeJson(c: SimCase, o: SimOutcome): Record<string, unknown> {
  if (!o.ok) return { ...c, verdict: 'ERROR', error: o.error };
  const r = o.result;
  return {
    ...c,
    verdict: r.verdict,
    rule: r.decision?.rule ?? null,
    chain: r.decision?.chain ?? null,
    origin: r.decision?.origin ?? r.decision?.via?.find((v) => v.origin !== undefined)?.origin ?? null,
    via: (r.decision?.via ?? []).map((v) => `${v.chain} #${v.index + 1}: ${v.rule}`),
    path: r.hops.map((h) => `${h.family} ${h.hook}${h.iif ? ` iif ${h.iif}` : ''}${h.oif ? ` oif ${h.oif}` : ''}: ${h.verdict}${h.decision ? ` ${h.decision.chain}` : ''}`),
    ...(r.kernelVerdict !== undefined ? { kernelVerdict: r.kernelVerdict, kernelRule: r.kernelDecision?.rule ?? null } : {}),
    ...(r.decision?.note !== undefined ? { note: r.decision.note } : {}),
  };
}
