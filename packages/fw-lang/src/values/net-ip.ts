/**
 * A port of the parts of Perl's `Net::IP` (1.26) that the reference uses to validate rule
 * addresses (`Net::IP->new($elem)` in `parse_address_list`, spec §3.3.3).
 *
 * Internal to the package. The functions follow the Perl code step by step, including its
 * leniency (abbreviated IPv4 `10.1` = `10.1.0.0`, leading zeros, a range end parsed with the
 * version of the start) and its error texts, because those texts are part of the reference's
 * messages (`invalid IP address: <Net::IP error>`). Golden cases produced by running the Perl
 * module are in `net-ip.test.ts`.
 *
 * Two deliberate differences:
 * - A prefix that is not `/<digits>` (`10.0.0.0/24x`, `1.2.3.4/24/25`, `1.2.3.0/24-1.2.4.0`) is
 *   silently ignored by Net::IP (the address alone is accepted, and iptables later fails on the
 *   text); here it is an error `Invalid prefix length <suffix>`.
 * - Where Net::IP fails without setting an error (it then reports whatever error an earlier call
 *   left behind), the message is `Invalid IP address <input>`.
 */

/** A successful Net::IP parse: an inclusive range of addresses. */
export interface NetIpRange {
  readonly version: 4 | 6;
  readonly begin: bigint;
  readonly end: bigint;
  /** `/n` as written (numeric value) for the prefix form, absent for single addresses and ranges. */
  readonly prefixLength?: number;
  /** Which input form matched. */
  readonly form: 'single' | 'prefix' | 'range';
}

/** Result of {@link netIpNew}: the range, or Net::IP's error text. */
export type NetIpResult = { readonly ok: true; readonly ip: NetIpRange } | { readonly ok: false; readonly error: string };

/** Perl's `split(/sep/, s)`: like `String.split`, but trailing empty fields are removed. */
export function perlSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

type Check = string | null; // error text, or null when valid

function isIpv4(ip: string): Check {
  if (!/^[0-9.]+$/.test(ip)) return `Invalid chars in IP ${ip}`;
  if (ip.startsWith('.')) return `Invalid IP ${ip} - starts with a dot`;
  if (ip.endsWith('.')) return `Invalid IP ${ip} - ends with a dot`;
  if (/^[0-9]+$/.test(ip) && Number(ip) < 256) return null;
  const dots = ip.split('.').length - 1;
  if (!(dots >= 0 && dots < 4)) return `Invalid IP address ${ip}`;
  if (ip.includes('..')) return `Empty quad in IP address ${ip}`;
  for (const quad of perlSplit(ip, '.')) {
    const n = Number(quad);
    if (!(n >= 0 && n < 256)) return `Invalid quad in IP address ${ip} - ${quad}`;
  }
  return null;
}

const STALE = Symbol('stale');

function isIpv6(ip: string): Check | typeof STALE {
  let n = ip.split(':').length - 1;
  if (!(n > 0 && n < 8)) return STALE;
  let k = 0;
  for (const octet of perlSplit(ip, ':')) {
    k += 1;
    if (octet === '') continue;
    if (/^[0-9a-fA-F]{1,4}$/.test(octet)) continue;
    if (k === n + 1 && isIpv4(octet) === null) {
      n += 1;
      continue;
    }
    return `Invalid IP address ${ip}`;
  }
  if (/^:[^:]/.test(ip)) return `Invalid address ${ip} (starts with :)`;
  if (/[^:]:$/.test(ip)) return `Invalid address ${ip} (ends with :)`;
  if ((ip.match(/:(?=:)/g)?.length ?? 0) > 1) return `Invalid address ${ip} (More than one :: pattern)`;
  if (n !== 7 && !ip.includes('::')) return `Invalid number of octets ${ip}`;
  return null;
}

type VersionResult = { readonly version: 4 | 6 } | { readonly error: string | typeof STALE };

