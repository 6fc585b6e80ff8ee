import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { NlmFlags, NlmsgType } from './constants.js';
import {
  createNetlinkStreamDecoder,
  decodeAck,
  decodeAttributes,
  decodeNetlinkMessages,
  decodeSetElemMessage,
  type NetlinkMessage,
} from './decode.js';
import { INTERVAL_OPEN_USERDATA, intervalElements, planSetElementMessages, type IntervalSetChange } from './elements.js';
import { encodeSetElemBatch, type SetElemMessage } from './encode.js';
import * as fx from './test-fixtures.js';

const hex = (h: string): Uint8Array => {
  const b = fromHex(h);
  if (!b) throw new TypeError(`bad fixture hex`);
  return b;
};
const v4 = (a: string): bigint => a.split('.').reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
const iv4 = (from: string, to = from) => ({ family: 4 as const, from: v4(from), to: v4(to) });
const v6 = (groups: number[]): bigint => groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n);

function encodeOk(messages: SetElemMessage[], options: Parameters<typeof encodeSetElemBatch>[1]) {
  const r = encodeSetElemBatch(messages, options);
  if (!r.ok) throw new TypeError(r.error);
  return r.value;
}

function messagesOf(bytes: Uint8Array): NetlinkMessage[] {
  const r = decodeNetlinkMessages(bytes);
  if (!r.ok) throw new TypeError(r.error);
  return r.value;
}

/** The element messages of nft's golden batches, rebuilt from intervals with our planner. */
const plan = (c: Partial<IntervalSetChange>): SetElemMessage[] =>
  planSetElementMessages([{ family: 'inet', table: 'palisade', set: 's4', removed: [], added: [], ...c }]);

describe('golden bytes: what nft 1.0.6 sends', () => {
  it('NEWSETELEM of ipv4 intervals (start + INTERVAL_END at end+1)', () => {
    const [m] = plan({ added: [iv4('10.9.9.9'), iv4('192.168.1.0', '192.168.1.255')] });
    const b = encodeOk([{ ...(m as SetElemMessage), setId: 1 }], { seq: 0, ack: false });
    expect(toHex(b.bytes)).toBe(fx.NFT_ADD4_HEX);
    expect(b.messages.map((x) => [x.seq, x.kind])).toEqual([[0, 'begin'], [1, 'add'], [2, 'end']]);
    expect(b.ackSeqs).toEqual([]);
  });

  it('DELSETELEM (no SET_ID, no NLM_F_CREATE; order as given)', () => {
    const msgs = planSetElementMessages([{ family: 'inet', table: 'palisade', set: 's4', removed: [iv4('192.168.1.0', '192.168.1.255'), iv4('10.9.9.9')], added: [] }]);
    expect(toHex(encodeOk(msgs, { seq: 0, ack: false }).bytes)).toBe(fx.NFT_DEL4_HEX);
  });

  it('an interval up to 255.255.255.255 has no end element and carries INTERVAL_OPEN user data', () => {
    const [m] = plan({ added: [iv4('255.255.255.0', '255.255.255.255')] });
    expect(m?.elements).toEqual([{ key: Uint8Array.of(255, 255, 255, 0), userdata: INTERVAL_OPEN_USERDATA }]);
    expect(toHex(encodeOk([{ ...(m as SetElemMessage), setId: 1 }], { seq: 0, ack: false }).bytes)).toBe(fx.NFT_ADD4MAX_HEX);
  });

  it('ipv6 intervals (nft also sends an INTERVAL_END at :: into an empty set; the kernel does not need it)', () => {
    const [m] = plan({
      set: 's6',
      added: [
        { family: 6, from: v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), to: v6([0x2001, 0xdb8, 0, 0, 0xffff, 0xffff, 0xffff, 0xffff]) },
        { family: 6, from: v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1]), to: v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 5]) },
      ],
    });
    const withZeroEnd: SetElemMessage = { ...(m as SetElemMessage), setId: 2, elements: [{ key: new Uint8Array(16), flags: 1 }, ...(m as SetElemMessage).elements] };
    expect(toHex(encodeOk([withZeroEnd], { seq: 0, ack: false }).bytes)).toBe(fx.NFT_ADD6_HEX);
  });

  it('with acks requested, only NLM_F_ACK differs and the sequence starts where asked', () => {
    const msgs = plan({ added: [iv4('10.10.10.10')] });
    const b = encodeOk(msgs, { seq: 100 });
    expect(toHex(b.bytes)).toBe(fx.OUR_ADD_BATCH_HEX);
    expect(b.ackSeqs).toEqual([101]);
    const [, elem] = messagesOf(b.bytes);
    expect(elem?.flags).toBe(NlmFlags.REQUEST | NlmFlags.CREATE | NlmFlags.ACK);
  });
});

