/**
 * Golden packet decodes: every fixture's text is what pvefw-logger's own print functions wrote
 * for the same bytes (see the fixture's comment), so this checks the text byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../codec/bytes.js';
import { formatIpv6 } from './inet-ntop.js';
import { describePayload, formatPacketText } from './packet-text.js';

interface Fixture {
  readonly name: string;
  readonly family: number;
  readonly hwProtocol: number;
  readonly payload: string;
  readonly text: string;
}
const fixtures = (JSON.parse(readFileSync(new URL('./fixtures/pvefw-packets.json', import.meta.url), 'utf8')) as { cases: Fixture[] }).cases;

describe('pvefw-logger packet text', () => {
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const payload = fromHex(f.payload) ?? new Uint8Array(0);
    expect(describePayload(f.family, f.hwProtocol, payload).text).toBe(f.text);
  });

  it('extracts the structured fields an entry indexes', () => {
    const byName = new Map(fixtures.map((f) => [f.name, f]));
    const fields = (name: string) => {
      const f = byName.get(name)!;
      return describePayload(f.family, f.hwProtocol, fromHex(f.payload)!).fields;
    };
    expect(fields('ipv4 tcp syn df')).toEqual({ family: 4, proto: 'tcp', src: '198.51.100.9', dst: '192.0.2.5', len: 40, sport: 40000, dport: 22, tcpFlags: ['SYN'] });
    expect(fields('ipv6 udp')).toMatchObject({ family: 6, proto: 'udp', src: 'fe80::1', dst: 'ff02::1:2', sport: 546, dport: 547 });
    expect(fields('ipv6 hop-by-hop mld')).toMatchObject({ family: 6, proto: 'icmpv6', icmpType: 143, icmpCode: 0 });
    // The true type and code, although pvefw-logger's text reads them `CODE` bytes further on.
    expect(fields('ipv6 icmpv6 unreachable code 4 (pvefw-logger skews by the code)')).toMatchObject({ proto: 'icmpv6', icmpType: 1, icmpCode: 4 });
    expect(fields('ipv4 icmp echo request')).toMatchObject({ proto: 'icmp', icmpType: 8, icmpCode: 0 });
    expect(fields('bridge arp reply')).toMatchObject({ family: 'arp', proto: 'arp', src: '10.0.0.1', dst: '10.0.0.2' });
    expect(fields('ipv4 gre (number)')).toMatchObject({ proto: '47' });
    expect(fields('ipv4 tcp cut')).toMatchObject({ proto: 'tcp', invalid: 'LEN' });
    expect(fields('ipv4 ihl beyond capture')).toMatchObject({ invalid: 'IHL' });
  });

  it('prints interfaces, the link-layer header and the mark around the layer-3 part', () => {
    const f = fixtures[0]!;
    const names = new Map([[2, 'vmbr0'], [7, 'tap100i0']]);
    const out = formatPacketText(
      { family: 7, hwProtocol: 0x0800, mark: 0x04000000, indev: 2, outdev: 2, physindev: 9, physoutdev: 7, hwHeader: Uint8Array.of(0xbc, 0x24, 0x11, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 8, 0), payload: fromHex(f.payload)! },
      (i) => names.get(i),
    );
    expect(out.text).toBe(`IN=vmbr0 OUT=vmbr0 PHYSIN=9 PHYSOUT=tap100i0 MAC=bc:24:11:00:00:01:aa:bb:cc:dd:ee:ff:08:00 ${f.text}mark=67108864 `);
    expect(formatPacketText({ family: 2, hwProtocol: 0, mark: 0, indev: 0, outdev: 3, physindev: 0, physoutdev: 0, payload: new Uint8Array(0) }, () => undefined).text).toBe('OUT=3 LEN=0 INVALID=LEN ');
  });

  it('writes IPv6 addresses as glibc inet_ntop does', () => {
    const a = (s: string) => fromHex(s)!;
    expect(formatIpv6(a('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIpv6(a('00000000000000000000ffffc0000205'))).toBe('::ffff:192.0.2.5');
    expect(formatIpv6(a('000000000000000000000000c0000205'))).toBe('::192.0.2.5');
    expect(formatIpv6(a('20010db8000000000001000000000001'))).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(a('20010db8000000010001000100010001'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIpv6(a('fe800000000000000000000000000000'))).toBe('fe80::');
  });
});

describe('where pvefw-logger reads past the captured bytes', () => {
  it('reports the cut header instead of reading on (an extension header longer than the capture)', () => {
    // IPv6, next header routing (43) claiming 8 bytes, only 4 captured, then SCTP
    const hdr = fromHex(`6000000000042b40${'20010db8000000000000000000000009'}${'20010db8000100000000000000000005'}84000100`)!;
    expect(describePayload(10, 0, hdr).text).toBe('SRC=2001:db8::9 DST=2001:db8:1::5 LEN=4 TC=0 FLOWLBL=0 HOPLIMIT=64 TYPE=1 SEGMENTS=0PROTO=SCTP LEN=-4 INVALID=LEN ');
  });
});
