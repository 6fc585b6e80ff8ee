import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../codec/bytes.js';
import { LinkAddressTable } from './link-address-table.js';
import { IfFlag, RtScope, RtmType, decodeRouteDatagram, encodeRouteDump, type RouteDatagram } from './rtnetlink-codec.js';

// Captured from the kernel (Linux 6.18) by a NETLINK_ROUTE socket subscribed to links and
// addresses in a scratch namespace: lo up, bridge vmbr0 up with 192.0.2.10/24 and
// 2001:db8::10/64; the dump answers, then the notifications of `ip addr add 198.51.100.7/25 dev
// vmbr0`, `ip link add tap100i0 type veth peer name tap100i0p`, `ip addr add 2001:db8:1::7/48 dev
// tap100i0`, `ip addr del 198.51.100.7/25 dev vmbr0`, `ip link del tap100i0`.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/kernel-6-namespace.json', import.meta.url), 'utf8')) as Record<string, string[] | string>;
const datagrams = (name: string): Uint8Array[] => (fixture[name] as string[]).map((h) => fromHex(h)!);
const decodeAll = (name: string): RouteDatagram[] => datagrams(name).map((d) => decodeRouteDatagram(d));
const events = (name: string) => decodeAll(name).flatMap((d) => d.events);

describe('rtnetlink codec', () => {
  it('encodes the dump requests iproute2 sends (ifinfomsg / ifaddrmsg of AF_UNSPEC)', () => {
    expect(Buffer.from(encodeRouteDump(RtmType.GETLINK, 1)).toString('hex')).toBe('20000000120001030100000000000000' + '00'.repeat(16));
    expect(Buffer.from(encodeRouteDump(RtmType.GETADDR, 7)).toString('hex')).toBe('18000000160001030700000000000000' + '00'.repeat(8));
  });

  it('decodes the kernel dump of links and addresses', () => {
    const links = decodeAll('dump-link');
    expect(links.flatMap((d) => d.errors)).toEqual([]);
    expect(links.flatMap((d) => d.dumpsDone)).toEqual([{ seq: 1, interrupted: false }]);
    const l = links.flatMap((d) => d.events).map((e) => (e.kind === 'link' ? { op: e.op, index: e.link.index, name: e.link.name, up: (e.link.flags & IfFlag.UP) !== 0, seq: e.seq } : e));
    expect(l).toEqual([
      { op: 'new', index: 1, name: 'lo', up: true, seq: 1 },
      { op: 'new', index: 2, name: 'vmbr0', up: true, seq: 1 },
    ]);
    const addrs = decodeAll('dump-addr');
    expect(addrs.flatMap((d) => d.errors)).toEqual([]);
    expect(addrs.flatMap((d) => d.dumpsDone)).toEqual([{ seq: 2, interrupted: false }]);
    const a = addrs.flatMap((d) => d.events).map((e) => (e.kind === 'address' ? `${e.op} ${e.address.index} ${e.address.address}/${e.address.prefix} scope ${e.address.scope}` : e.kind));
    expect(a).toContain('new 1 127.0.0.1/8 scope 254');
    expect(a).toContain('new 2 192.0.2.10/24 scope 0');
    expect(a).toContain('new 1 ::1/128 scope 254');
    expect(a).toContain('new 2 2001:db8::10/64 scope 0');
    expect(a.some((s) => /^new 2 fe80::[0-9a-f:]+\/64 scope 253$/.test(s))).toBe(true);
  });

  it('decodes the notifications of address and link changes', () => {
    expect(events('addr-add-v4').map((e) => e.kind === 'address' && `${e.op} ${e.address.address}/${e.address.prefix} ${e.address.label}`)).toEqual(['new 198.51.100.7/25 vmbr0']);
    const linkAdd = events('link-add').filter((e) => e.kind === 'link');
    expect(linkAdd.map((e) => e.kind === 'link' && `${e.op} ${e.link.name}`).sort()).toEqual(['new tap100i0', 'new tap100i0p']);
    expect(events('addr-add-v6').map((e) => e.kind === 'address' && `${e.op} ${e.address.family} ${e.address.address}/${e.address.prefix} scope ${e.address.scope}`)).toEqual(['new 6 2001:db8:1::7/48 scope 0']);
    expect(events('addr-del-v4').some((e) => e.kind === 'address' && e.op === 'del' && e.address.address === '198.51.100.7')).toBe(true);
    expect(events('link-del').some((e) => e.kind === 'link' && e.op === 'del' && e.link.name === 'tap100i0')).toBe(true);
  });

  it('follows the whole capture into the table ip addr show would print', () => {
    const t = new LinkAddressTable();
    for (const name of ['dump-link', 'dump-addr', 'addr-add-v4', 'link-add', 'addr-add-v6']) t.apply(events(name));
    expect(t.links().map((l) => l.name).sort()).toEqual(['lo', 'tap100i0', 'tap100i0p', 'vmbr0']);
    const global = (): string[] => t.addresses().filter((a) => a.scope === RtScope.UNIVERSE).map((a) => `${a.ifname} ${a.address}/${a.prefix}`);
    expect(global()).toEqual(['vmbr0 192.0.2.10/24', 'vmbr0 198.51.100.7/25', 'vmbr0 2001:db8::10/64', 'tap100i0 2001:db8:1::7/48']);
    t.apply(events('addr-del-v4'));
    t.apply(events('link-del'));
    expect(global()).toEqual(['vmbr0 192.0.2.10/24', 'vmbr0 2001:db8::10/64']);
    expect(t.links().map((l) => l.name)).toEqual(['lo', 'vmbr0']);
  });

  it('a resync replaces the table with the dump, dropping what lost notifications removed', () => {
    const t = new LinkAddressTable();
    for (const name of ['dump-link', 'dump-addr', 'link-add', 'addr-add-v6']) t.apply(events(name));
    expect(t.links()).toHaveLength(4);
    // tap100i0 went away while the socket overran: only a fresh dump says so
    t.beginResync();
    // still queued before the dump: older than it, so not taken into the fresh table
    t.apply(events('link-add'));
    t.dumpRequested(1);
    t.apply(events('dump-link'));
    t.dumpRequested(2);
    t.apply(events('dump-addr'));
    t.endResync();
    expect(t.links().map((l) => l.name)).toEqual(['lo', 'vmbr0']);
    expect(t.addresses().some((a) => a.address === '2001:db8:1::7')).toBe(false);
  });

  it("during a resync, a notification after its kind's dump began goes into the fresh table", () => {
    const t = new LinkAddressTable();
    t.beginResync();
    t.dumpRequested(1);
    t.apply(events('dump-link'));
    t.apply(events('link-add')); // newer than the link dump
    t.dumpRequested(2);
    t.apply(events('dump-addr'));
    t.endResync();
    expect(t.links().map((l) => l.name).sort()).toEqual(['lo', 'tap100i0', 'tap100i0p', 'vmbr0']);
  });

  it('is total: random bytes, truncations and bit flips of kernel datagrams never throw', () => {
    const all = Object.keys(fixture).filter((k) => k !== 'captured').flatMap(datagrams);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (bytes) => {
        const d = decodeRouteDatagram(bytes);
        for (const e of d.errors) expect(e).toMatch(/\S/);
        // anything shorter than one header is named, never silently dropped
        if (bytes.length > 0 && bytes.length < 16) expect(d.errors).toHaveLength(1);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat(all.length - 1), fc.nat(4000), fc.array(fc.tuple(fc.nat(4000), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (which, cut, flips) => {
        const src = all[which]!;
        const b = Uint8Array.from(src.subarray(0, Math.min(cut, src.length)));
        for (const [at, value] of flips) if (b.length > 0) b[at % b.length] = value;
        const d = decodeRouteDatagram(b);
        for (const e of d.events) {
          if (e.kind === 'address') expect(e.address.prefix).toBeLessThanOrEqual(e.address.family === 4 ? 32 : 128);
          else expect(e.link.name.length).toBeLessThanOrEqual(15);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes every kernel datagram split at every position into whole messages or a named error', () => {
    for (const d of datagrams('dump-addr')) {
      const whole = decodeRouteDatagram(d);
      for (let cut = 0; cut < d.length; cut++) {
        const part = decodeRouteDatagram(d.subarray(0, cut));
        expect(part.events.length).toBeLessThanOrEqual(whole.events.length);
        if (cut > 0) expect(part.errors.length + part.events.length + part.dumpsDone.length).toBeGreaterThan(0);
      }
    }
  });

  it('applies its size limits', () => {
    const d = datagrams('dump-addr')[0]!;
    expect(decodeRouteDatagram(d, { maxBytes: 10 }).errors[0]).toMatch(/exceeds the limit of 10/);
    const limited = decodeRouteDatagram(d, { maxEvents: 1 });
    expect(limited.events).toHaveLength(1);
    expect(limited.errors[0]).toMatch(/more than 1 link and address messages/);
  });
});
