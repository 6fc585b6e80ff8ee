import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../codec/bytes.js';
import { NFULNL_PACKET_TYPE, NfulaAttr, decodeNflogDatagram, encodeNflogConfig, nflogSetup, nflogUnbind } from './nflog-codec.js';
import { describePayload, formatPacketText } from './packet-text.js';

/** A netlink attribute (host-order header, value padded). */
function nla(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array((4 + value.length + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint16(0, 4 + value.length, true);
  v.setUint16(2, type, true);
  out.set(value, 4);
  return out;
}
const be32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
};
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
/** One NFULNL_MSG_PACKET message as the kernel builds it (`__build_packet_message`). */
function packetMessage(o: { group: number; family: number; seq?: number; prefix: string; payload: Uint8Array; indev?: number; timestamp?: [number, number]; mark?: number; hwHeader?: Uint8Array }): Uint8Array {
  const ts = new Uint8Array(16);
  if (o.timestamp) {
    new DataView(ts.buffer).setBigUint64(0, BigInt(o.timestamp[0]), false);
    new DataView(ts.buffer).setBigUint64(8, BigInt(o.timestamp[1]), false);
  }
  const attrs = cat(
    nla(NfulaAttr.PACKET_HDR, Uint8Array.of(0x08, 0x00, 1, 0)),
    o.mark ? nla(NfulaAttr.MARK, be32(o.mark)) : new Uint8Array(0),
    o.timestamp ? nla(NfulaAttr.TIMESTAMP, ts) : new Uint8Array(0),
    o.indev ? nla(NfulaAttr.IFINDEX_INDEV, be32(o.indev)) : new Uint8Array(0),
    o.hwHeader ? cat(nla(NfulaAttr.HWTYPE, Uint8Array.of(0, 1)), nla(NfulaAttr.HWLEN, Uint8Array.of(0, o.hwHeader.length)), nla(NfulaAttr.HWHEADER, o.hwHeader)) : new Uint8Array(0),
    nla(NfulaAttr.PREFIX, new TextEncoder().encode(`${o.prefix}\0`)),
    o.seq !== undefined ? nla(NfulaAttr.SEQ, be32(o.seq)) : new Uint8Array(0),
    nla(NfulaAttr.PAYLOAD, o.payload),
  );
  const body = cat(Uint8Array.of(o.family, 0, o.group >> 8, o.group & 0xff), attrs);
  const hdr = new Uint8Array(16);
  const v = new DataView(hdr.buffer);
  v.setUint32(0, 16 + body.length, true);
  v.setUint16(4, NFULNL_PACKET_TYPE, true);
  return cat(hdr, body);
}
const DONE = Uint8Array.of(20, 0, 0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const SYN = Uint8Array.from(Buffer.from('4500002810e1400040060000c6336409c00002059c40001600000001000000005002faf000000000', 'hex'));

describe('NFLOG config messages', () => {
  it('encodes bind, copy mode and flags as libnetfilter_log does', () => {
    // nlmsghdr(len 28, type 0x0401, flags REQUEST|ACK, seq 7) nfgenmsg(AF_UNSPEC, v0, res_id 7401 be) CFG_CMD(BIND)
    expect(toHex(encodeNflogConfig(7401, { kind: 'cmd', cmd: 1 }, 7))).toBe('1c000000010405000700000000000000' + '00001ce9' + '05000100' + '01000000');
    // CFG_MODE: be32 copy range 256, u8 PACKET, pad (packed, 6 bytes; nla_len 10)
    expect(toHex(encodeNflogConfig(7401, { kind: 'mode', copyMode: 2, copyRange: 256 }, 8)).slice(40)).toBe('0a000200' + '00000100' + '0200' + '0000');
    expect(toHex(encodeNflogConfig(1, { kind: 'flags', flags: 1 }, 9)).slice(40)).toBe('06000600' + '0001' + '0000');
    expect(toHex(nflogUnbind(5, 3)).slice(32)).toBe('00000005' + '05000100' + '02000000');
    const setup = nflogSetup(7401);
    expect(setup.map((m) => new DataView(m.buffer).getUint32(8, true))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(setup.map((m) => new DataView(m.buffer).getUint16(22, true))).toEqual([1, 2, 6, 3, 5, 4]); // CMD MODE FLAGS NLBUFSIZ QTHRESH TIMEOUT
  });
});

describe('NFLOG packet messages', () => {
  const msg = packetMessage({ group: 7401, family: 2, seq: 41, prefix: ':100:6:tap100i0-IN: DROP: RULE=0123456789ab ', payload: SYN, indev: 4, timestamp: [1738574142, 123456], mark: 5, hwHeader: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0) });

  it('decodes every attribute the log line needs, several messages and NLMSG_DONE in one datagram', () => {
    const d = decodeNflogDatagram(cat(msg, msg, DONE));
    expect(d.errors).toEqual([]);
    expect(d.packets).toHaveLength(2);
    const p = d.packets[0]!;
    expect(p).toMatchObject({ group: 7401, family: 2, hwProtocol: 0x0800, hook: 1, mark: 5, indev: 4, outdev: 0, seq: 41, prefix: ':100:6:tap100i0-IN: DROP: RULE=0123456789ab ', timestampUs: 1738574142123456, hwType: 1 });
    expect([...p.payload]).toEqual([...SYN]);
    expect(formatPacketText(p, (i) => (i === 4 ? 'veth0' : undefined)).text).toBe(`IN=veth0 MAC=01:02:03:04:05:06:07:08:09:0a:0b:0c:08:00 ${describePayload(2, 0, SYN).text}mark=5 `);
  });

  it('reads acks of config messages', () => {
    const ack = Uint8Array.from(Buffer.from('24000000020000000700000000000000' + 'f0ffffff' + '18000000010405000700000000000000', 'hex'));
    const acks = decodeNflogDatagram(ack).acks;
    expect(acks.map((a) => [a.errno, a.request.seq])).toEqual([[16, 7]]);
  });

  it('counts and skips what it cannot read, at every cut of a valid datagram', () => {
    const whole = cat(msg, msg);
    for (let cut = 0; cut < whole.length; cut++) {
      const d = decodeNflogDatagram(whole.subarray(0, cut));
      expect(d.packets.length + (cut === msg.length || cut === 0 ? 0 : 1)).toBeLessThanOrEqual(2);
      if (cut > 0 && cut !== msg.length) expect(d.errors.length).toBeGreaterThan(0);
      if (cut >= msg.length) expect(d.packets.length).toBe(1);
    }
  });

  it('refuses datagrams over the size limit', () => {
    expect(decodeNflogDatagram(cat(msg, msg), { maxBytes: msg.length }).errors[0]).toMatch(/exceeds the limit/);
    expect(decodeNflogDatagram(cat(msg, msg, msg), { maxPackets: 2 }).packets).toHaveLength(2);
  });

  it('never throws on random bytes, random cuts or random corruption (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const d = decodeNflogDatagram(bytes);
        for (const p of d.packets) formatPacketText(p, () => undefined);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat(msg.length), fc.array(fc.tuple(fc.nat(msg.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (cut, flips) => {
        const b = Uint8Array.from(msg);
        for (const [at, v] of flips) b[at] = v;
        const d = decodeNflogDatagram(b.subarray(0, cut));
        for (const p of d.packets) expect(typeof formatPacketText(p, () => undefined).text).toBe('string');
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 200 }), (family, hw, payload) => {
        expect(typeof describePayload(family, hw, payload).text).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });
});