function getVersion(ip: string): VersionResult {
  let error: string | typeof STALE = STALE;
  if (!ip.includes(':')) {
    const v4 = isIpv4(ip);
    if (v4 === null) return { version: 4 };
    error = v4;
  }
  const v6 = isIpv6(ip);
  if (v6 === null) return { version: 6 };
  // Net::IP keeps the last error that was set; ip_is_ipv6 sets none for a bad colon count.
  return { error: v6 === STALE ? error : v6 };
}

type Expanded = { readonly text: string } | { readonly error: string };

function expandAddress(ip: string, version: 4 | 6): Expanded {
  if (version === 4) {
    const quads = perlSplit(ip, '.');
    if (quads.length > 4) return { error: `Not a valid IPv address ${ip}` };
    const clean = [0, 0, 0, 0];
    for (let i = quads.length - 1; i >= 0; i -= 1) {
      const q = quads[i] as string;
      if (!/^[0-9]{1,3}$/.test(q)) return { error: `Not a valid IPv4 address ${ip}` };
      clean.unshift(Number(q));
    }
    return { text: clean.slice(0, 4).join('.') };
  }
  let doubleColons = 0;
  const marked = ip.replace(/::/g, () => {
    doubleColons += 1;
    return ':!:';
  });
  if (doubleColons > 1) return { error: 'Too many :: in ip' };
  const parts = perlSplit(marked, ':');
  let num = parts.length;
  let embeddedError: string | undefined;
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] as string;
    if (part.includes('.')) {
      const v4 = expandAddress(part, 4);
      if ('error' in v4) {
        // Net::IP then converts an empty list: the group becomes '' and the error it leaves
        // behind is the one of ip_bintoip (spelled here without its trailing newline).
        embeddedError = 'Invalid IP length for binary IP 6';
        parts[i] = '';
        num += 1;
        continue;
      }
      const bytes = v4.text.split('.').map((q) => Number(q) & 0xff);
      const hex = bytes.map((b) => b.toString(16).padStart(2, '0'));
      parts[i] = `${hex[0]}${hex[1]}:${hex[2]}${hex[3]}`;
      num += 1;
      continue;
    }
    parts[i] = '0'.repeat(Math.max(0, 4 - part.length)) + part;
  }
  const bang = parts.indexOf('000!');
  if (bang !== -1) parts[bang] = Array.from({ length: Math.max(0, 9 - num) }, () => '0000').join(':');
  const text = parts.join(':').toLowerCase();
  if (text === '' && embeddedError !== undefined) return { error: embeddedError };
  return { text };
}

type Binary = { readonly value: bigint } | { readonly error: string };

function ipToBin(ip: string, version: 4 | 6): Binary {
  if (version === 4) {
    let value = 0n;
    const quads = ip.split('.');
    for (let i = 0; i < 4; i += 1) value = (value << 8n) | BigInt(Number(quads[i] ?? '0') & 0xff);
    return { value };
  }
  const hex = ip.replace(/:/g, '');
  if (hex.length !== 32) return { error: `Bad IP address ${hex}` };
  if (!/^[0-9a-f]{32}$/.test(hex)) return { error: `Bad IP address ${hex}` };
  return { value: BigInt(`0x${hex}`) };
}

function toBits(value: bigint, version: 4 | 6): string {
  return value.toString(2).padStart(version === 4 ? 32 : 128, '0');
}

/** `ip_check_prefix`: the prefix fits and the host bits are zero. */
function checkPrefix(bin: bigint, version: 4 | 6, lenText: string): string | null {
  const bits = version === 4 ? 32 : 128;
  const len = Number(lenText);
  if (len > bits) return `Prefix length ${lenText} is longer than IP address (${bits})`;
  const hostMask = (1n << BigInt(bits - len)) - 1n;
  if ((bin & hostMask) !== 0n) return `Invalid prefix ${toBits(bin, version)}/${lenText}`;
  return null;
}

