import { describe, expect, it } from 'vitest';
import { lookupProtocol } from './protocols.js';
import { ICMP_TYPES_V4, ICMP_TYPES_V6 } from './icmp-types.js';
import { MACROS, findMacro, macroTemplatesFor } from './macros.js';

describe('MACROS', () => {
  it('has the 86 macros and 119 template lines of spec §5', () => {
    expect(MACROS).toHaveLength(86);
    expect(MACROS.reduce((n, m) => n + m.templates.length, 0)).toBe(119);
    expect(new Set(MACROS.map((m) => m.name.toLowerCase())).size).toBe(86);
  });

  it('uses only known protocols and, for ICMP templates, known type names', () => {
    for (const m of MACROS) {
      for (const t of [...m.templates, ...(m.ipv6Templates ?? [])]) {
        expect(lookupProtocol(t.proto), `${m.name} ${t.proto}`).toBeDefined();
        if (t.proto === 'icmp') expect(ICMP_TYPES_V4.has(t.dport ?? '')).toBe(true);
        if (t.proto === 'icmpv6') expect(ICMP_TYPES_V6.has(t.dport ?? '')).toBe(true);
      }
    }
  });

  it('finds macros case-insensitively and canonicalises the name', () => {
    expect(findMacro('ssh')?.name).toBe('SSH');
    expect(findMacro('SSH')?.templates).toEqual([{ proto: 'tcp', dport: '22' }]);
    expect(findMacro('bittorrent32')?.name).toBe('BitTorrent32');
    expect(findMacro('Ssh ')).toBeUndefined();
    expect(findMacro('nope')).toBeUndefined();
  });

  it('keeps template order and sport', () => {
    expect(findMacro('SMB')?.templates).toEqual([
      { proto: 'udp', dport: '135,445' },
      { proto: 'udp', dport: '137:139' },
      { proto: 'udp', dport: '1024:65535', sport: '137' },
      { proto: 'tcp', dport: '135,139,445' },
    ]);
    expect(findMacro('GRE')?.templates).toEqual([{ proto: '47' }]);
    expect(findMacro('DNS')?.description).toBe('Domain Name System traffic (upd and tcp)');
  });

  it('has IPv6 variants for Ping, Trcrt, NeighborDiscovery and DHCPv6 only', () => {
    expect(MACROS.filter((m) => m.ipv6Templates !== undefined).map((m) => m.name).sort()).toEqual([
      'DHCPv6',
      'NeighborDiscovery',
      'Ping',
      'Trcrt',
    ]);
    expect(MACROS.filter((m) => m.ipv6Only === true).map((m) => m.name).sort()).toEqual(['DHCPv6', 'NeighborDiscovery']);
    const ping = findMacro('ping');
    expect(ping && macroTemplatesFor(ping, 4)).toEqual([{ proto: 'icmp', dport: 'echo-request' }]);
    expect(ping && macroTemplatesFor(ping, 6)).toEqual([{ proto: 'icmpv6', dport: 'echo-request' }]);
    const trcrt = findMacro('Trcrt');
    expect(trcrt && macroTemplatesFor(trcrt, 6)).toEqual([
      { proto: 'udp', dport: '33434:33524' },
      { proto: 'icmpv6', dport: 'echo-request' },
    ]);
    const nd = findMacro('NeighborDiscovery');
    expect(nd && macroTemplatesFor(nd, 4)).toEqual([]);
    expect(nd && macroTemplatesFor(nd, 6)).toHaveLength(4);
    const dhcp6 = findMacro('dhcpv6');
    expect(dhcp6 && macroTemplatesFor(dhcp6, 4)).toEqual([]);
    expect(dhcp6 && macroTemplatesFor(dhcp6, 6)).toEqual([{ proto: 'udp', dport: '546:547', sport: '546:547' }]);
    const ssh = findMacro('SSH');
    expect(ssh && macroTemplatesFor(ssh, 6)).toBe(ssh?.templates);
  });
});
