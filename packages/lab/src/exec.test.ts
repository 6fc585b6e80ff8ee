/**
 * The lab's tool checks: a missing program is a `missing-tool` error naming its Debian
 * package, never a verdict. The environment of the checked commands is replaced by one whose
 * PATH holds only some of the tools, so nothing is uninstalled. Kernel parts (a namespace this
 * test creates and removes) need root and `ip`; they skip with a message otherwise.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_TOOLS, LabError, labPrerequisites, run } from './exec.js';

const why = await labPrerequisites();
if (why) console.warn(`lab tool tests skipped: ${why}`);

/** Absolute path of a program on this machine's PATH. */
async function which(tool: string): Promise<string> {
  return (await run('sh', ['-c', `command -v ${tool}`])).stdout.trim();
}

describe.skipIf(why !== undefined)('lab tools', () => {
  let dir = '';
  const ns = `plx-exec-${process.pid}`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-lab-path-'));
    // only ip and nft: sysctl, ping and conntrack are "not installed"
    for (const tool of ['ip', 'nft']) symlinkSync(await which(tool), join(dir, tool));
    await run('ip', ['netns', 'add', ns]);
  });
  afterAll(async () => {
    await run('ip', ['netns', 'del', ns], { check: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('labPrerequisites names every missing tool and its Debian package', async () => {
    const reason = await labPrerequisites({ env: { PATH: dir } });
    expect(reason).toBe('the lab needs sysctl (package procps), ping (package iputils-ping), conntrack (package conntrack): apt-get install -y procps iputils-ping conntrack');
  });

  it('checks ip, nft, sysctl, ping and conntrack', () => {
    expect(Object.entries(LAB_TOOLS).map(([tool, v]) => `${tool}:${v.package}`)).toEqual(['ip:iproute2', 'nft:nftables', 'sysctl:procps', 'ping:iputils-ping', 'conntrack:conntrack']);
  });

  it('a program missing inside `ip netns exec` is missing-tool, even with check: false', async () => {
    const err = await run('ip', ['netns', 'exec', ns, 'conntrack', '-F'], { env: { PATH: dir }, check: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('missing-tool');
    expect((err as LabError).context.tool).toBe('conntrack');
    expect((err as LabError).message).toBe(`conntrack not found in namespace ${ns} (install it: apt-get install -y conntrack)`);
  });

  it('a missing command is missing-tool naming its package', async () => {
    const err = await run('sysctl', ['-a'], { env: { PATH: dir }, check: false }).catch((e: unknown) => e);
    expect((err as LabError).code).toBe('missing-tool');
    expect((err as LabError).message).toBe('sysctl not found (install it: apt-get install -y procps)');
  });
});