function staleMessage(input: string, error: string | typeof STALE): string {
  return error === STALE ? `Invalid IP address ${input}` : error;
}

/**
 * `Net::IP->new($data)` for one element of an address list: a single address, `addr/len` or a
 * range `a-b`. Returns the inclusive range of addresses or the Net::IP error text.
 */
export function netIpNew(data: string): NetIpResult {
  let beginText: string;
  let endText: string | undefined;
  let form: NetIpRange['form'];
  let prefixLength: number | undefined;

  const prefixMatch = /^(\S+?)(\/\S+)$/.exec(data);
  const rangeMatch = prefixMatch === null ? /^([^\n]+?)\s*-\s*([^\n]+)$/.exec(data) : null;
  if (prefixMatch !== null) {
    const ipPart = prefixMatch[1] as string;
    const lenPart = prefixMatch[2] as string;
    const v = getVersion(ipPart);
    if ('error' in v) return { ok: false, error: staleMessage(data, v.error) };
    const expanded = expandAddress(ipPart, v.version);
    if ('error' in expanded) return { ok: false, error: expanded.error };
    const bin = ipToBin(expanded.text, v.version);
    if ('error' in bin) return { ok: false, error: bin.error };
    const m = /^\/([0-9]+)$/.exec(lenPart);
    if (m === null) return { ok: false, error: `Invalid prefix length ${lenPart}` };
    const lenText = m[1] as string;
    const bad = checkPrefix(bin.value, v.version, lenText);
    if (bad !== null) return { ok: false, error: bad };
    beginText = expanded.text;
    prefixLength = Number(lenText);
    const bits = v.version === 4 ? 32 : 128;
    const last = bin.value | ((1n << BigInt(bits - prefixLength)) - 1n);
    endText = formatExpanded(last, v.version);
    form = 'prefix';
  } else if (rangeMatch !== null) {
    const a = rangeMatch[1] as string;
    const b = rangeMatch[2] as string;
    const v = getVersion(a);
    if ('error' in v) return { ok: false, error: staleMessage(data, v.error) };
    const ea = expandAddress(a, v.version);
    if ('error' in ea) return { ok: false, error: ea.error };
    const eb = expandAddress(b, v.version);
    if ('error' in eb) return { ok: false, error: eb.error };
    beginText = ea.text;
    endText = eb.text;
    form = 'range';
  } else {
    const v = getVersion(data);
    if ('error' in v) return { ok: false, error: staleMessage(data, v.error) };
    const e = expandAddress(data, v.version);
    if ('error' in e) return { ok: false, error: e.error };
    beginText = e.text;
    form = 'single';
  }

  // Net::IP::set()
  const bv = getVersion(beginText);
  if ('error' in bv) return { ok: false, error: staleMessage(data, bv.error) };
  const beginBin = ipToBin(beginText, bv.version);
  if ('error' in beginBin) return { ok: false, error: beginBin.error };
  const end = endText ?? beginText;
  const ev = getVersion(end);
  if ('error' in ev) return { ok: false, error: staleMessage(data, ev.error) };
  if (ev.version !== bv.version) {
    return { ok: false, error: `Begin and End addresses have different IP versions - ${beginText} - ${end}` };
  }
  const endBin = ipToBin(end, ev.version);
  if ('error' in endBin) return { ok: false, error: endBin.error };
  if (beginBin.value > endBin.value) {
    return { ok: false, error: `Begin address is greater than End address ${beginText} - ${end}` };
  }
  const ip: NetIpRange =
    prefixLength === undefined
      ? { version: bv.version, begin: beginBin.value, end: endBin.value, form }
      : { version: bv.version, begin: beginBin.value, end: endBin.value, prefixLength, form };
  return { ok: true, ip };
}

/** Net::IP's own text form (`ip_bintoip`): dotted quad, or eight 4-digit lower-case hex groups. */
function formatExpanded(value: bigint, version: 4 | 6): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i -= 1) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16).padStart(4, '0'));
  return groups.join(':');
}
