import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  classifyAddressSpec,
  formatIp,
  isIpv4Address,
  isIpv6Address,
  networkOf,
  parseAddressList,
  parseIpCidr,
  parseIpOrCidr,
  parseIpSetEntryToken,
  type IpCidr,
} from './ip.js';

const cidr = (text: string, lenient = false): IpCidr => {
  const r = parseIpCidr(text, { lenient });
  if (r === undefined) throw new TypeError(`test setup: ${text}`);
  return r;
};

describe('parseIpCidr (strict)', () => {
  it('parses IPv4 and IPv6 with optional prefix and keeps the text', () => {
    expect(parseIpCidr('10.0.0.1')).toEqual({ version: 4, address: 0x0a000001n, prefixLength: 32, text: '10.0.0.1' });
    expect(parseIpCidr('10.1.2.3/8')).toEqual({ version: 4, address: 0x0a010203n, prefixLength: 8, text: '10.1.2.3/8' });
    expect(parseIpCidr('2001:DB8::1/64')).toEqual({ version: 6, address: 0x20010db8000000000000000000000001n, prefixLength: 64, text: '2001:DB8::1/64' });
    expect(parseIpCidr('::')?.address).toBe(0n);
    expect(parseIpCidr('::ffff:1.2.3.4')?.address).toBe(0xffff01020304n);
    expect(parseIpCidr('1:2:3:4:5:6:7:8')?.address).toBe(0x00010002000300040005000600070008n);
    expect(parseIpCidr('1:2:3:4:5:6:7::')?.address).toBe(0x00010002000300040005000600070000n);
    expect(parseIpCidr('::2:3:4:5:6:7:8')?.address).toBe(0x00000002000300040005000600070008n);
    expect(parseIpCidr('1::')?.prefixLength).toBe(128);
    expect(parseIpCidr('0.0.0.0/0')?.prefixLength).toBe(0);
  });

  it('rejects the lenient forms, zone ids, bad prefixes and garbage', () => {
    for (const t of ['10', '10.0.0', '10/8', '01.2.3.4', '256.0.0.1', '1.2.3.4/33', '::/129', 'fe80::1%eth0', '1.2.3.4-1.2.3.5', '', '1.2.3.4/', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', ' 1.2.3.4', '1.2.3.4/+8']) {
      expect(parseIpCidr(t), t).toBeUndefined();
    }
  });
});

describe('parseIpCidr (lenient, Net::IP)', () => {
  it('accepts abbreviated IPv4 and leading zeros', () => {
    expect(parseIpCidr('10', { lenient: true })).toEqual({ version: 4, address: 0x0a000000n, prefixLength: 32, text: '10' });
    expect(parseIpCidr('10.0.0', { lenient: true })?.address).toBe(0x0a000000n);
    expect(parseIpCidr('10/8', { lenient: true })).toEqual({ version: 4, address: 0x0a000000n, prefixLength: 8, text: '10/8' });
    expect(parseIpCidr('01.2.3.4', { lenient: true })?.address).toBe(0x01020304n);
    expect(parseIpCidr('0.0.0.0/0', { lenient: true })?.prefixLength).toBe(0);
    expect(parseIpCidr('2001:db8::/32', { lenient: true })?.version).toBe(6);
  });

  it('rejects zone ids, oversize prefixes and ranges', () => {
    for (const t of ['fe80::1%eth0', '10.0.0.0/33', '::/129', '1.2.3.4-1.2.3.5', '300', '1.2.3.4/x', '']) {
      expect(parseIpCidr(t, { lenient: true }), t).toBeUndefined();
    }
  });
});

describe("parseIpCidr (lenient: 'ipv4', the compiler's reading)", () => {
  it('reads IPv4 as Net::IP does and IPv6 in the strict grammar', () => {
    expect(parseIpCidr('10.0.0', { lenient: 'ipv4' })?.address).toBe(0x0a000000n);
    expect(parseIpCidr('010.1/16', { lenient: 'ipv4' })).toEqual({ version: 4, address: 0x0a010000n, prefixLength: 16, text: '010.1/16' });
    // Net::IP refuses seven groups before '::' and reads '::4.4' as ::4.4.0.0; the strict grammar does the opposite.
    expect(parseIpCidr('1:2:3:4:5:6:7::', { lenient: 'ipv4' })?.version).toBe(6);
    expect(parseIpCidr('1:2:3:4:5:6:7::', { lenient: true })).toBeUndefined();
    expect(parseIpCidr('::4.4', { lenient: 'ipv4' })).toBeUndefined();
    expect(parseIpCidr('::4.4', { lenient: true })?.version).toBe(6);
  });
});

describe('address helpers', () => {
  it('formats addresses canonically', () => {
    expect(formatIp(4, 0x0a000001n)).toBe('10.0.0.1');
    expect(formatIp(6, 0n)).toBe('::');
    expect(formatIp(6, 1n)).toBe('::1');
    expect(formatIp(6, 0x20010db8000000000000000000000001n)).toBe('2001:db8::1');
    expect(formatIp(6, 0x20010db8000000010000000000000001n)).toBe('2001:db8:0:1::1');
    expect(formatIp(6, 0x20010db8000100000001000000000000n)).toBe('2001:db8:1:0:1::');
    expect(formatIp(6, 0x00010000000100000001000000010000n)).toBe('1:0:1:0:1:0:1:0');
    expect(formatIp(6, 0x00010002000300040005000600070008n)).toBe('1:2:3:4:5:6:7:8');
  });

  it('computes networks and containment', () => {
    expect(networkOf(cidr('10.1.2.3/8'))).toEqual({ version: 4, address: 0x0a000000n, prefixLength: 8, text: '10.0.0.0/8' });
    expect(networkOf(cidr('2001:db8::1/64')).text).toBe('2001:db8::/64');
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('10.1.0.0/16'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('10.1.2.3'))).toBe(true);
    expect(cidrContains(cidr('10.1.0.0/16'), cidr('10.0.0.0/8'))).toBe(false);
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('11.0.0.1'))).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), cidr('1.2.3.4'))).toBe(true);
    expect(cidrContains(cidr('::/0'), cidr('1.2.3.4'))).toBe(false);
    expect(cidrContains(cidr('10.1.2.3/8'), cidr('10.200.0.0/16'))).toBe(true);
  });

  it('round-trips random addresses through formatIp and parseIpCidr', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        expect(parseIpCidr(formatIp(6, v))?.address).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => {
        expect(parseIpCidr(formatIp(4, v))?.address).toBe(v);
      }),
    );
  });

  it('checks plain addresses', () => {
    expect(isIpv4Address('1.2.3.4')).toBe(true);
    expect(isIpv4Address('1.2.3.4/32')).toBe(false);
    expect(isIpv6Address('fe80::1')).toBe(true);
    expect(isIpv6Address('fe80::1%eth0')).toBe(false);
  });
});

