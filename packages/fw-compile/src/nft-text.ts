/**
 * Renders the intermediate ruleset as one nftables transaction in text syntax (`nft -f -`).
 *
 * The transaction creates or replaces only Palisade's own tables: for each table it first
 * declares it (a no-op when it exists), deletes it, then declares it again with its full
 * content. Nothing outside those tables is named, so nothing else in the kernel is touched.
 * The output is deterministic: the same IR gives the same bytes.
 */
import { icmpRun, type AddrInterval, type Chain, type CtHelper, type IpFamily, type Match, type NamedSet, type Rule, type Ruleset, type Stmt, type Table, type TcpFlag, type ValueSet } from '@palisade/nft-ir';
import { FAMILY_BITS, formatAddress, formatInterval } from './ip.js';

const L4_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  33: 'dccp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  132: 'sctp',
  136: 'udplite',
};

const ICMP_V4_NAMES: Readonly<Record<number, string>> = {
  0: 'echo-reply',
  3: 'destination-unreachable',
  4: 'source-quench',
  5: 'redirect',
  8: 'echo-request',
  9: 'router-advertisement',
  10: 'router-solicitation',
  11: 'time-exceeded',
  12: 'parameter-problem',
  13: 'timestamp-request',
  14: 'timestamp-reply',
  15: 'info-request',
  16: 'info-reply',
  17: 'address-mask-request',
  18: 'address-mask-reply',
};

const ICMP_V6_NAMES: Readonly<Record<number, string>> = {
  1: 'destination-unreachable',
  2: 'packet-too-big',
  3: 'time-exceeded',
  4: 'parameter-problem',
  128: 'echo-request',
  129: 'echo-reply',
  130: 'mld-listener-query',
  131: 'mld-listener-report',
  132: 'mld-listener-done',
  133: 'nd-router-solicit',
  134: 'nd-router-advert',
  135: 'nd-neighbor-solicit',
  136: 'nd-neighbor-advert',
  137: 'nd-redirect',
};

/** The nft name of a protocol number (`tcp`, `udp`, …), else the number. */
export function l4protoText(p: number): string {
  return L4_NAMES[p] ?? String(p);
}

/** The nft name of an ICMP or ICMPv6 type, else the number. */
export function icmpTypeText(family: IpFamily, t: number): string {
  return (family === 4 ? ICMP_V4_NAMES[t] : ICMP_V6_NAMES[t]) ?? String(t);
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function setOrScalar(items: readonly string[]): string {
  return items.length === 1 ? (items[0] as string) : `{ ${items.join(', ')} }`;
}

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function ipKey(family: IpFamily): string {
  return family === 4 ? 'ip' : 'ip6';
}

function opText(op: 'eq' | 'ne'): string {
  return op === 'ne' ? '!= ' : '';
}

function flagsText(flags: readonly TcpFlag[]): string {
  return flags.length === 0 ? '0x0' : flags.join('|');
}

/** Address intervals as one nft value or an anonymous set `{ a, b }`. */
export function intervalsText(ivs: readonly AddrInterval[]): string {
  return setOrScalar(ivs.map(formatInterval));
}

function portsText(ranges: readonly (readonly [number, number])[]): string {
  return setOrScalar(ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)));
}

/** The nft text of one match. */
export function renderMatch(m: Match): string {
  switch (m.kind) {
    case 'ifname':
      return `${m.dir}name ${opText(m.op)}${setOrScalar(m.names.map(quote))}`;
    case 'nfproto':
      return `meta nfproto ${m.family === 4 ? 'ipv4' : 'ipv6'}`;
    case 'l4proto':
      return `meta l4proto ${opText(m.op)}${setOrScalar(m.protos.map(l4protoText))}`;
    case 'addr': {
      const v = 'set' in m.value ? `@${m.value.set}` : intervalsText(m.value.intervals);
      return `${ipKey(m.family)} ${m.field} ${opText(m.op)}${v}`;
    }
    case 'port':
      return `${m.proto} ${m.field} ${opText(m.op)}${m.set !== undefined ? `@${m.set}` : portsText(m.ranges)}`;
    case 'icmp': {
      const key = m.family === 4 ? 'icmp' : 'icmpv6';
      const parts: string[] = [];
      // A contiguous run of types is a range (two compares in the kernel), not an anonymous set:
      // anonymous sets cost the kernel quadratically per transaction (issue #9).
      const run = icmpRun(m.types);
      if (m.set !== undefined) parts.push(`${key} type @${m.set}`);
      else if (run) parts.push(`${key} type ${run[0]}-${run[1]}`);
      else if (m.types.length > 0) parts.push(`${key} type ${setOrScalar(m.types.map((t) => icmpTypeText(m.family, t)))}`);
      else parts.push(`meta l4proto ${m.family === 4 ? 'icmp' : 'ipv6-icmp'}`);
      if (m.code !== undefined) parts.push(`${key} code ${m.code}`);
      return parts.join(' ');
    }
    case 'ctstate':
      // a flag list (`a,b`): one bitmask test in the kernel, where `{ a, b }` is an anonymous set
      return `ct state ${m.states.join(',')}`;
    case 'fibtype':
      return `fib ${m.field} type ${setOrScalar([...m.types])}`;
    case 'mark':
      return `meta mark & ${hex32(m.mask)} ${m.op === 'ne' ? '!=' : '=='} ${hex32(m.value)}`;
    case 'ether':
      return `ether saddr ${opText(m.op)}${m.mac}`;
    case 'tcpflags':
      return `tcp flags & (${m.mask.join('|')}) ${m.op === 'ne' ? '!=' : '=='} ${flagsText(m.value)}`;
  }
}

