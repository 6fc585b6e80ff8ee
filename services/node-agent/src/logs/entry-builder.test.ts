import { validateLogEntry } from '@palisade/log-model';
import type { NflogPacket } from '@palisade/nft-netlink';
import { describe, expect, it } from 'vitest';
import { buildPacketEntry, directionOfChain, guestOfDevice } from './entry-builder.js';
import { RuleMap } from './rule-map.js';
import { SequenceGaps } from './sequence-gaps.js';

const SYN = Uint8Array.from(Buffer.from('4500002810e1400040060000c6336409c00002059c40001600000001000000005002faf000000000', 'hex'));
const names = new Map([[2, 'vmbr0'], [5, 'fwbr100i0'], [7, 'tap100i0'], [9, 'fwpr100p0']]);
const packet = (o: Partial<NflogPacket>): NflogPacket => ({ group: 7401, family: 2, hwProtocol: 0x0800, hook: 1, mark: 0, indev: 0, outdev: 0, physindev: 0, physoutdev: 0, payload: SYN, ...o });
const ctx = { node: 'pve1', id: 'pve1:abc:1', nowUs: 1_700_000_000_000_000, ifname: (i: number) => names.get(i), rule: (id: string) => (id === '0123456789ab' ? { path: 'firewall/cluster.fw', line: 12, text: 'IN ACCEPT -p tcp -dport 22' } : undefined) };

describe('log entries from NFLOG packets', () => {
  it('names a security-group hit after the guest it protected (pvefw-logger says vmid 0) and its rule', () => {
    const e = buildPacketEntry(packet({ prefix: ':0:6:GROUP-web-IN: ACCEPT: RULE=0123456789ab ', indev: 5, outdev: 5, physindev: 9, physoutdev: 7, timestampUs: 1_738_574_142_000_000 }), ctx);
    expect(e).toMatchObject({ vmid: 100, level: 6, chain: 'GROUP-web-IN', verdict: 'ACCEPT', action: 'ACCEPT', isPolicy: false, direction: 'in', ruleId: '0123456789ab', rule: { line: 12 }, iif: 'fwbr100i0', physIn: 'fwpr100p0', physOut: 'tap100i0', timeUs: 1_738_574_142_000_000 });
    expect(e.packet.startsWith('IN=fwbr100i0 OUT=fwbr100i0 PHYSIN=fwpr100p0 PHYSOUT=tap100i0 SRC=198.51.100.9 ')).toBe(true);
    expect(validateLogEntry(e)).toBeTruthy();
  });

  it('reads policy verdicts, guest chains, receive time without a kernel timestamp, unknown devices by number', () => {
    const e = buildPacketEntry(packet({ prefix: ':100:4:tap100i0-OUT: policy DROP: ', indev: 42 }), ctx);
    expect(e).toMatchObject({ vmid: 100, level: 4, verdict: 'policy DROP', action: 'DROP', isPolicy: true, direction: 'out', iif: '42', timeUs: ctx.nowUs });
    expect(e.ruleId).toBeUndefined();
    expect(e.packet.startsWith('IN=42 SRC=')).toBe(true);
  });

  it('takes a foreign prefix as pvefw-logger does (vmid 0, level 6, chain -)', () => {
    const e = buildPacketEntry(packet({ prefix: 'something else: ' }), ctx);
    expect(e).toMatchObject({ vmid: 0, level: 6, chain: '-', verdict: 'something else', action: 'OTHER', direction: 'unknown' });
    expect(validateLogEntry(e)).toBeTruthy();
  });

  it('knows guest devices and chain directions', () => {
    expect([guestOfDevice('tap105i1'), guestOfDevice('veth200i0'), guestOfDevice('fwln100i0'), guestOfDevice('vmbr0'), guestOfDevice(undefined)]).toEqual([105, 200, 100, 0, 0]);
    expect(['PVEFW-HOST-IN', 'PVEFW-HOST-OUT', 'GROUP-web-IN-Q0-3', 'PVEFW-smurflog'].map(directionOfChain)).toEqual(['in', 'out', 'in', 'unknown']);
  });
});

describe('kernel sequence gaps', () => {
  it('counts exactly what is missing between received numbers, across the 32-bit wrap, not after a restart', () => {
    const g = new SequenceGaps();
    expect([0, 1, 2, 10, 11].map((s) => g.observe(s))).toEqual([0, 0, 0, 7, 0]);
    const w = new SequenceGaps();
    expect([0xfffffffe, 0xffffffff, 1].map((s) => w.observe(s))).toEqual([0xfffffffe, 0, 1]);
    expect(w.observe(0)).toBe(0); // behind: a new instance, no loss
  });
});

describe('rule map', () => {
  it('keeps the previous ruleset for entries in flight and reads a restored ruleset text', () => {
    const m = new RuleMap();
    m.update({ text: 'tcp dport 22 log prefix ":0:6:PVEFW-HOST-IN: ACCEPT: RULE=0123456789ab " group 7401 comment "firewall/cluster.fw:12"\n' });
    expect(m.lookup('0123456789ab')).toEqual({ path: 'firewall/cluster.fw', line: 12, text: '' });
    m.update({ text: '' });
    expect(m.lookup('0123456789ab')).toEqual({ path: 'firewall/cluster.fw', line: 12, text: '' });
    m.update({ text: '' });
    expect(m.lookup('0123456789ab')).toBeUndefined();
  });
});
