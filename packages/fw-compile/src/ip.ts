/**
 * IP address arithmetic for the compiler and the simulator: addresses as bigints, closed
 * intervals, longest-prefix flattening of IP sets (pve-firewall `hash:net` semantics) and
 * rendering of intervals as the shortest nft element text.
 */

export type IpFamily = 4 | 6;

/** A closed interval of addresses of one family. */
export interface AddrInterval {
  readonly family: IpFamily;
  readonly from: bigint;
  readonly to: bigint;
}

/** An address with a prefix length, host bits possibly set (as written by users). */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: bigint;
  readonly prefix: number;
}

export const FAMILY_BITS: Readonly<Record<IpFamily, number>> = { 4: 32, 6: 128 };

function maxOf(family: IpFamily): bigint {
  return (1n << BigInt(FAMILY_BITS[family])) - 1n;
}

/**
 * Parses an IPv4 address in the lenient form the reference accepts (`10`, `10.1`, leading
 * zeros read as decimal). Returns undefined when it is not one.
 */
export function parseIpv4(text: string): bigint | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){0,3}$/.test(text)) return undefined;
  const parts = text.split('.').map((p) => Number(p));
  if (parts.some((p) => p > 255)) return undefined;
  while (parts.length < 4) parts.push(0);
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

/** Parses an IPv6 address (with optional embedded IPv4 tail). */
export function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(maybeV4)) return undefined;
    const v4 = parseIpv4(maybeV4);
    if (v4 === undefined) return undefined;
    tail = [Number((v4 >> 16n) & 0xffffn), Number(v4 & 0xffffn)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(dbl[0] ?? '');
  const right = dbl.length === 2 ? parseGroups(dbl[1] ?? '') : [];
  if (!left || !right) return undefined;
  const total = left.length + right.length + tail.length;
  let groups: number[];
  if (dbl.length === 2) {
    if (total > 7) return undefined;
    groups = [...left, ...new Array<number>(8 - total).fill(0), ...right, ...tail];
  } else {
    if (total !== 8) return undefined;
    groups = [...left, ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses `addr` or `addr/len` of either family; undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? undefined : text.slice(slash + 1);
  let family: IpFamily;
  let address: bigint | undefined;
  if (addrText.includes(':')) {
    family = 6;
    address = parseIpv6(addrText);
  } else {
    family = 4;
    address = parseIpv4(addrText);
  }
  if (address === undefined) return undefined;
  const bits = FAMILY_BITS[family];
  let prefix = bits;
  if (lenText !== undefined) {
    if (!/^\d+$/.test(lenText)) return undefined;
    prefix = Number(lenText);
    if (prefix > bits) return undefined;
  }
  return { family, address, prefix };
}

/** Parses a single address (no prefix). */
export function parseAddress(text: string): { family: IpFamily; address: bigint } | undefined {
  const c = parseCidr(text);
  if (!c || text.includes('/')) return undefined;
  return { family: c.family, address: c.address };
}

export function cidrInterval(c: Cidr): AddrInterval {
  const bits = FAMILY_BITS[c.family];
  const hostBits = BigInt(bits - c.prefix);
  const from = (c.address >> hostBits) << hostBits;
  const to = from | ((1n << hostBits) - 1n);
  return { family: c.family, from, to };
}

export function formatAddress(family: IpFamily, a: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (first on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
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

export function intervalContains(ivs: readonly AddrInterval[], family: IpFamily, a: bigint): boolean {
  return ivs.some((iv) => iv.family === family && iv.from <= a && a <= iv.to);
}

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
