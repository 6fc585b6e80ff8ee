import { describe, expect, it } from 'vitest';
import { NET_IP_GOLDEN } from './net-ip.golden.js';
import { parseAddressList } from './ip.js';

describe('parseAddressList against Perl Net::IP (golden cases)', () => {
  for (const g of NET_IP_GOLDEN) {
    it(JSON.stringify(g.input), () => {
      const r = parseAddressList(g.input);
      if (g.deviation === true) {
        expect(r).toEqual({ ok: false, message: expect.stringMatching(/^invalid IP address: Invalid prefix length \//) as unknown });
        return;
      }
      if (g.error !== undefined) {
        const expected = g.error === 'invalid IP address: STALE' ? `invalid IP address: Invalid IP address ${g.input}` : g.error;
        expect(r).toEqual({ ok: false, message: expected });
        return;
      }
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.version).toBe(g.version);
      const items = g.items ?? [];
      expect(r.items).toHaveLength(items.length);
      r.items.forEach((item, i) => {
        const want = items[i];
        if (want === undefined) return;
        if (item.kind === 'range') {
          expect(item.from.address.toString()).toBe(want.begin);
          expect(item.to.address.toString()).toBe(want.end);
        } else {
          expect(item.cidr.address.toString()).toBe(want.begin);
          expect(item.cidr.prefixLength).toBe(want.prefixlen);
          const bits = item.cidr.version === 4 ? 32 : 128;
          const last = item.cidr.address | ((1n << BigInt(bits - item.cidr.prefixLength)) - 1n);
          expect(last.toString()).toBe(want.end);
        }
      });
    });
  }
});