describe('kernel answers', () => {
  it('decodes a success ack (capped echo)', () => {
    const [m, ...rest] = messagesOf(hex(fx.KERNEL_ACK_HEX));
    expect(rest).toEqual([]);
    expect(m?.type).toBe(NlmsgType.ERROR);
    const a = decodeAck(m as NetlinkMessage);
    expect(a).toMatchObject({ ok: true, value: { errno: 0, request: { seq: 101, type: 0x0a0c, len: 88 } } });
  });

  it('decodes an ENOENT error echoing the request', () => {
    const [m] = messagesOf(hex(fx.KERNEL_ENOENT_HEX));
    const a = decodeAck(m as NetlinkMessage);
    expect(a).toMatchObject({ ok: true, value: { errno: 2, request: { seq: 101, len: 92 } } });
    // the echoed request decodes as the element message that failed
    const echoed = messagesOf((m as NetlinkMessage).payload.subarray(4));
    expect(decodeSetElemMessage(echoed[0] as NetlinkMessage)).toMatchObject({ ok: true, value: { op: 'add', table: 'palisade', set: 'nosuch' } });
  });

  it('decodes extended-ack TLVs (message and offset)', () => {
    // NLMSG_ERROR, flags ACK_TLVS|CAPPED, error -EINVAL, capped request header, MSG "bad key", OFFS 36
    const text = Array.from(new TextEncoder().encode('bad key\0'), (x) => x.toString(16).padStart(2, '0')).join('');
    const body = 'eaffffff' + '580000000c0a05046500000000000000' + '0c000100' + text + '0800020024000000';
    const len = 16 + body.length / 2;
    const header = len.toString(16).padStart(2, '0') + '000000' + '0200' + '0003' + '65000000' + '00000000';
    const [m] = messagesOf(hex(header + body));
    expect(decodeAck(m as NetlinkMessage)).toEqual({
      ok: true,
      value: { errno: 22, request: { len: 0x58, type: 0x0a0c, flags: 0x0405, seq: 0x65, pid: 0 }, message: 'bad key', offset: 36 },
    });
  });

  it('refuses non-error messages and positive error codes', () => {
    expect(decodeAck({ type: 3, flags: 0, seq: 0, pid: 0, payload: new Uint8Array(20) }).ok).toBe(false);
    const p = new Uint8Array(20);
    p[0] = 1;
    expect(decodeAck({ type: NlmsgType.ERROR, flags: 0, seq: 0, pid: 0, payload: p }).ok).toBe(false);
  });
});

const ALL_FIXTURES = [fx.NFT_ADD4_HEX, fx.NFT_DEL4_HEX, fx.NFT_ADD4MAX_HEX, fx.NFT_ADD6_HEX, fx.OUR_ADD_BATCH_HEX, fx.KERNEL_ACK_HEX, fx.KERNEL_ENOENT_HEX];

