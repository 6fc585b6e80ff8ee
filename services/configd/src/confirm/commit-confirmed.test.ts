/**
 * Commit-confirmed on a real 3-server JetStream cluster with three configds: an unconfirmed
 * change comes back to the previous content (author "automatic rollback") even when the configd
 * that took the write is SIGKILLed right after it (a `palisade-configd` process, the built
 * dist/main.js); a confirmed change stays; a document created under a window is deleted again;
 * a second pending change of one document and a late confirm are refused.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createConfigClient, type ConfigClient } from '@palisade/api';
import { startConfigdProcess, startNats, type ConfigdProcessHandle, type NatsClusterHandle } from '@palisade/testkit';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@palisade/cli';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NO_VALIDATION } from '../store/document-validator.js';
import { rejects, sleep, startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { ROLLBACK_AUTHOR } from './pending-record.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const BUILT = existsSync(MAIN) && existsSync(fileURLToPath(new URL('../../dist/confirm/confirmations.js', import.meta.url)));

let nats: NatsClusterHandle;
let b: TestConfigd;
let c: TestConfigd;

beforeAll(async () => {
  nats = await startNats({ size: 3 });
  const start = (n: number): Promise<TestConfigd> =>
    startTestConfigd({ node: `pve${n}`, natsServers: [nats.urls[n - 1]!, ...nats.urls], validator: NO_VALIDATION, confirmTakeoverMs: 1000 });
  [b, c] = await Promise.all([start(2), start(3)]);
}, 90_000);

afterAll(async () => {
  await Promise.all([b?.close(), c?.close()]);
  await nats?.close();
});

const content = async (n: TestConfigd, path: string): Promise<string | undefined> => {
  try {
    return (await n.call('get', { path })).document!.content.toString('utf8');
  } catch {
    return undefined;
  }
};

/** Runs `palisade ARGS --server` against `n`, capturing its output. */
async function cli(n: TestConfigd, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main([...args, '--server', n.address]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('commit-confirmed', () => {
  it('palisade put --confirm, palisade confirmations, palisade confirm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-confirm-cli-'));
    try {
      const f = join(dir, 'host.fw');
      writeFileSync(f, '[RULES]\nIN ACCEPT -p tcp -dport 22\n');
      const put = await cli(b, ['put', 'nodes/pve3/host.fw', '--file', f, '--confirm', '30s']);
      expect(put.code).toBe(0);
      const revision = Number(/revision (\d+)/.exec(put.out)![1]);
      expect(put.err).toContain(`palisade confirm ${revision}`);
      expect((await cli(b, ['put', 'nodes/pve3/host.fw', '--file', f, '--confirm', 'soon'])).code).toBe(2);
      const list = await cli(b, ['confirmations']);
      expect(list.out).toMatch(new RegExp(`${revision}\\s+nodes/pve3/host.fw`));
      const ok = await cli(c, ['confirm', String(revision)]);
      expect(ok).toMatchObject({ code: 0, out: `confirmed: nodes/pve3/host.fw revision ${revision} stays\n` });
      expect((await cli(c, ['confirm', String(revision)])).code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a confirmed change stays; a second pending change and a repeated confirm are refused', async () => {
    const path = 'firewall/101.fw';
    await b.call('put', { path, content: text('[OPTIONS]\nenable: 0\n') });
    const w = await b.call('put', { path, content: text('[OPTIONS]\nenable: 1\n'), confirmWindowMs: 2000 });
    expect(w.confirmDeadlineMs).toBeGreaterThan(Date.now());
    await expect.poll(async () => (await c.call('listConfirmations', {})).pending.map((p) => p.changeRevision), { timeout: 10_000 }).toContain(w.meta!.revision);
    const second = await rejects(b.call('put', { path, content: text('[OPTIONS]\nenable: 1\n# x\n'), confirmWindowMs: 2000 }));
    expect(second.message).toMatch(/waiting for confirmation/);
    // Confirmed through another configd than the one that took the write.
    const ok = await c.call('confirm', { revision: w.meta!.revision });
    expect(ok.confirmed?.path).toBe(path);
    await sleep(3500);
    expect(await content(b, path)).toBe('[OPTIONS]\nenable: 1\n');
    const h = await b.call('history', { path });
    expect(h.revisions.map((r) => r.meta!.author)).not.toContain(ROLLBACK_AUTHOR);
    expect((await rejects(c.call('confirm', { revision: w.meta!.revision }))).message).toMatch(/no change at revision/);
  }, 30_000);

  it('a document created under a window and not confirmed is deleted again', async () => {
    const path = 'firewall/102.fw';
    const w = await c.call('put', { path, content: text('[OPTIONS]\nenable: 1\n'), confirmWindowMs: 1500 });
    await expect.poll(() => content(b, path), { timeout: 15_000, interval: 100 }).toBeUndefined();
    const h = await b.call('history', { path });
    expect(h.revisions[0]!.meta).toMatchObject({ deleted: true, author: ROLLBACK_AUTHOR });
    expect(h.revisions[1]!.meta!.revision).toBe(w.meta!.revision);
    const late = await rejects(c.call('confirm', { revision: w.meta!.revision }));
    expect(late.message).toMatch(/no change at revision/);
  }, 30_000);

  it('a firewall API write with a confirm window rolls back: the rule is gone again', async () => {
    const path = 'nodes/pve2/host.fw';
    await b.call('put', { path, content: text('[RULES]\nIN ACCEPT -p tcp -dport 22\n') });
    const w = await b.client().fw('createRule', {
      scope: { target: { $case: 'node', value: 'pve2' } },
      rule: { type: 'in', action: 'DROP', proto: 'tcp', dport: '22' },
      precondition: { digest: '', confirmWindowMs: 1500 },
    });
    expect(await content(c, path)).toContain('DROP');
    await expect.poll(async () => (await c.call('listConfirmations', {})).pending.find((p) => p.path === path)?.changeRevision, { timeout: 5000, interval: 50 }).toBe(w.meta!.revision);
    await expect.poll(() => content(c, path), { timeout: 15_000, interval: 100 }).toBe('[RULES]\nIN ACCEPT -p tcp -dport 22\n');
  }, 30_000);

  it.skipIf(!BUILT)('SIGKILL of the configd that took the write: another configd rolls the change back', async () => {
    let a: ConfigdProcessHandle | undefined;
    let client: ConfigClient | undefined;
    try {
      a = await startConfigdProcess({ main: MAIN, node: 'pve1', natsServers: nats.urls });
      client = createConfigClient({ address: a.address, timeoutMs: 20_000 });
      await expect.poll(async () => (await client!.call('status', {})).quorate, { timeout: 20_000 }).toBe(true);
      const path = 'firewall/103.fw';
      const before = await client.call('put', { path, content: text('[OPTIONS]\nenable: 1\n') });
      const w = await client.call('put', { path, content: text('[OPTIONS]\nenable: 0\n'), confirmWindowMs: 2000 });
      await a.kill();
      const killedAt = Date.now();
      await expect.poll(() => content(b, path), { timeout: 20_000, interval: 100 }).toBe('[OPTIONS]\nenable: 1\n');
      const tookMs = Date.now() - killedAt;
      const h = await c.call('history', { path, limit: 3 });
      expect(h.revisions[0]!.meta).toMatchObject({ author: ROLLBACK_AUTHOR });
      expect(h.revisions[0]!.meta!.message).toContain(`revision ${w.meta!.revision}`);
      expect(h.revisions[0]!.meta!.message).toContain(`revision ${before.meta!.revision}`);
      // Exactly one rollback revision, whichever configd won.
      await sleep(1500);
      const after = await c.call('history', { path });
      expect(after.revisions.filter((r) => r.meta!.author === ROLLBACK_AUTHOR)).toHaveLength(1);
      expect((await c.call('listConfirmations', {})).pending.filter((p) => p.path === path)).toEqual([]);
      console.log(`commit-confirmed: writer configd SIGKILLed; rollback visible on another configd ${tookMs} ms after the kill (window 2000 ms)`);
    } finally {
      client?.close();
      await a?.stop();
    }
  }, 60_000);
});