describe('parseAddressList', () => {
  it('parses lists and ranges', () => {
    const r = parseAddressList('10.0.0.1,192.168.0.0/16');
    expect(r.ok && r.version).toBe(4);
    expect(r.ok && r.items.map((i) => (i.kind === 'cidr' ? i.cidr.text : ''))).toEqual(['10.0.0.1', '192.168.0.0/16']);
    const range = parseAddressList('10.0.0.1-10.0.0.9');
    expect(range).toEqual({
      ok: true,
      version: 4,
      items: [
        {
          kind: 'range',
          from: { version: 4, address: 0x0a000001n, prefixLength: 32, text: '10.0.0.1' },
          to: { version: 4, address: 0x0a000009n, prefixLength: 32, text: '10.0.0.9' },
        },
      ],
    });
    expect(parseAddressList('2001:db8::/64').ok).toBe(true);
    expect(parseAddressList('10/8')).toMatchObject({ ok: true, items: [{ kind: 'cidr', cidr: { address: 0x0a000000n, prefixLength: 8, text: '10/8' } }] });
  });

  it('reports the reference messages', () => {
    expect(parseAddressList('1.2.3.4,')).toEqual({ ok: false, message: 'extraneous commas in list' });
    expect(parseAddressList('1.2.3.4,::1')).toEqual({ ok: false, message: "detected mixed ipv4/ipv6 addresses in address list '1.2.3.4,::1'" });
    expect(parseAddressList('1.2.3.4-1.2.3.5,1.2.3.6')).toEqual({ ok: false, message: "you can't use a range in a list" });
    expect(parseAddressList('1.2.3.9-1.2.3.1')).toEqual({
      ok: false,
      message: 'invalid IP address: Begin address is greater than End address 1.2.3.9 - 1.2.3.1',
    });
    expect(parseAddressList('10.0.0.5/24')).toEqual({
      ok: false,
      message: 'invalid IP address: Invalid prefix 00001010000000000000000000000101/24',
    });
    expect(parseAddressList('2001:db8::1/64').ok).toBe(false);
    expect(parseAddressList('10.0.0.0/33')).toEqual({ ok: false, message: 'invalid IP address: Prefix length 33 is longer than IP address (32)' });
    expect(parseAddressList('fe80::1%eth0')).toEqual({ ok: false, message: 'invalid IP address: Invalid IP address fe80::1%eth0' });
    expect(parseAddressList('')).toEqual({ ok: false, message: 'invalid IP address: Invalid chars in IP ' });
    expect(parseAddressList(',1.2.3.4')).toEqual({ ok: false, message: 'invalid IP address: Invalid chars in IP ' });
  });

  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(typeof parseAddressList(s).ok).toBe('boolean');
        parseIpCidr(s);
        parseIpCidr(s, { lenient: true });
        classifyAddressSpec(s);
        parseIpOrCidr(s);
        parseIpSetEntryToken(s);
      }),
      { numRuns: 3000 },
    );
    const pieces = fc.constantFrom('1', '10', '255', '256', '.', ':', '::', '/', '-', ',', 'f', 'ffff', '0', '%', '24', '128');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 20 }).map((a) => a.join('')), (s) => {
        const r = parseAddressList(s);
        if (r.ok) expect(r.items.length).toBeGreaterThan(0);
        parseIpCidr(s, { lenient: true });
        parseIpCidr(s);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('classifyAddressSpec', () => {
  it('recognises IP set references', () => {
    expect(classifyAddressSpec('+mgmt')).toEqual({ kind: 'ipset', name: 'mgmt' });
    expect(classifyAddressSpec('+dc/mgmt')).toEqual({ kind: 'ipset', scope: 'dc', name: 'mgmt' });
    expect(classifyAddressSpec('+guest/x-1')).toEqual({ kind: 'ipset', scope: 'guest', name: 'x-1' });
    expect(classifyAddressSpec('+sdn/vnet1-all')).toEqual({ kind: 'ipset', scope: 'sdn', name: 'vnet1-all' });
    expect(classifyAddressSpec('+1bad')).toEqual({ kind: 'ipset', name: '1bad', error: "invalid ipset name '+1bad'" });
    expect(classifyAddressSpec('+x')).toEqual({ kind: 'ipset', name: 'x', error: "invalid ipset name '+x'" });
    expect(classifyAddressSpec('+foo/bar')).toMatchObject({ kind: 'ipset', error: "invalid ipset name '+foo/bar'" });
    expect(classifyAddressSpec(`+${'a'.repeat(64)}`)).toEqual({ kind: 'ipset', name: 'a'.repeat(64) });
    expect(classifyAddressSpec(`+${'a'.repeat(65)}`)).toEqual({ kind: 'ipset', name: 'a'.repeat(65), error: 'ipset name too long' });
    expect(classifyAddressSpec('+')).toEqual({ kind: 'list' });
  });

  it('recognises alias references', () => {
    expect(classifyAddressSpec('myhost')).toEqual({ kind: 'alias', name: 'myhost' });
    expect(classifyAddressSpec('dc/MyHost')).toEqual({ kind: 'alias', scope: 'dc', name: 'MyHost' });
    expect(classifyAddressSpec('guest/web_1')).toEqual({ kind: 'alias', scope: 'guest', name: 'web_1' });
    // Hex-looking words without colons are alias names, as in the reference.
    expect(classifyAddressSpec('fe80')).toEqual({ kind: 'alias', name: 'fe80' });
    expect(classifyAddressSpec('a'.repeat(64))).toEqual({ kind: 'alias', name: 'a'.repeat(64) });
    expect(classifyAddressSpec('a'.repeat(65))).toEqual({ kind: 'alias', name: 'a'.repeat(65), error: 'alias name too long' });
    expect(classifyAddressSpec(`dc/${'a'.repeat(62)}`)).toMatchObject({ kind: 'alias', error: 'alias name too long' });
  });

  it('treats everything else as a list', () => {
    for (const t of ['10.0.0.1', '10.0.0.0/8,::1', 'fe80::1', 'a', 'DC/x', 'x/y', '1.2.3.4-1.2.3.5']) expect(classifyAddressSpec(t), t).toEqual({ kind: 'list' });
  });
});

describe('parseAliasValue', () => {
  it('normalises /32 and /128 away and keeps everything else', () => {
    expect(parseIpOrCidr('10.0.0.1/32')).toMatchObject({ ok: true, cidr: '10.0.0.1', version: 4 });
    expect(parseIpOrCidr('2001:DB8::1/128')).toMatchObject({ ok: true, cidr: '2001:DB8::1', version: 6 });
    expect(parseIpOrCidr('10.0.0.5/24')).toMatchObject({ ok: true, cidr: '10.0.0.5/24', ip: { prefixLength: 24, address: 0x0a000005n } });
    expect(parseIpOrCidr('1.2.3.4/032')).toMatchObject({ ok: true, cidr: '1.2.3.4/032' });
    expect(parseIpOrCidr('::ffff:10.0.0.1')).toMatchObject({ ok: true, version: 6 });
  });

  it('does not range-check the prefix (the parsed value is then absent)', () => {
    expect(parseIpOrCidr('1.2.3.4/99')).toEqual({ ok: true, cidr: '1.2.3.4/99', version: 4, ip: undefined });
  });

  it('rejects ranges, lists, lenient forms', () => {
    for (const t of ['10', '1.2.3.4-1.2.3.5', '1.2.3.4,1.2.3.5', 'fe80::1%eth0', '01.2.3.4', 'abc', '']) {
      expect(parseIpOrCidr(t), t).toEqual({ ok: false, message: 'value does not look like a valid IP address or CIDR network' });
    }
  });
});

describe('parseIpSetEntryToken', () => {
  it('distinguishes alias references from addresses', () => {
    expect(parseIpSetEntryToken('myalias')).toEqual({ ok: true, kind: 'alias', name: 'myalias', cidr: 'myalias' });
    expect(parseIpSetEntryToken('dc/myalias')).toEqual({ ok: true, kind: 'alias', scope: 'dc', name: 'myalias', cidr: 'dc/myalias' });
    expect(parseIpSetEntryToken('10.0.0.1/32')).toMatchObject({ ok: true, kind: 'address', cidr: '10.0.0.1', version: 4 });
    expect(parseIpSetEntryToken('10.0.0.1/24')).toMatchObject({ ok: true, kind: 'address', cidr: '10.0.0.1/24' });
    expect(parseIpSetEntryToken('2001:db8::/64')).toMatchObject({ ok: true, kind: 'address', version: 6 });
  });

  it('rejects zero prefixes and bad addresses', () => {
    expect(parseIpSetEntryToken('0.0.0.0/0')).toEqual({ ok: false, code: 'FW0605', message: 'a zero prefix is not allowed in ipset entries' });
    expect(parseIpSetEntryToken('::/00')).toEqual({ ok: false, code: 'FW0605', message: 'a zero prefix is not allowed in ipset entries' });
    expect(parseIpSetEntryToken('10.0.0.0/10')).toMatchObject({ ok: true });
    expect(parseIpSetEntryToken('1.2.3.4-1.2.3.5')).toEqual({ ok: false, code: 'FW0603', message: 'value does not look like a valid IP address or CIDR network' });
    expect(parseIpSetEntryToken('1bad')).toMatchObject({ ok: false, code: 'FW0603' });
  });
});