describe('round trips', () => {
  it('every golden batch decodes to element messages that encode to the same bytes', () => {
    for (const h of [fx.NFT_ADD4_HEX, fx.NFT_DEL4_HEX, fx.NFT_ADD4MAX_HEX, fx.NFT_ADD6_HEX, fx.OUR_ADD_BATCH_HEX]) {
      const msgs = messagesOf(hex(h));
      expect(msgs[0]?.type).toBe(0x10);
      expect(msgs.at(-1)?.type).toBe(0x11);
      const elems = msgs.slice(1, -1).map((m) => {
        const d = decodeSetElemMessage(m);
        if (!d.ok) throw new TypeError(d.error);
        return d.value;
      });
      const ack = (msgs[1]?.flags ?? 0) & NlmFlags.ACK ? true : false;
      expect(toHex(encodeOk(elems, { seq: msgs[0]?.seq ?? 0, ack }).bytes)).toBe(h);
    }
  });

  it('interval changes survive encode -> decode (ipv4, ipv6, open-ended, split lists)', () => {
    const added = Array.from({ length: 3000 }, (_, i) => iv4(`10.${i >> 8}.${i & 255}.0`, `10.${i >> 8}.${i & 255}.127`));
    const changes: IntervalSetChange[] = [
      { family: 'inet', table: 't', set: 'a', removed: [iv4('1.2.3.4')], added },
      { family: 'inet', table: 't', set: 'b6', removed: [], added: [{ family: 6, from: 1n, to: (1n << 128n) - 1n }, { family: 6, from: 0n, to: 0n }] },
    ];
    const planned = planSetElementMessages(changes);
    expect(planned.map((m) => [m.op, m.set])).toEqual([['delete', 'a'], ['add', 'a'], ['add', 'a'], ['add', 'b6']]);
    const b = encodeOk(planned, { seq: 7 });
    const decoded = messagesOf(b.bytes).slice(1, -1).map((m) => decodeSetElemMessage(m));
    expect(decoded.map((d) => (d.ok ? d.value : d.error))).toEqual(planned);
    // back to intervals: pairs of start / end elements
    const adds = planned.filter((m) => m.set === 'a' && m.op === 'add').flatMap((m) => m.elements);
    expect(adds).toEqual(added.flatMap(intervalElements));
  });

  it('refuses what the kernel would refuse, as results', () => {
    const e = (m: Partial<SetElemMessage>) => encodeSetElemBatch([{ op: 'add', family: 'inet', table: 't', set: 's', elements: [{ key: new Uint8Array(4) }], ...m }]);
    expect(e({ table: '' })).toMatchObject({ ok: false });
    expect(e({ set: 'x'.repeat(256) })).toMatchObject({ ok: false });
    expect(e({ family: 'nope' as 'inet' })).toMatchObject({ ok: false });
    expect(e({ elements: [] })).toMatchObject({ ok: false });
    expect(e({ elements: Array.from({ length: 5000 }, () => ({ key: new Uint8Array(4) })) })).toMatchObject({ ok: false });
    expect(e({})).toMatchObject({ ok: true });
  });
});

describe('split at every position', () => {
  it('a stream cut anywhere reassembles to the same messages', () => {
    for (const h of ALL_FIXTURES) {
      const bytes = hex(h);
      const whole = messagesOf(bytes);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const d = createNetlinkStreamDecoder();
        const a = d.push(bytes.subarray(0, cut));
        const b = d.push(bytes.subarray(cut));
        if (!a.ok || !b.ok) throw new TypeError(`cut ${cut}: ${a.ok ? '' : a.error} ${b.ok ? '' : b.error}`);
        expect([...a.value, ...b.value]).toEqual(whole);
        expect(d.pendingBytes).toBe(0);
      }
    }
  });

  it('a datagram truncated anywhere is refused or decodes to whole messages, never throws', () => {
    for (const h of ALL_FIXTURES) {
      const bytes = hex(h);
      const whole = messagesOf(bytes);
      for (let cut = 0; cut < bytes.length; cut++) {
        const r = decodeNetlinkMessages(bytes.subarray(0, cut));
        if (r.ok) expect(whole.slice(0, r.value.length).map((m) => m.seq)).toEqual(r.value.map((m) => m.seq));
        else expect(r.offset).toBeLessThanOrEqual(cut);
      }
      for (const m of whole) {
        // every message payload cut anywhere: the element and ack decoders fail cleanly
        for (let c = 0; c < m.payload.length; c++) {
          const part = { ...m, payload: m.payload.subarray(0, c) };
          const r = m.type === NlmsgType.ERROR ? decodeAck(part) : m.type > 0x11 ? decodeSetElemMessage(part) : decodeAttributes(part.payload);
          expect(typeof r.ok).toBe('boolean');
        }
      }
    }
  });

  it('enforces size limits', () => {
    const bytes = hex(fx.NFT_ADD6_HEX);
    expect(decodeNetlinkMessages(bytes, { maxBytes: 100 })).toMatchObject({ ok: false });
    expect(decodeNetlinkMessages(bytes, { maxItems: 2 })).toMatchObject({ ok: false });
    const d = createNetlinkStreamDecoder({ maxPendingBytes: 64 });
    expect(d.push(bytes.subarray(0, 20))).toMatchObject({ ok: true });
    expect(d.push(bytes.subarray(20, 40))).toMatchObject({ ok: false });
    // a bogus length is refused, not waited for
    expect(createNetlinkStreamDecoder().push(Uint8Array.of(4, 0, 0, 0, ...new Uint8Array(12)))).toMatchObject({ ok: false });
  });
});
