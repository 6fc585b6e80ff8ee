/**
 * The built-in macros of the reference (spec §5): 86 macros, 119 template lines.
 *
 * A macro rule `DIR NAME(ACTION)` expands to one rule per template, in template order, with the
 * rule's own action substituted (every template's action is `PARAM` in the reference, so it is
 * not stored here). Names are matched case-insensitively and canonicalised to the spelling below.
 */

import macroTable from './macros.json' with { type: 'json' };

/** One template line of a macro: protocol plus optional port lists (spec §3.3.2 syntax). */
export interface MacroTemplate {
  /** Protocol name or number as in the reference table (`tcp`, `udp`, `icmp`, `47`…). */
  readonly proto: string;
  /** Destination port list, or an ICMP type name for the ICMP protocols. */
  readonly dport?: string;
  /** Source port list. */
  readonly sport?: string;
}

/** A macro definition. */
export interface MacroDef {
  /** Canonical spelling (e.g. `SSH`, `BitTorrent32`). */
  readonly name: string;
  /** Description as given by the reference code. */
  readonly description: string;
  /** Templates used for the IPv4 rule set and, unless `ipv6Templates` is set, for IPv6. */
  readonly templates: readonly MacroTemplate[];
  /** Replacement templates for the IPv6 rule set (Ping, Trcrt, NeighborDiscovery, DHCPv6). */
  readonly ipv6Templates?: readonly MacroTemplate[];
  /** True when the macro expands to nothing in the IPv4 rule set (NeighborDiscovery, DHCPv6). */
  readonly ipv6Only?: boolean;
}

/** All macros, in the order of spec §5 (ASCII order of the names, as the reference lists them). */
export const MACROS: readonly MacroDef[] = macroTable;

const BY_LOWER_NAME: ReadonlyMap<string, MacroDef> = new Map(MACROS.map((m) => [m.name.toLowerCase(), m]));

/**
 * Finds a macro by name, case-insensitively (`ssh`, `SSH` and `Ssh` all give `SSH`).
 * Returns `undefined` for unknown names.
 */
export function findMacro(name: string): MacroDef | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

/**
 * The templates a macro expands to for one IP version: the IPv6 replacements when compiling
 * IPv6 and the macro has them, nothing for an IPv6-only macro in IPv4, the base templates otherwise.
 */
export function macroTemplatesFor(macroDef: MacroDef, version: 4 | 6): readonly MacroTemplate[] {
  if (version === 6) return macroDef.ipv6Templates ?? macroDef.templates;
  return macroDef.ipv6Only === true ? [] : macroDef.templates;
}
