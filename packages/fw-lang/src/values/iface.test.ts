import { describe, expect, it } from 'vitest';
import { guestNicIndex, isGuestNicName, isValidIfaceName } from './iface.js';

describe('interface names', () => {
  it('accepts pve-iface names', () => {
    for (const n of ['eth0', 'vmbr0', 'bond0.100', 'eth0:1', 'ENP3S0', 'ab', 'a_b', `a${'b'.repeat(20)}`]) {
      expect(isValidIfaceName(n), n).toBe(true);
    }
  });

  it('rejects others', () => {
    for (const n of ['a', '0eth', 'eth-0', 'eth0.', 'eth0.x', `a${'b'.repeat(21)}`, '', 'eth0 ', 'eth0.1.2', 'net0+']) {
      expect(isValidIfaceName(n), n).toBe(false);
    }
  });

  it('recognises guest NIC keys', () => {
    expect(isGuestNicName('net0')).toBe(true);
    expect(isGuestNicName('net31')).toBe(true);
    expect(isGuestNicName('NET0')).toBe(false);
    expect(isGuestNicName('net')).toBe(false);
    expect(isGuestNicName('eth0')).toBe(false);
    expect(guestNicIndex('net12')).toBe(12);
    expect(guestNicIndex('net')).toBeUndefined();
  });
});