function prefixMaskText(family: IpFamily, prefix: number): string {
  const bits = FAMILY_BITS[family];
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return formatAddress(family, mask);
}

/** The nft text of one statement. */
export function renderStmt(s: Stmt): string {
  switch (s.kind) {
    case 'accept':
    case 'drop':
    case 'return':
      return s.kind;
    case 'jump':
    case 'goto':
      return `${s.kind} ${s.target}`;
    case 'reject':
      if (s.with.kind === 'tcp-reset') return 'reject with tcp reset';
      return `reject with ${s.with.family === 4 ? 'icmp' : 'icmpv6'} type ${s.with.type}`;
    case 'vmap':
      return `${s.key} vmap { ${s.entries.map(([k, v]) => `${quote(k)} : ${v.kind} ${v.target}`).join(', ')} }`;
    case 'limit':
      return `limit rate ${s.rate}/${s.per}${s.burst !== undefined ? ` burst ${s.burst} packets` : ''}`;
    case 'log':
      return `log prefix ${quote(s.prefix)} group ${s.group}`;
    case 'ctmark-set':
      return `ct mark set ${s.value}`;
    case 'mark-set':
      return `meta mark set meta mark & ${hex32(s.and)} | ${hex32(s.or)}`;
    case 'ct-helper-set':
      return `ct helper set ${quote(s.name)}`;
    case 'meter-over': {
      const bits = FAMILY_BITS[s.family];
      const key = s.prefix < bits ? `${ipKey(s.family)} saddr & ${prefixMaskText(s.family, s.prefix)}` : `${ipKey(s.family)} saddr`;
      return `update @${s.set} { ${key} limit rate over ${s.rate}/second burst ${s.burst} packets }`;
    }
    case 'queue':
      // The form `man nft` (1.0.6) documents and `nft list` prints; `queue num 0-3 bypass`
      // is accepted too and gives the same netlink expression.
      return `queue${s.bypass ? ' flags bypass' : ''} to ${s.from === s.to ? String(s.from) : `${s.from}-${s.to}`}`;
  }
}

/** The nft text of one rule: its matches, statements and comment. */
export function renderRule(r: Rule): string {
  const parts = [...r.matches.map(renderMatch), ...r.stmts.map(renderStmt)];
  if (r.comment !== undefined) parts.push(`comment ${quote(r.comment)}`);
  return parts.join(' ');
}

function renderSet(s: NamedSet, indent: string): string[] {
  const type = s.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const out = [`${indent}set ${s.name} {`, `${indent}\ttype ${type}`];
  if (s.kind === 'interval') {
    out.push(`${indent}\tflags interval`);
  } else {
    out.push(`${indent}\tflags dynamic,timeout`);
    if (s.timeoutS !== undefined) out.push(`${indent}\ttimeout ${s.timeoutS}s`);
    if (s.size !== undefined) out.push(`${indent}\tsize ${s.size}`);
  }
  if (s.comment !== undefined) out.push(`${indent}\tcomment ${quote(s.comment)}`);
  if (s.elements.length > 0) out.push(`${indent}\telements = { ${s.elements.map(formatInterval).join(', ')} }`);
  out.push(`${indent}}`);
  return out;
}

function renderValueSet(s: ValueSet, indent: string): string[] {
  const out = [`${indent}set ${s.name} {`, `${indent}\ttype ${s.type}`];
  if (s.ranges.some(([a, b]) => a !== b)) out.push(`${indent}\tflags interval`);
  out.push(`${indent}\telements = { ${s.ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(', ')} }`, `${indent}}`);
  return out;
}

function renderHelper(h: CtHelper, indent: string): string[] {
  return [`${indent}ct helper ${h.name} {`, `${indent}\ttype ${quote(h.type)} protocol ${h.protocol}`, `${indent}\tl3proto ${h.l3proto ?? 'inet'}`, `${indent}}`];
}

function renderChain(c: Chain, indent: string): string[] {
  const out = [`${indent}chain ${c.name} {`];
  if (c.base) {
    out.push(`${indent}\ttype filter hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy};`);
  }
  for (const r of c.rules) out.push(`${indent}\t${renderRule(r)}`);
  out.push(`${indent}}`);
  return out;
}

/** The lines of one table: sets, ct helpers and chains, tab-indented as `nft list` prints them. */
export function renderTableBody(t: Table): string[] {
  const out: string[] = [`table ${t.family} ${t.name} {`];
  for (const s of t.sets) out.push(...renderSet(s, '\t'));
  for (const s of t.valueSets ?? []) out.push(...renderValueSet(s, '\t'));
  for (const h of t.ctHelpers) out.push(...renderHelper(h, '\t'));
  for (const c of t.chains) out.push(...renderChain(c, '\t'));
  out.push('}');
  return out;
}

/** Header comment lines put at the top of the rendered text. */
export interface RenderTextOptions {
  readonly header?: readonly string[];
}

/**
 * Renders the whole ruleset as one `nft -f` transaction that replaces Palisade's tables.
 * A ruleset without tables renders the deletion of the given own tables only.
 */
export function renderNftText(ruleset: Ruleset, ownTables: readonly { family: string; name: string }[], options: RenderTextOptions = {}): string {
  const out: string[] = [];
  for (const h of options.header ?? []) out.push(`# ${h}`);
  for (const t of ownTables) {
    out.push(`table ${t.family} ${t.name}`);
    out.push(`delete table ${t.family} ${t.name}`);
  }
  for (const t of ruleset.tables) {
    out.push('');
    out.push(...renderTableBody(t));
  }
  return `${out.join('\n')}\n`;
}
