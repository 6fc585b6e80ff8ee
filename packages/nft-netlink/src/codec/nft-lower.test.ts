import { describe, expect, it } from 'vitest';
import { aNest, aStr, aU32, decodeAttrTree, writeAttrs, attrsBytes, type Attr } from './attrs.js';
import { fromHex, toHex } from './bytes.js';
import { createNetlinkStreamDecoder, decodeNetlinkMessages, type NetlinkMessage } from './decode.js';
import { createSetIdAllocator, lowerFullReplace, lowerRule, lowerStagedLoad } from './nft-lower.js';
import { chunkMessages, encodeNftBatch, newTable, type NftMessage } from './nft-messages.js';
import { PROBE_BATCH_HEX } from './test-probe-batch.js';
import { PROBE_OWN_TABLES, PROBE_RULES, PROBE_RULESET } from './test-probe.js';

const hex = (h: string): Uint8Array => {
  const b = fromHex(h);
  if (!b) throw new TypeError('bad hex');
  return b;
};

function messageHex(bytes: Uint8Array): string[] {
  const d = decodeNetlinkMessages(bytes);
  if (!d.ok) throw new TypeError(d.error);
  const out: string[] = [];
  let at = 0;
  for (const m of d.value) {
    const len = 16 + m.payload.length;
    out.push(toHex(bytes.subarray(at, at + len)));
    at += (len + 3) & ~3;
  }
  return out;
}

function encode(messages: readonly NftMessage[], options: Parameters<typeof encodeNftBatch>[1] = { ack: 'none' }) {
  const r = encodeNftBatch(messages, options);
  if (!r.ok) throw new TypeError(r.error);
  return r.value;
}

const ours = messageHex(encode(lowerFullReplace(PROBE_RULESET.tables, PROBE_OWN_TABLES)).bytes);

describe('golden bytes: the probe ruleset as nft 1.0.6 sends it', () => {
  it('every message of the batch equals nft\'s, byte for byte', () => {
    expect(PROBE_BATCH_HEX.length).toBeGreaterThan(PROBE_RULES.length);
    expect(ours).toEqual(PROBE_BATCH_HEX);
  });

  // One test per expression kind: the rule's messages (anonymous sets first) are found in nft's batch.
  const noSeq = (h: string): string => h.slice(0, 16) + h.slice(24);
  const theirs = new Set(PROBE_BATCH_HEX.map(noSeq));
  for (const [what, rule] of PROBE_RULES) {
    it(what, () => {
      const ids = createSetIdAllocator(1000);
      const msgs = lowerRule('inet', 'palisade', 'c1', rule, { ids, newSets: new Map([['inet/palisade/s4', 1], ['inet/palisade/m4', 3], ['inet/palisade/m6', 4]]) });
      const rulesOnly = msgs.filter((m) => m.msg === 6);
      for (const h of messageHex(encode(rulesOnly).bytes).slice(1, -1)) {
        // anonymous set IDs differ from the batch's; the rule messages without them must match
        if (!h.includes('5f5f7365742564') && !h.includes('5f5f6d61702564')) expect(theirs.has(noSeq(h))).toBe(true);
      }
    });
  }
});

describe('batch encoding', () => {
  it('acks only the last message by default, all or none on request; seqs count up', () => {
    const msgs = [newTable('inet', 'a'), newTable('inet', 'b'), newTable('bridge', 'c')];
    expect(encode(msgs, { seq: 10 }).ackSeqs).toEqual([13]);
    expect(encode(msgs, { seq: 10, ack: 'all' }).ackSeqs).toEqual([11, 12, 13]);
    const b = encode(msgs, { seq: 10 });
    expect(b.messages.map((m) => [m.seq, m.kind])).toEqual([[10, 'begin'], [11, 'object'], [12, 'object'], [13, 'object'], [14, 'end']]);
    expect(b.messages[3]).toMatchObject({ what: 'add table bridge c', family: 'bridge' });
  });

  it('carries the generation in BATCH_BEGIN (NFNL_BATCH_GENID, be32)', () => {
    const b = encode([newTable('inet', 'a')], { genId: 0x01020304 });
    const [begin] = decodeNetlinkMessages(b.bytes).ok ? (decodeNetlinkMessages(b.bytes) as { value: NetlinkMessage[] }).value : [];
    expect(toHex(begin?.payload ?? new Uint8Array())).toBe('0000000a' + '08000100' + '01020304');
  });

  it('refuses what the kernel would refuse, as results', () => {
    expect(encodeNftBatch([{ ...newTable('inet', 'a'), family: 'nope' as 'inet' }])).toMatchObject({ ok: false });
    expect(encodeNftBatch([newTable('inet', 'x'.repeat(300))])).toMatchObject({ ok: false, error: expect.stringMatching(/name of 300 bytes/) as unknown });
    const big: Attr = aNest(1, Array.from({ length: 9000 }, () => aU32(1, 0)));
    expect(encodeNftBatch([{ ...newTable('inet', 'a'), attrs: [big] }])).toMatchObject({ ok: false, error: expect.stringMatching(/65535/) as unknown });
  });
});

