import { describe, expect, it } from 'vitest';
import { parseIpAddrJson } from './address-facts.js';

describe('parseIpAddrJson', () => {
  it('keeps global addresses (not loopback, not link-local) and every interface', () => {
    const json = JSON.stringify([
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
      {
        ifname: 'vmbr0',
        addr_info: [
          { family: 'inet', local: '192.0.2.11', prefixlen: 24, scope: 'global' },
          { family: 'inet6', local: '2001:db8::11', prefixlen: 64, scope: 'global' },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
        ],
      },
      { ifname: 'eth0', addr_info: [] },
    ]);
    expect(parseIpAddrJson(json)).toEqual({ addresses: ['192.0.2.11/24', '2001:db8::11/64'], interfaces: ['eth0', 'lo', 'vmbr0'] });
  });
});
