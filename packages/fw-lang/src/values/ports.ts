/**
 * Port lists of `-dport`/`-sport` (spec §3.3.2), checked exactly like the reference's
 * `parse_port_name_number_or_range`, with its messages.
 */
import { isIcmpTypeName } from '../data/icmp-types.js';
import { lookupService } from '../data/services.js';
import { perlSplit } from './net-ip.js';

/** One item of a port list. Numbers are 0–65535. */
export type PortItem =
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'service'; readonly name: string; readonly port: number }
  | { readonly kind: 'icmp'; readonly name: string };

/** Options of {@link parsePortList}. */
export interface ParsePortListOptions {
  /**
   * Accept ICMP type names of either family as items (the legacy `-dport` form for ICMP
   * protocols). The reference allows them for every `-dport` and never for `-sport`.
   */
  readonly icmpNames: boolean;
}

/** Result of {@link parsePortList}; `message` is the reference's text. */
export type PortListResult =
  | {
      readonly ok: true;
      readonly items: readonly PortItem[];
      /** True when the list has a comma (needs `multiport`); a single range is not multi. */
      readonly multi: boolean;
    }
  | { readonly ok: false; readonly message: string };

/** Maximum "numbers" in a port list: plain ports count 1, ranges 2, names 0 (iptables multiport). */
export const MAX_PORT_LIST_NUMBERS = 15;

/**
 * Parses a port list: comma-separated numbers, ranges `a:b`, service names (primary names of
 * `/etc/services`) and, with `icmpNames`, ICMP type names. Never throws.
 *
 * Messages: `extraneous commas in list` (trailing comma), `invalid port '<item>'` (bad item,
 * empty item from a leading or doubled comma, number above 65535),
 * `backwards range 'a:b' not allowed, did you mean 'b:a'?`,
 * `ICMP ports not allowed in port range` (ICMP names mixed with numbers),
 * `too many entries in port list (> 15 numbers)`.
 */
export function parsePortList(text: string, options: ParsePortListOptions): PortListResult {
  const elements = perlSplit(text, ',');
  if (elements.join(',') !== text) return { ok: false, message: 'extraneous commas in list' };
  let count = 0;
  let icmp = false;
  const items: PortItem[] = [];
  for (const item of elements) {
    const range = /^([0-9]+):([0-9]+)$/.exec(item);
    if (range !== null) {
      count += 2;
      const a = range[1] as string;
      const b = range[2] as string;
      if (Number(a) > 65535) return { ok: false, message: `invalid port '${a}'` };
      if (Number(b) > 65535) return { ok: false, message: `invalid port '${b}'` };
      if (Number(a) > Number(b)) return { ok: false, message: `backwards range '${a}:${b}' not allowed, did you mean '${b}:${a}'?` };
      items.push({ kind: 'range', from: Number(a), to: Number(b) });
      continue;
    }
    if (/^[0-9]+$/.test(item)) {
      count += 1;
      if (Number(item) > 65535) return { ok: false, message: `invalid port '${item}'` };
      items.push({ kind: 'port', port: Number(item) });
      continue;
    }
    if (options.icmpNames && isIcmpTypeName(item)) {
      icmp = true;
      items.push({ kind: 'icmp', name: item });
      continue;
    }
    const port = lookupService(item);
    if (port === undefined) return { ok: false, message: `invalid port '${item}'` };
    items.push({ kind: 'service', name: item, port });
  }
  if (icmp && count > 0) return { ok: false, message: 'ICMP ports not allowed in port range' };
  if (count > MAX_PORT_LIST_NUMBERS) return { ok: false, message: `too many entries in port list (> ${MAX_PORT_LIST_NUMBERS} numbers)` };
  return { ok: true, items, multi: text.includes(',') };
}
