/**
 * Kernel test of the nf_tables monitor (and so of the generic netlink listener with a multicast
 * group): a table added and deleted with `nft` in a network namespace this test creates and
 * removes arrives as NFT_MSG_NEWTABLE and NFT_MSG_DELTABLE notifications. Skipped (with the
 * reason printed) when not root or `nft` / `ip` are missing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NFNL_SUBSYS_NFTABLES } from '../codec/constants.js';
import { walkNetlinkMessages } from '../codec/netlink-walk.js';
import { openNftablesMonitor } from './nftables-monitor.js';
import { kernelTestSkipReason } from './test-kernel.js';

const exec = promisify(execFile);
const why = await kernelTestSkipReason();
if (why) console.warn(`nf_tables monitor kernel tests skipped: ${why}`);
const ns = `plnftmon-${process.pid}`;
/** `nf_tables.h` `enum nf_tables_msg_types`. */
const NFT_MSG_NEWTABLE = 0;
const NFT_MSG_DELTABLE = 2;

describe.skipIf(why !== undefined)('nf_tables monitor (namespace)', () => {
  beforeAll(async () => {
    await exec('ip', ['netns', 'add', ns]);
  });
  afterAll(async () => {
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('hears a table added and deleted in the namespace, and nothing of this one', async () => {
    const types: number[] = [];
    const errors: Error[] = [];
    const walkErrors: string[] = [];
    const monitor = await openNftablesMonitor({
      netns: ns,
      onDatagram: (bytes) => {
        walkNetlinkMessages(bytes, 1 << 20, walkErrors, (m) => {
          if (m.type >> 8 === NFNL_SUBSYS_NFTABLES) types.push(m.type & 0xff);
        });
      },
      onOverrun: () => errors.push(new Error('overrun')),
      onError: (e) => errors.push(e),
    });
    try {
      expect(monitor.pid).toBeTypeOf('number');
      await exec('ip', ['netns', 'exec', ns, 'nft', 'add table inet palisade_monitor_test']);
      await exec('ip', ['netns', 'exec', ns, 'nft', 'delete table inet palisade_monitor_test']);
      const end = Date.now() + 5_000;
      while (!types.includes(NFT_MSG_DELTABLE) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(types).toContain(NFT_MSG_NEWTABLE);
      expect(types.indexOf(NFT_MSG_NEWTABLE)).toBeLessThan(types.indexOf(NFT_MSG_DELTABLE));
      expect(errors).toEqual([]);
      expect(walkErrors).toEqual([]);
    } finally {
      await monitor.close();
    }
    expect(monitor.pid).toBeUndefined();
  }, 30_000);
});
