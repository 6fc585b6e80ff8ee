/**
 * IP addresses, CIDRs and address lists as the firewall language writes them (spec §3.3.3,
 * §4.2, §4.3), plus the small amount of address arithmetic the compiler needs.
 *
 * Two grammars exist in the reference and both are reproduced:
 * - the strict PVE regexes (`$IPV4RE`/`$IPV6RE` of `PVE::Tools`), used for aliases, IP set
 *   entries and guest `ip=` values;
 * - Perl `Net::IP`, used for rule `-source`/`-dest` lists, which is lenient (`10` = `10.0.0.0`,
 *   `10/8`, leading zeros) but rejects CIDRs with host bits (see `net-ip.ts`).
 */
import { netIpNew, perlSplit } from './net-ip.js';

/** A parsed address with prefix. */
export interface IpCidr {
  readonly version: 4 | 6;
  /** The address as written (host bits kept), as an unsigned integer of 32 or 128 bits. */
  readonly address: bigint;
  /** Prefix length; 32 or 128 when the text has no `/len`. */
  readonly prefixLength: number;
  /** The text exactly as written. */
  readonly text: string;
}

/** Options of {@link parseIpCidr}. */
export interface ParseIpCidrOptions {
  /**
   * Accept the `Net::IP` forms used in rule addresses: abbreviated IPv4 (`10`, `10.0.0`,
   * `10/8`), leading zeros (`01.2.3.4`). `'ipv4'`: those IPv4 forms, but IPv6 in the strict
   * grammar — the compiler's reading of every address it meets (validated rule addresses,
   * alias and IP set values, host and corosync addresses). Default false: the strict PVE
   * grammar.
   */
  readonly lenient?: boolean | 'ipv4';
}

const IPV4_OCTET = '(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])';
const IPV4_RE = `(?:(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET})`;
const H16 = '(?:[0-9a-fA-F]{1,4})';
const LS32 = `(?:(?:${IPV4_RE}|${H16}:${H16}))`;
const IPV6_RE =
  '(?:' +
  `(?:(?:(?:${H16}:){6})${LS32})|` +
  `(?:(?:::(?:${H16}:){5})${LS32})|` +
  `(?:(?:(?:${H16})?::(?:${H16}:){4})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,3}${H16})?::(?:${H16}:){1})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,4}${H16})?::)${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,5}${H16})?::)${H16})|` +
  `(?:(?:(?:(?:${H16}:){0,6}${H16})?::))` +
  ')';

const STRICT_V4 = new RegExp(`^${IPV4_RE}$`);
const STRICT_V6 = new RegExp(`^${IPV6_RE}$`);
const STRICT_V4_CIDR = new RegExp(`^(${IPV4_RE})(?:/([0-9]+))?$`);
const STRICT_V6_CIDR = new RegExp(`^(${IPV6_RE})(?:/([0-9]+))?$`);

/** Bits in an address of the given version. */
export function addressBits(version: 4 | 6): 32 | 128 {
  return version === 4 ? 32 : 128;
}

/** Value of an address written in the strict grammar (already matched by the regex). */
function strictValue(address: string, version: 4 | 6): bigint {
  if (version === 4) return dottedValue(address);
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = dottedValue(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  let groups: string[];
  if (dbl === -1) {
    groups = text.split(':');
  } else {
    const left = text.slice(0, dbl);
    const right = text.slice(dbl + 2);
    const lg = left === '' ? [] : left.split(':');
    const rg = right === '' ? [] : right.split(':');
    groups = [...lg, ...Array<string>(Math.max(0, 8 - lg.length - rg.length)).fill('0'), ...rg];
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  return value;
}

function dottedValue(address: string): bigint {
  // Number arithmetic, one BigInt at the end: this runs for every IP set entry.
  let value = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i += 1) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 0x30);
    }
  }
  return BigInt(value * 256 + octet);
}

/**
 * Parses an IPv4 or IPv6 address with an optional `/prefix`. The prefix must not exceed the
 * address size; host bits are allowed here (`1.2.3.4/24`) — {@link parseAddressList} rejects
 * them as the reference does for rules. IPv6 zone ids (`fe80::1%eth0`) and ranges are rejected.
 * Returns `undefined` for anything else; never throws.
 */
