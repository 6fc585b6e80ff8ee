/**
 * Kernel test of the NFLOG listener: real packets logged by an nft rule in a network namespace
 * this test creates and removes, received through the namespace relay, decoded, and a burst
 * beyond the receive buffer whose losses the sequence numbers count exactly. Skipped (with the
 * reason printed) when not root or `nft` / `ip` are missing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNflogDatagram, type NflogPacket } from '../nflog/nflog-codec.js';
import { formatPacketText } from '../nflog/packet-text.js';
import { openNflogListener } from './nflog-listener.js';
import { kernelTestSkipReason } from './test-kernel.js';

const exec = promisify(execFile);
const why = await kernelTestSkipReason();
if (why) console.warn(`NFLOG kernel tests skipped: ${why}`);
const ns = `plnflog-${process.pid}`;
const GROUP = 7401;
const PREFIX = ':0:6:PVEFW-HOST-OUT: ACCEPT: RULE=0123456789ab ';

/** Sends `count` UDP datagrams to 127.0.0.1:9999 from inside the namespace (one short-lived node). */
async function sendUdp(count: number, port = 9999): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');let n=0;const b=Buffer.from('palisade');(function go(){if(n>=${count}){s.close();return}let k=0;while(n<${count}&&k++<200){s.send(b,${port},'127.0.0.1');n++}setImmediate(go)})()`;
  await exec('ip', ['netns', 'exec', ns, process.execPath, '-e', script]);
}

interface Capture {
  packets: NflogPacket[];
  overruns: number;
  errors: string[];
}
const capture = (): Capture & { onDatagram: (b: Uint8Array) => void; onOverrun: () => void; onError: (e: Error) => void } => {
  const c: Capture = { packets: [], overruns: 0, errors: [] };
  return {
    ...c,
    get packets() {
      return c.packets;
    },
    get overruns() {
      return c.overruns;
    },
    onDatagram: (b) => {
      const d = decodeNflogDatagram(b);
      c.packets.push(...d.packets);
      c.errors.push(...d.errors);
    },
    onOverrun: () => {
      c.overruns++;
    },
    onError: (e) => c.errors.push(e.message),
  };
};

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe.skipIf(why !== undefined)('NFLOG listener in a network namespace (kernel)', () => {
  beforeAll(async () => {
    await exec('ip', ['netns', 'add', ns]);
    await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const rules = `table inet nflogtest {\n chain out {\n  type filter hook output priority 0; policy accept;\n  udp dport 9999 log prefix "${PREFIX}" group ${GROUP}\n }\n}\n`;
    await new Promise<void>((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], (err: Error | null) => (err ? reject(err) : resolve()));
      child.stdin?.end(rules);
    });
  });
  afterAll(async () => {
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('receives each logged packet with its prefix, device, payload and consecutive sequence numbers within a second', async () => {
    const c = capture();
    const listener = await openNflogListener({ group: GROUP, netns: ns, ...c });
    try {
      const started = Date.now();
      await sendUdp(5);
      await until(() => c.packets.length >= 5, 5_000);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(c.errors).toEqual([]);
      expect(c.packets.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4]);
      const p = c.packets[0]!;
      expect(p).toMatchObject({ group: GROUP, family: 2, prefix: PREFIX, outdev: 1 });
      const text = formatPacketText(p, (i) => (i === 1 ? 'lo' : undefined)).text;
      expect(text).toMatch(/^OUT=lo SRC=127\.0\.0\.1 DST=127\.0\.0\.1 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=\d+ DF PROTO=UDP SPT=\d+ DPT=9999 LEN=16$/);
    } finally {
      await listener.close();
    }
  });

  it('a second listener on the same group is refused (the group belongs to the first socket)', async () => {
    const a = await openNflogListener({ group: GROUP, netns: ns, ...capture() });
    try {
      await expect(openNflogListener({ group: GROUP, netns: ns, ...capture() })).rejects.toThrow(/EPERM|EBUSY/);
    } finally {
      await a.close();
    }
  });

  it('counts a burst beyond the receive buffer exactly: received + sequence gaps = sent, and reports ENOBUFS', async () => {
    const c = capture();
    const sent = 3000;
    // A tiny buffer (and small kernel batches, or none would fit at all), one message per batch: the kernel must drop.
    const listener = await openNflogListener({ group: GROUP, netns: ns, recvBufferBytes: 4096, nlbufsizBytes: 4096, qthreshold: 1, ...c });
    try {
      await sendUdp(sent);
      await new Promise((r) => setTimeout(r, 500));
      await sendUdp(1); // a last packet after the burst tells how many went missing before it
      await until(() => c.packets.at(-1)?.seq === sent, 5_000);
      const seqs = c.packets.map((p) => p.seq ?? -1);
      let gaps = seqs[0] ?? 0;
      for (let i = 1; i < seqs.length; i++) gaps += seqs[i]! - seqs[i - 1]! - 1;
      expect(seqs.at(-1)).toBe(sent);
      expect(c.packets.length + gaps).toBe(sent + 1);
      expect(gaps).toBeGreaterThan(0);
      expect(c.overruns).toBeGreaterThan(0);
    } finally {
      await listener.close();
    }
  });
});
