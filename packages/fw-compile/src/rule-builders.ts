/**
 * Small constructors of IR matches, statements and rules, so that the chain builders read
 * like the rules they write.
 */
import type { IcmpMatch, IpFamily, Match, PortProto, Rule, RuleOrigin, Stmt } from '@palisade/nft-ir';

/** The `accept` verdict. */
export const ACCEPT: Stmt = { kind: 'accept' };
/** The `drop` verdict. */
export const DROP: Stmt = { kind: 'drop' };
/** The `return` verdict. */
export const RETURN: Stmt = { kind: 'return' };
/** `jump <target>`. */
export const jump = (target: string): Stmt => ({ kind: 'jump', target });
/** `goto <target>`. */
export const goto = (target: string): Stmt => ({ kind: 'goto', target });
/** `meta nfproto ipv4|ipv6`. */
export const nfproto = (family: IpFamily): Match => ({ kind: 'nfproto', family });
/** `meta l4proto { … }`. */
export const l4 = (...protos: number[]): Match => ({ kind: 'l4proto', op: 'eq', protos });
/** An ICMP or ICMPv6 type match; no types means any type of the protocol. */
export const icmp = (family: IpFamily, types: number[], code?: number, spelling?: string): IcmpMatch => ({
  kind: 'icmp',
  family,
  types,
  ...(code !== undefined ? { code } : {}),
  ...(spelling !== undefined ? { spelling } : {}),
});
/** A port match of one protocol and field over closed ranges. */
export const port = (proto: PortProto, field: 'sport' | 'dport', ranges: readonly (readonly [number, number])[]): Match => ({
  kind: 'port',
  proto,
  field,
  op: 'eq',
  ranges,
});
/** One port as a list of ranges. */
export const single = (p: number): readonly (readonly [number, number])[] => [[p, p]];
/** A rule from its matches and statements, with an optional comment and source origin. */
export const rule = (matches: Match[], stmts: Stmt[], extra: { comment?: string; origin?: RuleOrigin } = {}): Rule => ({
  matches,
  stmts,
  ...extra,
});

/** The do-reject helper of pve-firewall (`PVEFW-reject`, spec §6.3.10). */
export const REJECT_CHAIN = 'PVEFW-reject';