export function parseIpCidr(text: string, options: ParseIpCidrOptions = {}): IpCidr | undefined {
  // Only IPv6 has colons, so one regex decides (the reference tries IPv6 first; same result).
  const version: 4 | 6 = text.includes(':') ? 6 : 4;
  if (options.lenient === true) return parseLenient(text);
  const m = (version === 6 ? STRICT_V6_CIDR : STRICT_V4_CIDR).exec(text);
  // The strict IPv4 forms read the same in Net::IP: only the others take the slower port.
  if (m === null) return options.lenient === 'ipv4' && version === 4 ? parseLenient(text) : undefined;
  const bits = addressBits(version);
  const prefixLength = m[2] === undefined ? bits : Number(m[2]);
  if (prefixLength > bits) return undefined;
  return { version, address: strictValue(m[1] as string, version), prefixLength, text };
}

function parseLenient(text: string): IpCidr | undefined {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const lenText = slash === -1 ? undefined : text.slice(slash + 1);
  if (addressText.includes('-') || /\s/.test(text)) return undefined;
  const r = netIpNew(addressText);
  if (!r.ok || r.ip.form !== 'single') return undefined;
  const bits = addressBits(r.ip.version);
  let prefixLength: number = bits;
  if (lenText !== undefined) {
    if (!/^[0-9]+$/.test(lenText)) return undefined;
    prefixLength = Number(lenText);
    if (prefixLength > bits) return undefined;
  }
  return { version: r.ip.version, address: r.ip.begin, prefixLength, text };
}

/** True when `text` is a plain IPv4 address in the strict PVE grammar (no prefix). */
export function isIpv4Address(text: string): boolean {
  return STRICT_V4.test(text);
}

/** True when `text` is a plain IPv6 address in the strict PVE grammar (no prefix, no zone). */
export function isIpv6Address(text: string): boolean {
  return STRICT_V6.test(text);
}

/** The mask of the first `prefixLength` bits of an address of `version`. */
function prefixMask(version: 4 | 6, prefixLength: number): bigint {
  const bits = BigInt(addressBits(version));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLength))) - 1n);
}

/** The network of a CIDR: host bits cleared, `text` in canonical form `addr/len`. */
export function networkOf(cidr: IpCidr): IpCidr {
  const address = cidr.address & prefixMask(cidr.version, cidr.prefixLength);
  return { version: cidr.version, address, prefixLength: cidr.prefixLength, text: `${formatIp(cidr.version, address)}/${cidr.prefixLength}` };
}

/** True when every address of `inner` lies in `outer` (same IP version, prefix not shorter). */
export function cidrContains(outer: IpCidr, inner: IpCidr): boolean {
  if (outer.version !== inner.version || inner.prefixLength < outer.prefixLength) return false;
  const mask = prefixMask(outer.version, outer.prefixLength);
  return (outer.address & mask) === (inner.address & mask);
}

/**
 * Canonical text of an address: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, longest
 * run of two or more zero groups shortened to `::`, leftmost on ties).
 */
