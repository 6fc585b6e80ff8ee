/**
 * Value parsing the compiler needs after validation: port lists and address lists turned
 * into numeric ranges and intervals. Input has already been validated by the parser; these
 * functions still fail soft (return undefined) so a bad value skips a rule instead of throwing.
 */
import { lookupService } from '@palisade/fw-lang';
import { cidrInterval, mergeIntervals, parseCidr, type AddrInterval, type IpFamily } from './ip.js';

/** Parses a port list (`22`, `80,443`, `1000:2000`, `ssh`) into merged closed ranges. */
export function parsePorts(text: string): (readonly [number, number])[] | undefined {
  const ranges: [number, number][] = [];
  for (const item of text.split(',')) {
    let m: RegExpExecArray | null;
    if ((m = /^(\d+):(\d+)$/.exec(item))) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a > b || b > 65535) return undefined;
      ranges.push([a, b]);
    } else if (/^\d+$/.test(item)) {
      const p = Number(item);
      if (p > 65535) return undefined;
      ranges.push([p, p]);
    } else {
      const p = lookupService(item);
      if (p === undefined) return undefined;
      ranges.push([p, p]);
    }
  }
  return mergePortRanges(ranges);
}

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
