import type { AddrInterval, NamedSet } from '@palisade/fw-compile';
import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { encodedIntervalSetElements, encodedRule, encodeExpressions } from './encoded-message.js';
import { elementMessages, namedSetElements } from './nft-lower.js';
import * as E from './nft-expr.js';
import { encodeNftBatch, newRule, type NftMessage } from './nft-messages.js';
import { NftCmpOp, NftMetaKey, NftVerdictCode } from './nft-constants.js';

const batchHex = (msgs: readonly NftMessage[]): string => {
  const r = encodeNftBatch(msgs, { ack: 'none' });
  if (!r.ok) throw new TypeError(r.error);
  return toHex(r.value.bytes);
};
const v4 = (a: number, b: number): AddrInterval => ({ family: 4, from: BigInt(a), to: BigInt(b) });
const v6 = (a: bigint, b: bigint): AddrInterval => ({ family: 6, from: a, to: b });

describe('encoded set elements', () => {
  const cases: [string, NamedSet][] = [
    ['v4 with a leading gap and an open end', { name: 'a', family: 4, kind: 'interval', elements: [v4(10, 10), v4(0x0a000000, 0x0affffff), v4(0xffffff00, 0xffffffff)] }],
    ['v4 from address 0', { name: 'b', family: 4, kind: 'interval', elements: [v4(0, 255), v4(1000, 2000)] }],
    ['v6', { name: 'c', family: 6, kind: 'interval', elements: [v6(0x20010db8n << 96n, (0x20010db8n << 96n) + 0xffffn), v6(1n << 127n, (1n << 128n) - 1n)] }],
    // several messages: each list must stay within one attribute
    ['v6, 5,000 intervals', { name: 'd', family: 6, kind: 'interval', elements: Array.from({ length: 5000 }, (_, i) => v6(BigInt(i * 4 + 2) << 64n, (BigInt(i * 4 + 2) << 64n) + 7n)) }],
    ['v4, 9,000 intervals', { name: 'e', family: 4, kind: 'interval', elements: Array.from({ length: 9000 }, (_, i) => v4(i * 4 + 1, i * 4 + 2)) }],
    ['empty', { name: 'f', family: 4, kind: 'interval', elements: [] }],
  ];
  for (const [label, set] of cases) {
    it(`${label}: the bytes of the attribute tree`, () => {
      for (const id of [7, undefined]) {
        const tree = elementMessages('inet', 'palisade', set.name, id, namedSetElements(set));
        const direct = encodedIntervalSetElements('inet', 'palisade', set, id);
        expect(direct.length).toBe(tree.length);
        expect(direct.map((m) => m.what)).toEqual(tree.map((m) => m.what));
        if (tree.length > 0) expect(batchHex(direct)).toBe(batchHex(tree));
      }
    });
  }
});

describe('encoded rules', () => {
  const exprs = [E.metaLoad(NftMetaKey.L4PROTO), E.cmp(NftCmpOp.EQ, Uint8Array.of(6)), E.verdict(NftVerdictCode.JUMP, 'guest-100-IN')];
  for (const comment of [undefined, '', 'x', 'abc', 'firewall/100.fw:12 ÄÖÜ ☃ 😀', 'c'.repeat(200)]) {
    it(`comment ${JSON.stringify(comment?.slice(0, 20))}: the bytes of newRule`, () => {
      const enc = encodeExpressions(exprs);
      if (!enc) throw new TypeError('expressions too long');
      const udata = comment === undefined ? undefined : Uint8Array.from([0, (new TextEncoder().encode(comment).length + 1) & 0xff, ...new TextEncoder().encode(comment), 0]);
      const origin = { path: 'firewall/100.fw', line: 12 };
      const a = encodedRule('inet', 'palisade', 'PVEFW-FWBR-IN', enc, comment, origin);
      const b = newRule('inet', 'palisade', 'PVEFW-FWBR-IN', exprs, udata, origin);
      expect(batchHex([a])).toBe(batchHex([b]));
      expect(a.what).toBe(b.what);
      expect(a.origin).toEqual(origin);
      expect(a.attrs.map((x) => x.type)).toEqual(b.attrs.map((x) => x.type));
    });
  }

  it('leaves expressions too long for one attribute to the tree (the encoder names the rule)', () => {
    const many = Array.from({ length: 2000 }, () => E.cmp(NftCmpOp.EQ, new Uint8Array(16)));
    expect(encodeExpressions(many)).toBeUndefined();
  });
});
