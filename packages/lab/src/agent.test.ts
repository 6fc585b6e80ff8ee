/**
 * Kernel test of what the agent's probes observe for packets a namespace sends itself when its
 * own output hook drops or rejects them — the facts the lab's classification rests on:
 * - UDP: sendmsg fails with EPERM for DROP and REJECT alike; a REJECT's ICMP error is then
 *   delivered to the connected socket (ECONNREFUSED for port-unreachable, EHOSTUNREACH for
 *   IPv4 host-prohibited, EACCES for IPv6 admin-prohibited), a DROP's never comes;
 * - TCP: a reset makes connect fail with ECONNREFUSED; a dropped SYN is silence;
 * - to a multicast destination the kernel sends no ICMP error, so REJECT is silence too.
 * Also: a timed-out TCP probe leaves no socket behind (no SYN retransmits into later cases),
 * and a missing `ping` is an error with code ENOENT, not a timeout.
 * Namespaces are created and removed by this test; skips without root or the lab's tools.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespaceAgent } from './agent.js';
import { ipBatch, labPrerequisites, run } from './exec.js';

const why = await labPrerequisites();
if (why) console.warn(`lab agent tests skipped: ${why}`);

const A = `plx-agent-${process.pid}-a`;
const B = `plx-agent-${process.pid}-b`;

const RULES = `table inet t {
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport 7001 meta nfproto ipv4 reject with icmp type port-unreachable
    udp dport 7001 meta nfproto ipv6 reject with icmpv6 type port-unreachable
    udp dport 7002 drop
    udp dport 7003 meta nfproto ipv4 reject with icmp type host-prohibited
    udp dport 7003 meta nfproto ipv6 reject with icmpv6 type admin-prohibited
    tcp dport 7001 reject with tcp reset
    tcp dport 7002 drop
  }
}
`;

describe.skipIf(why !== undefined)('agent probes from a namespace whose output hook drops or rejects', () => {
  let agent: NamespaceAgent;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', A]);
    await run('ip', ['netns', 'add', B]);
    await ipBatch(A, [
      'link set lo up',
      `link add eth0 type veth peer name eth0 netns ${B}`,
      'addr add 10.99.0.1/24 dev eth0',
      'addr add fd99::1/64 dev eth0 nodad',
      'link set eth0 up',
      'route add 224.0.0.0/4 dev eth0',
      'route add ff05::/16 dev eth0',
    ]);
    await ipBatch(B, ['link set lo up', 'addr add 10.99.0.2/24 dev eth0', 'addr add fd99::2/64 dev eth0 nodad', 'link set eth0 up']);
    await run('ip', ['netns', 'exec', A, 'nft', '-f', '-'], { input: RULES });
    agent = new NamespaceAgent(A);
  });
  afterAll(async () => {
    await agent?.close();
    await run('ip', ['netns', 'del', A], { check: false });
    await run('ip', ['netns', 'del', B], { check: false });
  });

  const probe = async (proto: 'udp' | 'tcp', family: 4 | 6, dport: number, dst?: string): Promise<string | undefined> => {
    const r = await agent.request(`${proto}-probe`, { src: family === 4 ? '10.99.0.1' : 'fd99::1', dst: dst ?? (family === 4 ? '10.99.0.2' : 'fd99::2'), sport: 45000 + dport, dport, family, timeoutMs: 400 });
    return r.result ?? `error ${r.error}`;
  };

  for (const family of [4, 6] as const) {
    it(`IPv${family}: UDP REJECT is the ICMP error, UDP DROP is EPERM and nothing else`, async () => {
      expect(await probe('udp', family, 7001)).toBe('ECONNREFUSED');
      expect(await probe('udp', family, 7003)).toBe(family === 4 ? 'EHOSTUNREACH' : 'EACCES');
      expect(await probe('udp', family, 7002)).toBe('EPERM');
    });
    it(`IPv${family}: TCP REJECT is the reset (ECONNREFUSED), TCP DROP is silence`, async () => {
      expect(await probe('tcp', family, 7001)).toBe('ECONNREFUSED');
      expect(await probe('tcp', family, 7002)).toBe('timeout');
    });
    it(`IPv${family}: REJECT of UDP to a multicast destination sends no ICMP error`, async () => {
      expect(await probe('udp', family, 7001, family === 4 ? '239.1.1.1' : 'ff05::1:3')).toBe('EPERM');
    });
  }

  it('a timed-out TCP probe leaves no connecting socket behind', async () => {
    expect(await probe('tcp', 4, 7002)).toBe('timeout');
    const ss = await run('ip', ['netns', 'exec', A, 'ss', '-Htan', 'state', 'syn-sent']);
    expect(ss.stdout.trim()).toBe('');
  });

  it('ping missing is an error with code ENOENT, not a timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-lab-noping-'));
    try {
      symlinkSync((await run('sh', ['-c', 'command -v ip'])).stdout.trim(), join(dir, 'ip'));
      const noPing = new NamespaceAgent(A, { env: { PATH: dir } });
      try {
        const r = await noPing.request('ping', { src: '10.99.0.1', dst: '10.99.0.2', family: 4, timeoutMs: 1000 });
        expect(r.result).toBeUndefined();
        expect(r.code).toBe('ENOENT');
      } finally {
        await noPing.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
