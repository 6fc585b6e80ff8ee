import { describe, expect, it } from 'vitest';
import { PROTOCOLS, icmpProtocolVersion, isPortProtocol, lookupProtocol } from './protocols.js';

describe('protocols', () => {
  it('has Appendix B plus icmpv6', () => {
    expect(PROTOCOLS).toHaveLength(58);
  });

  it('looks up names case-sensitively', () => {
    expect(lookupProtocol('tcp')).toEqual({ name: 'tcp', number: 6 });
    expect(lookupProtocol('ax.25')).toEqual({ name: 'ax.25', number: 93 });
    expect(lookupProtocol('icmpv6')).toEqual({ name: 'icmpv6', number: 58 });
    expect(lookupProtocol('ipv6-icmp')).toEqual({ name: 'ipv6-icmp', number: 58 });
    expect(lookupProtocol('TCP')).toBeUndefined();
    expect(lookupProtocol('')).toBeUndefined();
  });

  it('looks up numbers only when listed and written plainly', () => {
    expect(lookupProtocol('6')).toEqual({ name: 'tcp', number: 6 });
    expect(lookupProtocol('0')).toEqual({ name: 'ip', number: 0 });
    expect(lookupProtocol('58')?.name).toBe('ipv6-icmp');
    expect(lookupProtocol('262')?.name).toBe('mptcp');
    expect(lookupProtocol('200')).toBeUndefined();
    expect(lookupProtocol('7')).toBeUndefined();
    expect(lookupProtocol('06')).toBeUndefined();
    expect(lookupProtocol('6 ')).toBeUndefined();
  });

  it('knows which protocols carry ports', () => {
    for (const p of ['tcp', 'udp', 'udplite', 'dccp', 'sctp', '6', '17', '136', '33', '132']) expect(isPortProtocol(p)).toBe(true);
    for (const p of ['icmp', 'icmpv6', 'gre', '1', '47', 'TCP', 'mptcp']) expect(isPortProtocol(p)).toBe(false);
  });

  it('gives the IP version of ICMP-like protocols', () => {
    expect(icmpProtocolVersion('icmp')).toBe(4);
    expect(icmpProtocolVersion('icmpv6')).toBe(6);
    expect(icmpProtocolVersion('ipv6-icmp')).toBe(6);
    expect(icmpProtocolVersion('1')).toBeUndefined();
    expect(icmpProtocolVersion('58')).toBeUndefined();
    expect(icmpProtocolVersion('tcp')).toBeUndefined();
  });
});