describe('decoding', () => {
  const batch = hex(PROBE_BATCH_HEX.join(''));
  const whole = decodeNetlinkMessages(batch);

  it('every golden message decodes to an attribute tree that encodes to the same bytes', () => {
    if (!whole.ok) throw new TypeError(whole.error);
    for (const m of whole.value) {
      const t = decodeAttrTree(m.payload.subarray(4));
      if (!t.ok) throw new TypeError(t.error);
      const out = new Uint8Array(attrsBytes(t.value));
      writeAttrs(out, 0, t.value);
      expect(toHex(out)).toBe(toHex(m.payload.subarray(4)));
    }
  });

  it('a stream cut at every position reassembles to the same messages', () => {
    if (!whole.ok) throw new TypeError(whole.error);
    for (let cut = 0; cut <= batch.length; cut += 1) {
      const d = createNetlinkStreamDecoder();
      const a = d.push(batch.subarray(0, cut));
      const b = d.push(batch.subarray(cut));
      if (!a.ok || !b.ok) throw new TypeError(`cut ${cut}`);
      expect(a.value.length + b.value.length).toBe(whole.value.length);
    }
  });

  it('a message payload truncated anywhere is refused or decodes, never throws', () => {
    if (!whole.ok) throw new TypeError(whole.error);
    for (const m of whole.value) {
      const p = m.payload.subarray(4);
      for (let c = 0; c < p.length; c++) {
        const r = decodeAttrTree(p.subarray(0, c));
        expect(typeof r.ok).toBe('boolean');
      }
    }
  });

  it('enforces depth and size limits', () => {
    const deep: Attr = [1, 2, 3, 4, 5].reduce<Attr>((inner) => aNest(1, [inner]), aStr(1, 'x'));
    const b = new Uint8Array(attrsBytes([deep]));
    writeAttrs(b, 0, [deep]);
    expect(decodeAttrTree(b, new Set(), { maxDepth: 3 })).toMatchObject({ ok: false, error: expect.stringMatching(/deeper/) as unknown });
    expect(decodeAttrTree(b, new Set(), { maxAttrs: 3 })).toMatchObject({ ok: false, error: expect.stringMatching(/too many/) as unknown });
    expect(decodeAttrTree(b)).toMatchObject({ ok: true });
  });
});

describe('staged first load (larger than one datagram)', () => {
  it('keeps hooks out of the inert part, splits within the limit, never separates a rule from its anonymous sets', () => {
    const { inert, live } = lowerStagedLoad(PROBE_RULESET.tables);
    expect(inert.some((m) => m.what.startsWith('add chain') && m.attrs.some((a) => a.type === 4))).toBe(false);
    expect(live.filter((m) => m.msg === 3).map((m) => m.what)).toEqual(['add chain inet palisade INPUT', 'add chain inet palisade PRE', 'add chain bridge palisade PORT-MARK']);
    const chunks = chunkMessages(inert, 2048);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.flat()).toEqual(inert);
    for (const c of chunks) {
      const last = c.at(-1) as NftMessage;
      expect(last.what.includes('__set%d') || last.what.includes('anonymous')).toBe(false);
      if (c.length > 1) expect(encode(c, { ack: 'none', genId: 1 }).bytes.length).toBeLessThanOrEqual(2048);
    }
  });
});

describe('rules that lower alike', () => {
  it('share their encoded expressions within a batch, with the bytes of rules lowered one by one', () => {
    const inet = PROBE_RULESET.tables[0] as NonNullable<(typeof PROBE_RULESET.tables)[number]>;
    const copies = inet.chains.filter((c) => !c.base).map((c) => ({ ...c, name: `${c.name}-copy`, rules: c.rules.map((r) => ({ ...r, comment: 'another comment' })) }));
    const chains = [...inet.chains, ...copies];
    const cache = new Map<string, Uint8Array>();
    const lowerAll = (exprCache?: Map<string, Uint8Array>) => {
      const ctx = { ids: createSetIdAllocator(1000), newSets: new Map<string, number>(), ...(exprCache ? { exprCache } : {}) };
      return chains.flatMap((c) => c.rules.map((r) => lowerRule('inet', inet.name, c.name, r, ctx)).flat());
    };
    const shared = encodeNftBatch(lowerAll(cache), { ack: 'none' });
    const alone = encodeNftBatch(lowerAll(), { ack: 'none' });
    if (!shared.ok || !alone.ok) throw new TypeError('encode failed');
    expect(toHex(shared.value.bytes)).toBe(toHex(alone.value.bytes));
    // every copied rule without an anonymous set found its original's expressions
    const rules = chains.reduce((n, c) => n + c.rules.length, 0);
    expect(cache.size).toBeGreaterThan(0);
    expect(cache.size).toBeLessThanOrEqual(rules - copies.reduce((n, c) => n + c.rules.length, 0));
  });

  it('encode a rule to the bytes of its attribute tree', () => {
    const msgs = lowerFullReplace(PROBE_RULESET.tables, PROBE_OWN_TABLES);
    const tree = msgs.map((m) => ({ msg: m.msg, family: m.family, flags: m.flags, attrs: m.attrs, what: m.what }));
    const a = encodeNftBatch(msgs, { ack: 'none' });
    const b = encodeNftBatch(tree, { ack: 'none' });
    if (!a.ok || !b.ok) throw new TypeError('encode failed');
    expect(msgs.some((m) => m.body !== undefined)).toBe(true);
    expect(toHex(a.value.bytes)).toBe(toHex(b.value.bytes));
  });
});
