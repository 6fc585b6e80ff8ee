/**
 * IP address arithmetic for the compiler and the simulator: addresses as bigints, closed
 * intervals, longest-prefix flattening of IP sets (pve-firewall `hash:net` semantics) and
 * rendering of intervals as the shortest nft element text. Parsing is fw-lang's; the
 * `AddrInterval` and `IpFamily` types are `@palisade/nft-ir`'s.
 */
import { formatIp, parseIpCidr } from '@palisade/fw-lang';
import type { AddrInterval, IpFamily } from '@palisade/nft-ir';

/** An address with a prefix length, host bits possibly set (as written by users). */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: bigint;
  readonly prefix: number;
}

/** Bits in an address of each family. */
export const FAMILY_BITS: Readonly<Record<IpFamily, number>> = { 4: 32, 6: 128 };

/** The largest address of a family (all bits set). */
function maxOf(family: IpFamily): bigint {
  return (1n << BigInt(FAMILY_BITS[family])) - 1n;
}

/**
 * Parses `addr` or `addr/len` of either family; undefined when invalid. One parser for the
 * whole project: fw-lang's {@link parseIpCidr}, reading IPv4 as Net::IP does (`10.0.0` is
 * 10.0.0.0, leading zeros are decimal) and IPv6 in the strict PVE grammar. Host bits are kept.
 */
export function parseCidr(text: string): Cidr | undefined {
  const c = parseIpCidr(text, { lenient: 'ipv4' });
  return c === undefined ? undefined : { family: c.version, address: c.address, prefix: c.prefixLength };
}

/** Parses a single address (no prefix). */
export function parseAddress(text: string): { family: IpFamily; address: bigint } | undefined {
  const c = parseCidr(text);
  if (!c || text.includes('/')) return undefined;
  return { family: c.family, address: c.address };
}

/** The interval a CIDR covers (host bits masked off, as the kernel does). */
export function cidrInterval(c: Cidr): AddrInterval {
  const bits = FAMILY_BITS[c.family];
  const hostBits = BigInt(bits - c.prefix);
  const from = (c.address >> hostBits) << hostBits;
  const to = from | ((1n << hostBits) - 1n);
  return { family: c.family, from, to };
}

/** Canonical text of an address (dotted quad, RFC 5952 for IPv6): fw-lang's {@link formatIp}. */
export function formatAddress(family: IpFamily, a: bigint): string {
  return formatIp(family, a);
}

/** Sorts and merges overlapping or adjacent intervals of one family. */
export function mergeIntervals(items: readonly AddrInterval[]): AddrInterval[] {
  const sorted = [...items].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const out: AddrInterval[] = [];
  for (const it of sorted) {
    const last = out[out.length - 1];
    if (last && it.from <= last.to + 1n) {
      if (it.to > last.to) out[out.length - 1] = { family: last.family, from: last.from, to: it.to };
    } else {
      out.push(it);
    }
  }
  return out;
}

/** One entry of an IP set for flattening: nomatch entries exclude. */
export interface SetEntryInterval {
  readonly cidr: Cidr;
  readonly nomatch: boolean;
}

/**
 * Flattens IP set entries of one family with kernel `hash:net` semantics: for each address
 * the most specific covering entry decides; when it is `nomatch`, the address is not a
 * member. Returns disjoint, merged, sorted intervals of members.
 */
export function flattenLongestPrefix(entries: readonly SetEntryInterval[], family: IpFamily): AddrInterval[] {
  const items = entries
    .filter((e) => e.cidr.family === family)
    .map((e) => ({ ...cidrInterval(e.cidr), nomatch: e.nomatch }));
  if (items.length === 0) return [];
  if (!items.some((i) => i.nomatch)) return mergeIntervals(items.map(({ from, to }) => ({ family, from, to })));
  // CIDRs are laminar (nested or disjoint): walk them as a tree, outermost first. Each node
  // owns its interval minus its children; that part is a member unless the node is nomatch.
  // For identical CIDRs the nomatch one sorts last and so decides.
  items.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to > b.to ? -1 : a.to < b.to ? 1 : Number(a.nomatch) - Number(b.nomatch)));
  const out: AddrInterval[] = [];
  const stack: { to: bigint; nomatch: boolean; cursor: bigint }[] = [];
  const close = (n: { to: bigint; nomatch: boolean; cursor: bigint }): void => {
    if (!n.nomatch && n.cursor <= n.to) out.push({ family, from: n.cursor, to: n.to });
  };
  for (const it of items) {
    while (stack.length > 0 && (stack[stack.length - 1] as { to: bigint }).to < it.from) close(stack.pop() as (typeof stack)[number]);
    const parent = stack[stack.length - 1];
    if (parent) {
      if (!parent.nomatch && parent.cursor < it.from) out.push({ family, from: parent.cursor, to: it.from - 1n });
      if (it.to + 1n > parent.cursor) parent.cursor = it.to + 1n;
    }
    stack.push({ to: it.to, nomatch: it.nomatch, cursor: it.from });
  }
  while (stack.length > 0) close(stack.pop() as (typeof stack)[number]);
  return mergeIntervals(out);
}

/** Renders an interval as `addr`, `addr/len` when it is exactly one prefix, else `a-b`. */
export function formatInterval(iv: AddrInterval): string {
  const bits = FAMILY_BITS[iv.family];
  if (iv.from === iv.to) return formatAddress(iv.family, iv.from);
  const size = iv.to - iv.from + 1n;
  if ((size & (size - 1n)) === 0n && iv.from % size === 0n) {
    let len = bits;
    let s = size;
    while (s > 1n) {
      s >>= 1n;
      len--;
    }
    return `${formatAddress(iv.family, iv.from)}/${len}`;
  }
  return `${formatAddress(iv.family, iv.from)}-${formatAddress(iv.family, iv.to)}`;
}

/** True when an address of `family` lies in one of the intervals. */
export function intervalContains(ivs: readonly AddrInterval[], family: IpFamily, a: bigint): boolean {
  return ivs.some((iv) => iv.family === family && iv.from <= a && a <= iv.to);
}

/** True when the interval is every address of its family (`0.0.0.0/0`, `::/0`). */
export function isFullRange(iv: AddrInterval): boolean {
  return iv.from === 0n && iv.to === maxOf(iv.family);
}

/** The EUI-64 link-local address derived from a MAC (spec §6.8). */
export function macLinkLocal(mac: string): bigint | undefined {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  const b = parts.map((p) => parseInt(p, 16));
  const bytes = [(b[0] as number) ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]] as number[];
  let iid = 0n;
  for (const x of bytes) iid = (iid << 8n) | BigInt(x);
  return (0xfe80n << 112n) | iid;
}
