/**
 * Test support: a ruleset with one rule per expression kind (and every object kind) the
 * compiler's IR can produce. `nft-lower.test.ts` compares the batch the codec encodes for it
 * with the batch nft 1.0.6 sent for its rendered text (`test-probe-batch.ts`, captured by
 * `ruleset-kernel.test.ts` with CAPTURE_NFT=1, through strace in a throw-away namespace).
 */
import type { AddrInterval, Match, Rule, Ruleset, Stmt, Table } from '@palisade/nft-ir';

const v4 = (a: string): bigint => a.split('.').reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
const iv4 = (from: string, to = from): AddrInterval => ({ family: 4, from: v4(from), to: v4(to) });
const iv6 = (from: bigint, to = from): AddrInterval => ({ family: 6, from, to });
const r = (matches: Match[], stmts: Stmt[], comment?: string): Rule => ({ matches, stmts, ...(comment === undefined ? {} : { comment }) });
const ACCEPT: Stmt = { kind: 'accept' };
const DROP: Stmt = { kind: 'drop' };

/** Each entry: the expression kind it proves, and the rule. */
export const PROBE_RULES: readonly (readonly [string, Rule])[] = [
  ['ifname eq (meta iifname, cmp of 16 NUL-padded bytes)', r([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['lo'] }], [ACCEPT])],
  ['ifname prefix ne (cmp neq of the prefix bytes)', r([{ kind: 'ifname', dir: 'oif', op: 'ne', names: ['fwbr*'] }], [{ kind: 'return' }])],
  ['ifname set (anonymous ifname set, lookup)', r([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['a', 'b'] }], [ACCEPT])],
  ['nfproto', r([{ kind: 'nfproto', family: 6 }], [ACCEPT])],
  ['l4proto eq / ne / set', r([{ kind: 'l4proto', op: 'ne', protos: [6] }], [ACCEPT])],
  ['l4proto set', r([{ kind: 'l4proto', op: 'eq', protos: [6, 17] }], [ACCEPT])],
  ['addr host (payload, cmp) with rule comment', r([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [iv4('198.51.100.10')] } }], [ACCEPT], 'firewall/cluster.fw:31')],
  ['addr byte-aligned prefix (shortened payload)', r([{ kind: 'addr', family: 4, field: 'daddr', op: 'eq', value: { intervals: [iv4('224.0.0.0', '239.255.255.255')] } }], [DROP])],
  ['addr unaligned prefix ne (bitwise)', r([{ kind: 'addr', family: 4, field: 'saddr', op: 'ne', value: { intervals: [iv4('10.16.0.0', '10.31.255.255')] } }], [ACCEPT])],
  ['addr range eq (cmp gte, lte)', r([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [iv4('10.0.0.1', '10.0.0.5')] } }], [ACCEPT])],
  ['addr range ne (range neq)', r([{ kind: 'addr', family: 4, field: 'saddr', op: 'ne', value: { intervals: [iv4('10.0.0.1', '10.0.0.5')] } }], [ACCEPT])],
  ['addr intervals (anonymous interval set)', r([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [iv4('10.0.0.1'), iv4('10.2.0.0', '10.2.255.255')] } }], [ACCEPT])],
  ['addr v6 prefix and host', r([{ kind: 'addr', family: 6, field: 'saddr', op: 'eq', value: { intervals: [iv6(0x20010db8000000000000000000000001n)] } }, { kind: 'addr', family: 6, field: 'daddr', op: 'eq', value: { intervals: [iv6(0xff00n << 112n, (0xff01n << 112n) - 1n)] } }], [DROP])],
  ['addr named set ne (lookup with NFT_LOOKUP_F_INV)', r([{ kind: 'addr', family: 4, field: 'saddr', op: 'ne', value: { set: 's4' } }], [DROP], 'ipfilter')],
  ['port eq (l4proto dependency)', r([{ kind: 'port', proto: 'tcp', field: 'dport', op: 'eq', ranges: [[22, 22]] }], [ACCEPT])],
  ['ports sport+dport merged', r([{ kind: 'nfproto', family: 4 }, { kind: 'port', proto: 'udp', field: 'sport', op: 'eq', ranges: [[68, 68]] }, { kind: 'port', proto: 'udp', field: 'dport', op: 'eq', ranges: [[67, 67]] }], [ACCEPT])],
  ['port range eq and ne', r([{ kind: 'port', proto: 'udp', field: 'sport', op: 'eq', ranges: [[137, 139]] }, { kind: 'port', proto: 'udp', field: 'dport', op: 'ne', ranges: [[1024, 65535]] }], [DROP])],
  ['port set with ranges (anonymous interval set)', r([{ kind: 'port', proto: 'tcp', field: 'dport', op: 'eq', ranges: [[22, 22], [3128, 3128], [5900, 5999]] }], [ACCEPT])],
  ['port set ne (anonymous set, inverted lookup)', r([{ kind: 'port', proto: 'sctp', field: 'dport', op: 'ne', ranges: [[135, 135], [445, 445]] }], [DROP])],
  ['icmp type and code merged', r([{ kind: 'icmp', family: 4, types: [3], code: 4 }], [ACCEPT])],
  ['icmpv6 type run (a range: cmp gte, lte)', r([{ kind: 'icmp', family: 6, types: [133, 134, 135, 136] }], [ACCEPT])],
  ['icmpv6 type set (anonymous set)', r([{ kind: 'icmp', family: 6, types: [133, 135, 136] }], [ACCEPT])],
  ['icmp without type (meta l4proto icmp)', r([{ kind: 'icmp', family: 4, types: [] }], [DROP])],
  ['ct state flag (bitwise, cmp neq 0)', r([{ kind: 'ctstate', states: ['invalid'] }], [DROP])],
  ['ct state flag list (one bitmask test)', r([{ kind: 'ctstate', states: ['established', 'related'] }], [ACCEPT])],
  ['fib saddr type', r([{ kind: 'nfproto', family: 4 }, { kind: 'fibtype', field: 'saddr', types: ['broadcast'] }], [DROP])],
  ['fib daddr type set', r([{ kind: 'fibtype', field: 'daddr', types: ['broadcast', 'multicast'] }], [DROP])],
  ['meta mark & mask ==', r([{ kind: 'mark', mask: 0x0c000000, value: 0x04000000, op: 'eq' }], [{ kind: 'jump', target: 'c2' }])],
  ['ether saddr ne (iiftype dependency in inet)', r([{ kind: 'ether', op: 'ne', mac: 'bc:24:11:aa:00:01' }], [DROP], 'macfilter')],
  ['tcp flags', r([{ kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'ne' }], [DROP])],
  ['goto', r([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['x'] }], [{ kind: 'goto', target: 'c2' }])],
  ['vmap (anonymous verdict map)', r([], [{ kind: 'vmap', key: 'iifname', entries: [['fwbr100i0', { kind: 'jump', target: 'c2' }], ['fwbr100i1', { kind: 'goto', target: 'c2' }]] }])],
  ['limit + log', r([], [{ kind: 'limit', rate: 3, per: 'minute', burst: 5 }, { kind: 'log', prefix: ':0:6:c1: DROP: ', group: 0 }])],
  ['limit without burst (nft default 5)', r([], [{ kind: 'limit', rate: 1, per: 'second' }, { kind: 'log', prefix: 'x', group: 3 }])],
  ['limit per hour and day', r([], [{ kind: 'limit', rate: 2, per: 'hour', burst: 7 }, { kind: 'limit', rate: 2, per: 'day', burst: 7 }, ACCEPT])],
  ['ct mark set (immediate, ct set)', r([], [{ kind: 'ctmark-set', value: 100 }])],
  ['meta mark set (meta load, bitwise, meta set)', r([], [{ kind: 'mark-set', and: 0xffffffff, or: 0x10000000 }])],
  ['ct helper set (objref)', r([{ kind: 'port', proto: 'tcp', field: 'dport', op: 'eq', ranges: [[21, 21]] }], [{ kind: 'ct-helper-set', name: 'helper-ftp-tcp' }])],
  ['meter v4 (dynset update with limit over)', r([{ kind: 'nfproto', family: 4 }, { kind: 'tcpflags', mask: ['fin', 'syn', 'rst', 'ack'], value: ['syn'], op: 'eq' }], [{ kind: 'meter-over', set: 'm4', family: 4, prefix: 32, rate: 400, burst: 1337 }, DROP])],
  ['meter v6 /64 (bitwise before dynset)', r([{ kind: 'nfproto', family: 6 }], [{ kind: 'meter-over', set: 'm6', family: 6, prefix: 64, rate: 400, burst: 1337 }, DROP])],
  ['reject tcp reset', r([{ kind: 'l4proto', op: 'eq', protos: [6] }], [{ kind: 'reject', with: { kind: 'tcp-reset' } }])],
  ['reject icmp (nfproto dependency)', r([], [{ kind: 'reject', with: { kind: 'icmp', family: 4, type: 'host-prohibited' } }])],
  ['reject icmpv6', r([{ kind: 'nfproto', family: 6 }], [{ kind: 'reject', with: { kind: 'icmp', family: 6, type: 'admin-prohibited' } }])],
  ['queue range bypass', r([], [{ kind: 'queue', from: 0, to: 3, bypass: true }])],
  ['queue one', r([], [{ kind: 'queue', from: 2, to: 2, bypass: false }])],
];

