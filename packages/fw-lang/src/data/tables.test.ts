import { describe, expect, it } from 'vitest';
import { CONNTRACK_HELPERS, findConntrackHelper } from './conntrack-helpers.js';
import { ETHERTYPES, lookupEthertype } from './ethertypes.js';
import { ICMP_TYPES_V4, ICMP_TYPES_V6, icmpTypesFor, isIcmpTypeName } from './icmp-types.js';
import { SERVICES, lookupService } from './services.js';

describe('ICMP types', () => {
  it('has 37 IPv4 and 25 IPv6 names with type and code', () => {
    expect(ICMP_TYPES_V4.size).toBe(37);
    expect(ICMP_TYPES_V6.size).toBe(25);
    expect(ICMP_TYPES_V4.get('echo-request')).toEqual({ type: 8 });
    expect(ICMP_TYPES_V4.get('fragmentation-needed')).toEqual({ type: 3, code: 4 });
    expect(ICMP_TYPES_V4.get('TOS-host-redirect')).toEqual({ type: 5, code: 3 });
    expect(ICMP_TYPES_V4.get('any')).toEqual({ type: 255, any: true });
    expect(ICMP_TYPES_V6.get('echo-request')).toEqual({ type: 128 });
    expect(ICMP_TYPES_V6.get('neighbour-solicitation')).toEqual({ type: 135 });
    expect(ICMP_TYPES_V6.get('reject-route')).toEqual({ type: 1, code: 6 });
    expect(icmpTypesFor(6)).toBe(ICMP_TYPES_V6);
  });

  it('is case-sensitive and family-specific', () => {
    expect(ICMP_TYPES_V4.has('tos-host-redirect')).toBe(false);
    expect(ICMP_TYPES_V4.has('neighbor-solicitation')).toBe(false);
    expect(ICMP_TYPES_V6.has('source-quench')).toBe(false);
    expect(isIcmpTypeName('neighbor-solicitation')).toBe(true);
    expect(isIcmpTypeName('source-quench')).toBe(true);
    expect(isIcmpTypeName('8')).toBe(false);
  });
});

describe('services', () => {
  it('maps primary names of tcp/udp/sctp entries to ports', () => {
    expect(SERVICES.size).toBeGreaterThan(200);
    expect(lookupService('ssh')).toBe(22);
    expect(lookupService('http')).toBe(80);
    expect(lookupService('https')).toBe(443);
    expect(lookupService('domain')).toBe(53);
    expect(lookupService('SSH')).toBeUndefined();
    // `www` is an alias of http, not a primary name.
    expect(lookupService('www')).toBeUndefined();
    expect(lookupService('')).toBeUndefined();
  });
});

describe('ethertypes', () => {
  it('has the netbase table and looks up names and hex numbers', () => {
    expect(ETHERTYPES).toHaveLength(35);
    expect(lookupEthertype('IPv4')).toEqual({ name: 'IPv4', type: 0x0800 });
    expect(lookupEthertype('ARP')?.type).toBe(0x0806);
    expect(lookupEthertype('IPv6')?.type).toBe(0x86dd);
    expect(lookupEthertype('802_1Q')?.type).toBe(0x8100);
    expect(lookupEthertype('0806')?.name).toBe('ARP');
    expect(lookupEthertype('86dd')?.name).toBe('IPv6');
    expect(lookupEthertype('ipv4')).toBeUndefined();
    expect(lookupEthertype('ip4')).toBeUndefined();
    expect(lookupEthertype('1234')).toBeUndefined();
  });
});

describe('conntrack helpers', () => {
  it('has the nine helpers of spec §5', () => {
    expect(CONNTRACK_HELPERS.map((h) => h.name)).toEqual([
      'amanda',
      'ftp',
      'irc',
      'netbios-ns',
      'pptp',
      'sane',
      'sip',
      'snmp',
      'tftp',
    ]);
    expect(findConntrackHelper('ftp')).toEqual({ name: 'ftp', proto: 'tcp', dport: 21, v4: true, v6: true });
    expect(findConntrackHelper('irc')?.v6).toBe(false);
    expect(findConntrackHelper('FTP')).toBeUndefined();
  });
});
