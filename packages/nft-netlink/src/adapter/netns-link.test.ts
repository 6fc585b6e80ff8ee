/**
 * Kernel tests of the two ways into another network namespace: the relay (a batch staged in
 * an unlinked file, read by the relay as /proc/PID/fd/N, is applied like one sent over the
 * IPC channel, and nothing is left in /dev/shm) and a socket this process opens inside the
 * namespace (native addon). Runs in a network namespace it creates and removes; skipped
 * (reason printed) when not root or `nft` / `ip` are missing.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChain, newTable, encodeNftBatch, type NftMessage } from '../codec/nft-messages.js';
import { exchangeBatch } from './exchange.js';
import { openNetnsLink } from './netns-link.js';
import type { DatagramLink } from './link.js';
import { netnsSocketSupported, openSocketLink } from './socket-link.js';
import { kernelTestSkipReason } from './test-kernel.js';

const exec = promisify(execFile);
const why = await kernelTestSkipReason();
if (why) console.warn(`netns link tests skipped: ${why}`);
const ns = `plnk-${process.pid}`;
const staged = (): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith(`palisade-nft-${process.pid}-`));

describe.skipIf(why !== undefined)('netns relay', () => {
  let link: DatagramLink | undefined;
  beforeAll(async () => {
    await exec('ip', ['netns', 'add', ns]);
  });
  afterAll(async () => {
    await link?.close();
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  for (const [label, minBytes] of [
    ['over the IPC channel', 0],
    ['staged in an unlinked file', 1],
  ] as const) {
    it(`applies a batch sent ${label}`, async () => {
      await link?.close();
      link = await openNetnsLink({ netns: ns, fileTransferMinBytes: minBytes });
      const table = `t${minBytes}`;
      const msgs: NftMessage[] = [newTable('inet', table), ...Array.from({ length: 500 }, (_, i) => newChain('inet', table, `chain-${i}`))];
      const enc = encodeNftBatch(msgs);
      if (!enc.ok) throw new TypeError(enc.error);
      await exchangeBatch(link, enc.value, { timeoutMs: 30_000 });
      const listed = (await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', table])).stdout;
      expect(listed.match(/chain chain-/g)?.length).toBe(500);
      expect(staged()).toEqual([]);
    });
  }

  it('reports a refused staged batch as the kernel error, without leaving a file', async () => {
    await link?.close();
    link = await openNetnsLink({ netns: ns, fileTransferMinBytes: 1 });
    const enc = encodeNftBatch([newChain('inet', 'no-such-table', 'c')]);
    if (!enc.ok) throw new TypeError(enc.error);
    await expect(exchangeBatch(link, enc.value, { timeoutMs: 30_000 })).rejects.toMatchObject({ code: 'KERNEL_ERROR', errnoName: 'ENOENT' });
    expect(staged()).toEqual([]);
  });

  it.skipIf(!netnsSocketSupported())('opens a socket inside the namespace from this process: batches apply there, not here, with the forced send buffer', async () => {
    await link?.close();
    link = undefined;
    const here = openSocketLink();
    const there = openSocketLink({ netns: ns });
    try {
      // both sockets usually have the same port id (one per namespace): each got its own buffer
      expect(there.maxSendBytes).toBeGreaterThan(16 << 20);
      expect(here.maxSendBytes).toBeGreaterThan(16 << 20);
      const table = `inside-${process.pid}`;
      const enc = encodeNftBatch([newTable('inet', table), newChain('inet', table, 'c')]);
      if (!enc.ok) throw new TypeError(enc.error);
      await exchangeBatch(there, enc.value, { timeoutMs: 30_000 });
      expect((await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'])).stdout).toContain(`table inet ${table}`);
      expect((await exec('nft', ['list', 'tables'])).stdout).not.toContain(table);
    } finally {
      await there.close();
      await here.close();
    }
    expect(() => openSocketLink({ netns: 'no-such-namespace-here' })).toThrow(/no-such-namespace-here/);
  });
});

