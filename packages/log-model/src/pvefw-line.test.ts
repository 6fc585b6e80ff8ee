import { describe, expect, it } from 'vitest';
import { LogModelError, PVEFW_LINE_MAX_BYTES, formatLossLine, formatPvefwLine, formatPvefwTime } from './index.js';
import { SAMPLE_LOSS, SAMPLE_PACKET } from './test-entries.js';

describe('pvefw-logger line', () => {
  it('prints the line exactly as pvefw-logger does, in the given zone', () => {
    expect(formatPvefwLine(SAMPLE_PACKET, 'Europe/Berlin')).toBe(
      '0 6 PVEFW-HOST-IN 03/Feb/2025:10:15:42 +0100 DROP: IN=vmbr0 MAC=aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:08:00 SRC=198.51.100.9 DST=192.0.2.5 LEN=60 TOS=0x00 PREC=0x00 TTL=51 ID=1234 DF PROTO=TCP SPT=40000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 SYN ',
    );
  });

  it('prints the policy verdict and guest id', () => {
    const line = formatPvefwLine({ ...SAMPLE_PACKET, vmid: 100, chain: 'tap100i0-IN', verdict: 'policy DROP', level: 4 }, 'UTC');
    expect(line.startsWith('100 4 tap100i0-IN 03/Feb/2025:09:15:42 +0000 policy DROP: IN=')).toBe(true);
  });

  it('formats time zones with their offsets, summer time and half hours included', () => {
    const t = (iso: string): number => Date.parse(iso) * 1000;
    expect(formatPvefwTime(t('2025-07-01T12:00:00.999Z'), 'Europe/Berlin')).toBe('01/Jul/2025:14:00:00 +0200');
    expect(formatPvefwTime(t('2025-01-01T00:30:00Z'), 'America/New_York')).toBe('31/Dec/2024:19:30:00 -0500');
    expect(formatPvefwTime(t('2025-03-01T00:00:00Z'), 'Asia/Kolkata')).toBe('01/Mar/2025:05:30:00 +0530');
    expect(formatPvefwTime(t('2025-03-01T00:00:00Z'), 'America/St_Johns')).toBe('28/Feb/2025:20:30:00 -0330');
    expect(formatPvefwTime(t('2024-02-29T23:59:59.5Z'), 'UTC')).toBe('29/Feb/2024:23:59:59 +0000');
  });

  it('uses the local zone when none is given', () => {
    const local = formatPvefwTime(SAMPLE_PACKET.timeUs);
    const d = new Date(SAMPLE_PACKET.timeUs / 1000);
    const off = -d.getTimezoneOffset();
    const zone = `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}${String(Math.abs(off) % 60).padStart(2, '0')}`;
    expect(local.endsWith(` ${zone}`)).toBe(true);
    expect(local.slice(0, 2)).toBe(String(d.getDate()).padStart(2, '0'));
  });

  it('refuses an unknown time zone', () => {
    expect(() => formatPvefwTime(0, 'Mars/Olympus')).toThrow(LogModelError);
  });

  it('cuts lines at 508 bytes, never inside a character', () => {
    const long = formatPvefwLine({ ...SAMPLE_PACKET, packet: 'A'.repeat(600) }, 'UTC');
    expect(long.length).toBe(PVEFW_LINE_MAX_BYTES);
    expect(long.endsWith('A')).toBe(true);
    const prefixBytes = formatPvefwLine({ ...SAMPLE_PACKET, packet: '' }, 'UTC').length;
    // A two-byte character straddling byte 508 is left out whole.
    const straddle = formatPvefwLine({ ...SAMPLE_PACKET, packet: 'A'.repeat(PVEFW_LINE_MAX_BYTES - prefixBytes - 1) + 'é' }, 'UTC');
    expect(new TextEncoder().encode(straddle).length).toBe(PVEFW_LINE_MAX_BYTES - 1);
    expect(straddle.endsWith('A')).toBe(true);
    const exact = formatPvefwLine({ ...SAMPLE_PACKET, packet: 'A'.repeat(PVEFW_LINE_MAX_BYTES - prefixBytes) }, 'UTC');
    expect(exact.length).toBe(PVEFW_LINE_MAX_BYTES);
  });

  it('prints loss entries as status lines', () => {
    expect(formatLossLine(SAMPLE_LOSS, 'UTC')).toBe(
      '0 4 - 03/Feb/2025:09:16:00 +0000 lost 42 log entries on pve1 between 03/Feb/2025:09:15:50 +0000 and 03/Feb/2025:09:15:59 +0000 (kernel-sequence-gap)',
    );
  });
});
