/**
 * The matches of one expanded user rule for one IP family: protocol, ports and ICMP types,
 * and source/destination as addresses, aliases or IP sets. A value of the other family
 * yields 'skip' (the rule is not written for that family); a value that cannot be compiled
 * yields an error the caller reports.
 */
import { icmpProtocolVersion, icmpTypesFor, lookupProtocol, resolveAlias } from '@palisade/fw-lang';
import type { IpFamily, Match, PortProto } from '@palisade/nft-ir';
import type { CompileState, RuleCtx } from './compile-state.js';
import { cidrInterval, parseCidr } from './ip.js';
import { ipsetRef } from './ip-set-resolution.js';
import { icmp, l4, port } from './rule-builders.js';
import { parseAddressList, parsePorts } from './values.js';

const PORT_PROTOS: Readonly<Record<string, PortProto>> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  sctp: 'sctp',
  '132': 'sctp',
  dccp: 'dccp',
  '33': 'dccp',
  udplite: 'udplite',
  '136': 'udplite',
};

const PORT_PROTO_NUMBER: Readonly<Record<PortProto, number>> = { tcp: 6, udp: 17, sctp: 132, dccp: 33, udplite: 136 };

/** Protocol, port and ICMP matches of one expanded rule for one family; `specific` when only that family has them. */
export function protoMatches(
  proto: string | undefined,
  dport: string | undefined,
  sport: string | undefined,
  icmpType: string | undefined,
  family: IpFamily,
): { matches: Match[]; specific: boolean } | 'skip' | { error: string } {
  if (proto === undefined) {
    if (dport !== undefined || sport !== undefined) return { error: 'ports given without a protocol' };
    return { matches: [], specific: false };
  }
  const icmpV = icmpProtocolVersion(proto);
  if (icmpV !== undefined) {
    if (icmpV !== family) return 'skip';
    if (sport !== undefined) return { error: `protocol '${proto}' does not support ports` };
    const table = icmpTypesFor(icmpV);
    let spec = icmpType;
    if (spec === undefined && dport !== undefined) {
      if (proto === 'ipv6-icmp') return { error: 'protocol ipv6-icmp does not have ports' };
      spec = dport;
    }
    if (spec === undefined) return { matches: [icmp(icmpV, [])], specific: true };
    if (/^\d+$/.test(spec)) {
      if (icmpType !== undefined) return { error: `invalid icmp-type '${spec}'` };
      const n = Number(spec);
      if (n > 255) return { error: `invalid ICMP type '${spec}'` };
      return { matches: [icmp(icmpV, [n], undefined, spec)], specific: true };
    }
    const info = table.get(spec);
    if (!info) return { error: `ICMP type '${spec}' is not valid for IPv${icmpV}` };
    if (info.any === true) return { matches: [icmp(icmpV, [], undefined, spec)], specific: true };
    return { matches: [icmp(icmpV, [info.type], info.code, spec)], specific: true };
  }
  const pp = PORT_PROTOS[proto];
  if (pp !== undefined) {
    const matches: Match[] = [];
    if (sport !== undefined) {
      const r = parsePorts(sport);
      if (!r) return { error: `invalid source port list '${sport}'` };
      matches.push(port(pp, 'sport', r));
    }
    if (dport !== undefined) {
      const r = parsePorts(dport);
      if (!r) return { error: `invalid destination port list '${dport}'` };
      matches.push(port(pp, 'dport', r));
    }
    if (matches.length === 0) matches.push(l4(PORT_PROTO_NUMBER[pp]));
    return { matches, specific: false };
  }
  if (dport !== undefined || sport !== undefined) return { error: `protocol '${proto}' does not support ports` };
  const info = lookupProtocol(proto);
  if (!info) return { error: `unknown protocol '${proto}'` };
  return { matches: [l4(info.number)], specific: false };
}

/** The match of a `-source`/`-dest` value for one family; `specific` when it names addresses. */
export function addrMatch(
  st: CompileState,
  field: 'saddr' | 'daddr',
  spec: string | undefined,
  family: IpFamily,
  ctx: RuleCtx,
): { match?: Match; specific: boolean } | 'skip' | { error: string } {
  if (spec === undefined) return { specific: false };
  if (spec.startsWith('+')) {
    const name = ipsetRef(st, spec.slice(1), family, ctx);
    if (name === undefined) return { error: `no such ipset '${spec.slice(1)}' in this scope` };
    return { match: { kind: 'addr', family, field, op: 'eq', value: { set: name } }, specific: true };
  }
  if (/^(?:(?:dc|guest)\/)?[A-Za-z][A-Za-z0-9_-]+$/.test(spec)) {
    const alias = resolveAlias(spec, ctx.from, st.cluster, ctx.guestDoc);
    if (!alias) return { error: `no such alias '${spec}' in this scope` };
    const c = parseCidr(alias.cidr);
    if (!c) return { error: `alias '${spec}' has an invalid value` };
    if (c.family !== family) return 'skip';
    return { match: { kind: 'addr', family, field, op: 'eq', value: { intervals: [cidrInterval(c)] } }, specific: true };
  }
  const list = parseAddressList(spec);
  if (!list) return { error: `invalid address list '${spec}'` };
  if (list.family !== family) return 'skip';
  return { match: { kind: 'addr', family, field, op: 'eq', value: { intervals: list.intervals } }, specific: true };
}