const inet: Table = {
  family: 'inet',
  name: 'palisade',
  sets: [
    { name: 's4', family: 4, kind: 'interval', elements: [iv4('10.0.0.1'), iv4('192.168.1.0', '192.168.1.255'), iv4('255.255.255.0', '255.255.255.255')], comment: 'cluster blacklist' },
    { name: 's6', family: 6, kind: 'interval', elements: [] },
    { name: 'm4', family: 4, kind: 'meter', elements: [], timeoutS: 45, size: 65536 },
    { name: 'm6', family: 6, kind: 'meter', elements: [], timeoutS: 45, size: 65536 },
  ],
  ctHelpers: [
    { name: 'helper-ftp-tcp', type: 'ftp', protocol: 'tcp' },
    { name: 'helper-irc-tcp', type: 'irc', protocol: 'tcp', l3proto: 'ip' },
  ],
  chains: [
    { name: 'c2', rules: [] },
    { name: 'c1', rules: PROBE_RULES.map(([, rule]) => rule) },
    { name: 'INPUT', base: { hook: 'input', priority: 0, policy: 'drop' }, rules: [r([], [{ kind: 'jump', target: 'c1' }])] },
    { name: 'PRE', base: { hook: 'prerouting', priority: -300, policy: 'accept' }, rules: [] },
  ],
};

const bridge: Table = {
  family: 'bridge',
  name: 'palisade',
  sets: [],
  ctHelpers: [],
  chains: [
    {
      name: 'PORT-MARK',
      base: { hook: 'prerouting', priority: -300, policy: 'accept' },
      rules: [
        r([{ kind: 'ifname', dir: 'iif', op: 'eq', names: ['tap*'] }], [{ kind: 'mark-set', and: 0xf3ffffff, or: 0x08000000 }]),
        r([{ kind: 'ether', op: 'ne', mac: 'bc:24:11:aa:00:01' }], [DROP]),
        r([{ kind: 'addr', family: 4, field: 'saddr', op: 'eq', value: { intervals: [iv4('10.0.0.1')] } }], [DROP]),
      ],
    },
  ],
};

/** The probe ruleset and the tables it owns. */
export const PROBE_RULESET: Ruleset = { tables: [inet, bridge] };
export const PROBE_OWN_TABLES = [
  { family: 'inet', name: 'palisade' },
  { family: 'bridge', name: 'palisade' },
] as const;
