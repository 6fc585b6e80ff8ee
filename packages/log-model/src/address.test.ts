import { describe, expect, it } from 'vitest';
import { LogModelError, addressBytes, addressInRange, compareBytes, parseAddressRange } from './index.js';

const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('hex') : 'none');

describe('binary addresses', () => {
  it('encodes IPv4 and IPv6 with a family byte', () => {
    expect(hex(addressBytes('192.0.2.5'))).toBe('04c0000205');
    expect(hex(addressBytes('2001:db8::1'))).toBe('0620010db8000000000000000000000001');
    expect(hex(addressBytes('::'))).toBe('06' + '00'.repeat(16));
    expect(hex(addressBytes('::ffff:1.2.3.4'))).toBe('06' + '00'.repeat(10) + 'ffff01020304');
    expect(hex(addressBytes('1:2:3:4:5:6:7:8'))).toBe('060001000200030004000500060007' + '0008');
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.0.0.1', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1', 'host']) {
      expect(addressBytes(bad), bad).toBeUndefined();
    }
  });

  it('orders addresses numerically', () => {
    const sorted = ['10.0.0.2', '10.0.0.10', '9.255.255.255', '10.0.1.0'].map((a) => addressBytes(a)!).sort(compareBytes);
    expect(sorted.map((b) => hex(b))).toEqual(['0409ffffff', '040a000002', '040a00000a', '040a000100']);
  });

  it('turns CIDRs into ranges', () => {
    const r = parseAddressRange('10.1.2.3/16');
    expect([hex(r.first), hex(r.last)]).toEqual(['040a010000', '040a01ffff']);
    expect(addressInRange(addressBytes('10.1.200.7')!, r)).toBe(true);
    expect(addressInRange(addressBytes('10.2.0.0')!, r)).toBe(false);
    expect(addressInRange(addressBytes('2001:db8::1')!, r)).toBe(false);
    const v6 = parseAddressRange('2001:db8::/32');
    expect(addressInRange(addressBytes('2001:db8:ffff::1')!, v6)).toBe(true);
    expect(hex(parseAddressRange('0.0.0.0/0').last)).toBe('04ffffffff');
    expect(hex(parseAddressRange('1.2.3.4').first)).toBe('0401020304');
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '::/129', 'x/8']) expect(() => parseAddressRange(bad)).toThrow(LogModelError);
  });
});
