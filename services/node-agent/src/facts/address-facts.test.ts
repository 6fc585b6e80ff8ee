/**
 * Node facts from rtnetlink in a network namespace this test creates and removes: the first
 * dump, then addresses and interfaces added and removed, seen through notifications (no `ip`
 * child, no polling). Skipped (with the reason printed) when not root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { LinkAddressTable } from '@palisade/nft-netlink';
import { SILENT_LOGGER, SYSTEM_CLOCK } from '@palisade/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNodeDocuments } from '../compile/node-compiler.js';
import { createAddressFacts, factsFromTable, type AddressFacts, type AddressFactsSource } from './address-facts.js';

const NS = `paf${process.pid}`;
const sh = (...argv: string[]): string => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
const why = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : undefined;
if (why) console.warn(`address facts kernel tests skipped: ${why}`);

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('factsFromTable', () => {
  it('keeps global addresses off loopback, in interface order, and every interface name', () => {
    const t = new LinkAddressTable();
    const ev = (kind: 'link' | 'address', x: object) => ({ kind, op: 'new', seq: 0, dumpInterrupted: false, [kind === 'link' ? 'link' : 'address']: x }) as never;
    t.apply([
      ev('link', { index: 3, name: 'vmbr0', flags: 1 }),
      ev('link', { index: 1, name: 'lo', flags: 9 }),
      ev('link', { index: 2, name: 'eth0', flags: 1 }),
      ev('address', { index: 3, family: 6, address: '2001:db8::11', prefix: 64, scope: 0, flags: 0 }),
      ev('address', { index: 3, family: 6, address: 'fe80::1', prefix: 64, scope: 253, flags: 0 }),
      ev('address', { index: 3, family: 4, address: '192.0.2.11', prefix: 24, scope: 0, flags: 0 }),
      ev('address', { index: 1, family: 4, address: '127.0.0.1', prefix: 8, scope: 254, flags: 0 }),
      ev('address', { index: 1, family: 4, address: '127.0.0.2', prefix: 8, scope: 0, flags: 0 }),
    ]);
    expect(factsFromTable(t)).toEqual({ addresses: ['192.0.2.11/24', '2001:db8::11/64'], interfaces: ['eth0', 'lo', 'vmbr0'] });
  });
});

describe.skipIf(why !== undefined)('address facts from rtnetlink in a namespace', () => {
  let facts: AddressFactsSource | undefined;
  const changes: AddressFacts[] = [];
  beforeAll(async () => {
    sh('ip', 'netns', 'add', NS);
    sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', NS, 'link', 'add', 'vmbr0', 'type', 'bridge');
    sh('ip', '-n', NS, 'link', 'set', 'vmbr0', 'up');
    sh('ip', '-n', NS, 'addr', 'add', '192.0.2.11/24', 'dev', 'vmbr0');
    facts = createAddressFacts({ netns: NS, clock: SYSTEM_CLOCK, logger: SILENT_LOGGER, onChange: (f) => changes.push(f) });
    await facts.start();
  });
  afterAll(async () => {
    await facts?.close();
    execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });

  it('reads the namespace at start', () => {
    expect(facts!.current).toEqual({ addresses: ['192.0.2.11/24'], interfaces: ['lo', 'vmbr0'] });
  });

  it('an address added and removed changes the facts through notifications', async () => {
    const before = changes.length;
    sh('ip', '-n', NS, 'addr', 'add', '198.51.100.7/25', 'dev', 'vmbr0');
    await waitFor('the new address', () => facts!.current.addresses.includes('198.51.100.7/25'));
    expect(changes.length).toBeGreaterThan(before);
    sh('ip', '-n', NS, 'addr', 'add', '2001:db8:7::7/48', 'dev', 'vmbr0', 'nodad');
    await waitFor('the IPv6 address', () => facts!.current.addresses.includes('2001:db8:7::7/48'));
    expect(facts!.current.addresses).toEqual(['192.0.2.11/24', '198.51.100.7/25', '2001:db8:7::7/48']);
    sh('ip', '-n', NS, 'addr', 'del', '198.51.100.7/25', 'dev', 'vmbr0');
    await waitFor('the address gone', () => !facts!.current.addresses.includes('198.51.100.7/25'));
    expect(changes.at(-1)).toEqual(facts!.current);
  });

  it("the node's address change moves the compiled local_network", async () => {
    const localNetwork = (): string | undefined => {
      const documents = new Map([['firewall/cluster.fw', Buffer.from('[OPTIONS]\nenable: 1\n')]]);
      const out = compileNodeDocuments({ node: 'pve1', documents, facts: facts!.current, nowMs: 0, logGroup: 7401 });
      return out.ok ? out.compiled.topology.localNetwork : `refused: ${out.refusal.message}`;
    };
    expect(localNetwork()).toBe('192.0.2.0/24');
    sh('ip', '-n', NS, 'addr', 'del', '192.0.2.11/24', 'dev', 'vmbr0');
    sh('ip', '-n', NS, 'addr', 'add', '198.51.100.130/25', 'dev', 'vmbr0');
    await waitFor('the new host address', () => facts!.current.addresses[0] === '198.51.100.130/25' && !facts!.current.addresses.includes('192.0.2.11/24'));
    expect(localNetwork()).toBe('198.51.100.128/25');
    sh('ip', '-n', NS, 'addr', 'del', '198.51.100.130/25', 'dev', 'vmbr0');
    sh('ip', '-n', NS, 'addr', 'add', '192.0.2.11/24', 'dev', 'vmbr0');
    await waitFor('the address back', () => facts!.current.addresses[0] === '192.0.2.11/24');
  });

  it('an interface created and deleted changes the facts, with its addresses', async () => {
    sh('ip', '-n', NS, 'link', 'add', 'tap100i0', 'type', 'veth', 'peer', 'name', 'fwln100i0');
    await waitFor('the new interfaces', () => facts!.current.interfaces.includes('tap100i0') && facts!.current.interfaces.includes('fwln100i0'));
    sh('ip', '-n', NS, 'addr', 'add', '203.0.113.5/24', 'dev', 'tap100i0');
    await waitFor('its address', () => facts!.current.addresses.includes('203.0.113.5/24'));
    sh('ip', '-n', NS, 'link', 'del', 'tap100i0');
    await waitFor('the interfaces gone', () => !facts!.current.interfaces.includes('tap100i0') && !facts!.current.interfaces.includes('fwln100i0'));
    expect(facts!.current.addresses).not.toContain('203.0.113.5/24');
    expect(facts!.resyncs).toBe(0);
  });

  it('notifications lost to a receive-buffer overrun are recovered by a fresh dump', async () => {
    // A second source with a small buffer; its reader is stopped (SIGSTOP, by its PID) while
    // 200 addresses come and go, so the kernel drops notifications (ENOBUFS) for it.
    const small = createAddressFacts({ netns: NS, clock: SYSTEM_CLOCK, logger: SILENT_LOGGER, onChange: () => undefined, recvBufferBytes: 4096 });
    await small.start();
    const pid = small.readerPid!;
    const batch = (op: 'add' | 'del', n: number): string => Array.from({ length: n }, (_, i) => `addr ${op} 10.77.${i >> 8}.${(i & 0xff) + 1}/32 dev vmbr0`).join('\n') + '\n';
    try {
      process.kill(pid, 'SIGSTOP');
      execFileSync('ip', ['-n', NS, '-batch', '-'], { input: batch('add', 200), timeout: 10_000 });
      execFileSync('ip', ['-n', NS, '-batch', '-'], { input: batch('del', 100), timeout: 10_000 });
      process.kill(pid, 'SIGCONT');
      const want = Array.from({ length: 100 }, (_, i) => `10.77.0.${i + 101}/32`);
      const ours = (): string[] => small.current.addresses.filter((a) => a.startsWith('10.77.'));
      await waitFor('the addresses after the overrun', () => small.resyncs > 0 && ours().join() === want.join()).catch(() => undefined);
      expect({ resynced: small.resyncs > 0, addresses: ours() }).toEqual({ resynced: true, addresses: want });
    } finally {
      process.kill(pid, 'SIGCONT');
      await small.close();
      spawnSync('ip', ['-n', NS, '-force', '-batch', '-'], { input: batch('del', 200), timeout: 10_000, stdio: ['pipe', 'ignore', 'ignore'] });
    }
  });
});
