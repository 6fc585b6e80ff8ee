/**
 * The fixed chains every ruleset has, as pve-firewall writes them (spec §6.3): the reject
 * helper, the Drop/Reject noise chains of the policies, broadcast, TCP-flag and smurf
 * filters with their log chains, the blacklist chain, and the jumps into them that the host
 * IN chain and PVEFW-FWBR-IN begin with.
 */
import type { HostOptions, LogLevel } from '@palisade/fw-lang';
import type { Rule, Stmt } from '@palisade/nft-ir';
import type { CompileState } from './compile-state.js';
import { parseCidr, cidrInterval, type Cidr } from './ip.js';
import { blacklistSet } from './ip-set-resolution.js';
import { logStmts } from './log-statements.js';
import { ACCEPT, DROP, goto, icmp, jump, l4, nfproto, port, REJECT_CHAIN, RETURN, rule, single } from './rule-builders.js';

/** Adds the standard chains; the blacklist chain only when the cluster has a `blacklist` IP set. */
export function standardChains(st: CompileState, hostLogOut: LogLevel, smurfLevel: LogLevel, flagsLevel: LogLevel, blacklist: boolean): void {
  const add = (name: string, rules: Rule[]): void => {
    st.chains.set(name, { name, rules });
  };
  add(REJECT_CHAIN, [
    rule([], [{ kind: 'mark-set', and: 0xffffffff, or: st.opts.markReject }], { comment: 'answers carry this mark (fwmark_reflect)' }),
    rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['broadcast'] }], [DROP]),
    rule([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('224.0.0.0/4') as Cidr)] } }], [DROP]),
    rule([icmp(4, [])], [DROP]),
    rule([icmp(6, [])], [DROP]),
    rule([l4(6)], [{ kind: 'reject', with: { kind: 'tcp-reset' } }]),
    rule([nfproto(4), l4(17)], [{ kind: 'reject', with: { kind: 'icmp', family: 4, type: 'port-unreachable' } }]),
    rule([nfproto(6), l4(17)], [{ kind: 'reject', with: { kind: 'icmp', family: 6, type: 'port-unreachable' } }]),
    rule([nfproto(4)], [{ kind: 'reject', with: { kind: 'icmp', family: 4, type: 'host-prohibited' } }]),
    rule([nfproto(6)], [{ kind: 'reject', with: { kind: 'icmp', family: 6, type: 'admin-prohibited' } }]),
    rule([], [DROP]),
  ]);
  add('PVEFW-DropBroadcast', [
    rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['broadcast'] }], [DROP]),
    rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['multicast'] }], [DROP]),
    rule([nfproto(4), { kind: 'fibtype', field: 'daddr', types: ['anycast'] }], [DROP]),
    rule([{ kind: 'addr', family: 4, field: 'daddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('224.0.0.0/4') as Cidr)] } }], [DROP]),
    rule([{ kind: 'addr', family: 6, field: 'daddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('ff00::/8') as Cidr)] } }], [DROP]),
  ]);
  const noise = (smb: Stmt): Rule[] => [
    rule([nfproto(6), port('tcp', 'dport', single(43))], [jump(REJECT_CHAIN)]),
    rule([], [jump('PVEFW-DropBroadcast')]),
    rule([icmp(4, [3], 4, 'fragmentation-needed')], [ACCEPT]),
    rule([icmp(4, [11], undefined, 'time-exceeded')], [ACCEPT]),
    rule([icmp(6, [1, 2, 3])], [ACCEPT]),
    rule([{ kind: 'ctstate', states: ['invalid'] }], [DROP]),
    rule([port('udp', 'dport', [[135, 135], [445, 445]])], [smb]),
    rule([port('udp', 'dport', [[137, 139]])], [smb]),
    rule([port('udp', 'sport', single(137)), port('udp', 'dport', [[1024, 65535]])], [smb]),
    rule([port('tcp', 'dport', [[135, 135], [139, 139], [445, 445]])], [smb]),
    rule([port('udp', 'dport', single(1900))], [DROP]),
    rule([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'ne' }], [DROP]),
    rule([port('udp', 'sport', single(53))], [DROP]),
  ];
  add('PVEFW-Drop', noise(DROP));
  add('PVEFW-Reject', noise(jump(REJECT_CHAIN)));
  add('PVEFW-tcpflags', [
    rule([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'], value: ['fin', 'psh', 'urg'], op: 'eq' }], [goto('PVEFW-logflags')]),
    rule([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'], value: [], op: 'eq' }], [goto('PVEFW-logflags')]),
    rule([{ kind: 'tcpflags', mask: ['syn', 'rst'], value: ['syn', 'rst'], op: 'eq' }], [goto('PVEFW-logflags')]),
    rule([{ kind: 'tcpflags', mask: ['fin', 'syn'], value: ['fin', 'syn'], op: 'eq' }], [goto('PVEFW-logflags')]),
    rule([port('tcp', 'sport', single(0)), { kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'eq' }], [goto('PVEFW-logflags')]),
  ]);
  const logDrop = (chain: string, level: LogLevel): Rule[] => {
    const log = logStmts(st, level, 0, chain, 'DROP: ');
    return [...(log ? [rule([], log)] : []), rule([], [DROP])];
  };
  add('PVEFW-logflags', logDrop('PVEFW-logflags', flagsLevel));
  add('PVEFW-smurfs', [
    rule([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [{ family: 4, from: 0n, to: 0n }] } }], [RETURN]),
    rule([nfproto(4), { kind: 'fibtype', field: 'saddr', types: ['broadcast'] }], [goto('PVEFW-smurflog')]),
    rule([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [cidrInterval(parseCidr('224.0.0.0/4') as Cidr)] } }], [goto('PVEFW-smurflog')]),
  ]);
  add('PVEFW-smurflog', logDrop('PVEFW-smurflog', smurfLevel));
  if (blacklist) add('PVEFW-blacklist', logDrop('PVEFW-blacklist', hostLogOut));
}

/**
 * The jumps of the blacklist, smurf and TCP-flag filters (each when configured), the first
 * rules of PVEFW-HOST-IN after the conntrack rules and of PVEFW-FWBR-IN.
 */
export function filterJumps(st: CompileState, hopts: HostOptions): Rule[] {
  const blacklist = st.cluster?.ipsets.get('blacklist');
  const blacklistRules = blacklist
    ? ([4, 6] as const).map((f) => rule([{ kind: 'addr', family: f, field: 'saddr', op: 'eq', value: { set: blacklistSet(st, f) } }], [jump('PVEFW-blacklist')]))
    : [];
  const smurfRule = hopts.smurfFilter ? [rule([nfproto(4), { kind: 'ctstate', states: ['invalid', 'new'] }], [jump('PVEFW-smurfs')])] : [];
  const tcpflagsRule = hopts.tcpFlagsFilter ? [rule([l4(6)], [jump('PVEFW-tcpflags')])] : [];
  return [...blacklistRules, ...smurfRule, ...tcpflagsRule];
}