export function formatIp(version: 4 | 6, address: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((address >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i -= 1) groups.push(Number((address >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** One element of an address list. */
export type AddressItem =
  | { readonly kind: 'cidr'; readonly cidr: IpCidr }
  | { readonly kind: 'range'; readonly from: IpCidr; readonly to: IpCidr };

/** Result of {@link parseAddressList}; `message` is the reference's text. */
export type AddressListResult =
  | { readonly ok: true; readonly version: 4 | 6; readonly items: readonly AddressItem[] }
  | { readonly ok: false; readonly message: string };

/**
 * Parses the address-list form of `-source`/`-dest` (spec §3.3.3) as the reference does with
 * `Net::IP`: comma-separated addresses and CIDRs of one IP version, or a single range `a-b`.
 * CIDRs with host bits (`10.0.0.5/24`, `2001:db8::1/64`) are rejected. References (`+set`,
 * aliases) are not handled here; see {@link classifyAddressSpec}. Never throws.
 *
 * Messages: `extraneous commas in list`, `invalid IP address: <Net::IP error>`,
 * `detected mixed ipv4/ipv6 addresses in address list '<text>'`, `you can't use a range in a list`.
 */
export function parseAddressList(text: string): AddressListResult {
  const elements = perlSplit(text, ',');
  if (elements.join(',') !== text) return { ok: false, message: 'extraneous commas in list' };
  if (elements.length === 0) return { ok: false, message: `invalid IP address: Invalid chars in IP ${text}` };
  let version: 4 | 6 | undefined;
  let hasRange = false;
  const items: AddressItem[] = [];
  for (const elem of elements) {
    const r = netIpNew(elem);
    if (!r.ok) return { ok: false, message: `invalid IP address: ${r.error}` };
    if (elem.includes('-')) hasRange = true;
    if (version !== undefined && r.ip.version !== version) {
      return { ok: false, message: `detected mixed ipv4/ipv6 addresses in address list '${text}'` };
    }
    version = r.ip.version;
    const bits = addressBits(r.ip.version);
    if (r.ip.form === 'range') {
      const dash = /^([^\n]+?)\s*-\s*([^\n]+)$/.exec(elem);
      const fromText = dash?.[1] ?? elem;
      const toText = dash?.[2] ?? elem;
      items.push({
        kind: 'range',
        from: { version: r.ip.version, address: r.ip.begin, prefixLength: bits, text: fromText },
        to: { version: r.ip.version, address: r.ip.end, prefixLength: bits, text: toText },
      });
    } else {
      items.push({
        kind: 'cidr',
        cidr: { version: r.ip.version, address: r.ip.begin, prefixLength: r.ip.prefixLength ?? bits, text: elem },
      });
    }
  }
  if (hasRange && elements.length > 1) return { ok: false, message: "you can't use a range in a list" };
  return { ok: true, version: version ?? 4, items };
}

/** Maximum length of an IP set name (spec §4.1). */
export const MAX_IPSET_NAME_LENGTH = 64;
/** Maximum length of an alias reference, scope prefix included (spec §3.3.3). */
export const MAX_ALIAS_NAME_LENGTH = 64;

const IPSET_REF = /^\+(guest\/|dc\/|sdn\/)?([A-Za-z][A-Za-z0-9_-]+)$/;
const ALIAS_REF = /^(?:(dc|guest)\/)?([A-Za-z][A-Za-z0-9_-]+)$/;

/**
 * What a `-source`/`-dest` value is (spec §3.3.3). `error` is set, with the reference's message,
 * when the reference form is recognised but invalid (`ipset name too long`,
 * `invalid ipset name '<text>'`, `alias name too long`); `name` is then best effort.
 * Names are returned as written (lookups lower-case alias names; IP set references are
 * case-sensitive).
 */
export type AddressSpec =
  | { readonly kind: 'ipset'; readonly scope?: 'dc' | 'guest' | 'sdn'; readonly name: string; readonly error?: string }
  | { readonly kind: 'alias'; readonly scope?: 'dc' | 'guest'; readonly name: string; readonly error?: string }
  | { readonly kind: 'list' };

/** Classifies an address value as IP set reference, alias reference or address list. */
export function classifyAddressSpec(text: string): AddressSpec {
  if (/^\+\S+$/.test(text)) {
    const m = IPSET_REF.exec(text);
    const scope = m?.[1] === undefined ? undefined : (m[1].slice(0, -1) as 'dc' | 'guest' | 'sdn');
    const name = m?.[2] ?? text.slice(1);
    const base = scope === undefined ? { kind: 'ipset' as const, name } : { kind: 'ipset' as const, scope, name };
    if (text.length > MAX_IPSET_NAME_LENGTH + 1) return { ...base, error: 'ipset name too long' };
    if (m === null) return { ...base, error: `invalid ipset name '${text}'` };
    return base;
  }
  const m = ALIAS_REF.exec(text);
  if (m !== null) {
    const scope = m[1] as 'dc' | 'guest' | undefined;
    const base = scope === undefined ? { kind: 'alias' as const, name: m[2] as string } : { kind: 'alias' as const, scope, name: m[2] as string };
    if (text.length > MAX_ALIAS_NAME_LENGTH) return { ...base, error: 'alias name too long' };
    return base;
  }
  return { kind: 'list' };
}

/** Result of {@link parseAliasValue}. */
export type AliasValueResult =
  | {
      readonly ok: true;
      /** Normalised value: `/32` (IPv4) or `/128` (IPv6) removed, nothing else changed. */
      readonly cidr: string;
      readonly version: 4 | 6;
      /** The parsed value; undefined when the prefix exceeds the address size (`1.2.3.4/99`). */
      readonly ip: IpCidr | undefined;
    }
  | { readonly ok: false; readonly message: string };

/** The reference's message for a value that is neither an address nor a CIDR. */
export const INVALID_IP_OR_CIDR_MESSAGE = 'value does not look like a valid IP address or CIDR network';

/**
 * `parse_ip_or_cidr` of the reference: an IPv6 (tried first) or IPv4 address in the strict
 * grammar with an optional `/<digits>`; `/32` resp. `/128` removed. The prefix is not
 * range-checked, as in the reference (`1.2.3.4/99` is accepted; `ip` is then undefined).
 */
export function parseIpOrCidr(text: string): AliasValueResult {
  // Only IPv6 has colons, so one regex decides (the reference tries IPv6 first; same result).
  const version: 4 | 6 = text.includes(':') ? 6 : 4;
  const m = (version === 6 ? STRICT_V6_CIDR : STRICT_V4_CIDR).exec(text);
  if (m === null) return { ok: false, message: INVALID_IP_OR_CIDR_MESSAGE };
  const cidr = version === 6 ? text.replace(/\/128$/, '') : text.replace(/\/32$/, '');
  const bits = addressBits(version);
  const prefixLength = m[2] === undefined ? bits : Number(m[2]);
  const ip = prefixLength > bits ? undefined : { version, address: strictValue(m[1] as string, version), prefixLength, text: cidr };
  return { ok: true, cidr, version, ip };
}


/** Result of {@link parseIpSetEntryToken}. */
export type IpSetEntryToken =
  | { readonly ok: true; readonly kind: 'alias'; readonly scope?: 'dc' | 'guest'; readonly name: string; readonly cidr: string }
  | { readonly ok: true; readonly kind: 'address'; readonly cidr: string; readonly version: 4 | 6; readonly ip: IpCidr | undefined }
  | { readonly ok: false; readonly code: 'FW0603' | 'FW0605'; readonly message: string };

/** The reference's message for `/0` in an IP set entry. */
export const ZERO_PREFIX_MESSAGE = 'a zero prefix is not allowed in ipset entries';

/**
 * Parses the token of an IP set entry (spec §4.3; the `!` is removed by the caller): an alias
 * reference `[dc/|guest/]name` (to be resolved by the caller against the aliases parsed so far,
 * `no such alias '<x>'`), or an address/CIDR per {@link parseIpOrCidr} (host bits allowed,
 * `/32`/`/128` removed). A zero prefix (`/0`, `/00`) is an error (`FW0605`); an unparseable
 * address is `FW0603`.
 */
export function parseIpSetEntryToken(token: string): IpSetEntryToken {
  const m = ALIAS_REF.exec(token);
  if (m !== null) {
    const scope = m[1] as 'dc' | 'guest' | undefined;
    const name = m[2] as string;
    return scope === undefined ? { ok: true, kind: 'alias', name, cidr: token } : { ok: true, kind: 'alias', scope, name, cidr: token };
  }
  const r = parseIpOrCidr(token);
  if (!r.ok) return { ok: false, code: 'FW0603', message: r.message };
  if (/\/0+$/.test(r.cidr)) return { ok: false, code: 'FW0605', message: ZERO_PREFIX_MESSAGE };
  return { ok: true, kind: 'address', cidr: r.cidr, version: r.version, ip: r.ip };
}
