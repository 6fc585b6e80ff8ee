/**
 * Value parsing the compiler needs after validation: port lists and address lists turned
 * into numeric ranges and intervals. Input has already been validated by the parser; these
 * functions still fail soft (return undefined) so a bad value skips a rule instead of throwing.
 */
import { parsePortList } from '@palisade/fw-lang';
import type { AddrInterval, IpFamily } from '@palisade/nft-ir';
import { cidrInterval, mergeIntervals, parseCidr } from './ip.js';

/**
 * A port list (`22`, `80,443`, `1000:2000`, `ssh`) as merged closed ranges, through the
 * language library's parser (so the compiler reads exactly what validation accepted);
 * undefined for anything else, ICMP type names included.
 */
export function parsePorts(text: string): (readonly [number, number])[] | undefined {
  const list = parsePortList(text, { icmpNames: false });
  if (!list.ok) return undefined;
  const ranges: [number, number][] = [];
  for (const item of list.items) {
    if (item.kind === 'range') ranges.push([item.from, item.to]);
    else if (item.kind === 'icmp') return undefined;
    else ranges.push([item.port, item.port]);
  }
  return mergePortRanges(ranges);
}

/** Sorts port ranges and merges the overlapping and adjacent ones. */
export function mergePortRanges(ranges: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * Parses an address list (`1.2.3.4`, `10.0.0.0/8,192.168.1.1`, `10.0.0.1-10.0.0.9`) into
 * intervals of one family. Host bits of a CIDR are masked off (the kernel does the same).
 */
export function parseAddressList(text: string): { family: IpFamily; intervals: AddrInterval[] } | undefined {
  const items = text.split(',');
  const out: AddrInterval[] = [];
  let family: IpFamily | undefined;
  for (const item of items) {
    const dash = item.indexOf('-');
    let iv: AddrInterval | undefined;
    if (dash > 0) {
      const a = parseCidr(item.slice(0, dash));
      const b = parseCidr(item.slice(dash + 1));
      if (!a || !b || a.family !== b.family || a.address > b.address) return undefined;
      iv = { family: a.family, from: a.address, to: b.address };
    } else {
      const c = parseCidr(item);
      if (!c) return undefined;
      iv = cidrInterval(c);
    }
    if (family !== undefined && iv.family !== family) return undefined;
    family = iv.family;
    out.push(iv);
  }
  if (family === undefined) return undefined;
  return { family, intervals: mergeIntervals(out) };
}
