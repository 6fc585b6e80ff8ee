/**
 * The smaller points of issue 14 (item 8), each against a real configd: import does not follow
 * symlinks out of the tree; `palisade get` writes the stored bytes unchanged; `export` does not
 * write through a planted symlink; of two concurrent deletes one succeeds; a watch from a
 * future revision reports no progress beyond the head; History returns the newest 64 and the
 * same on every node; configd warns about tokens without TLS; the CLI does not send a token in
 * plain text to a non-loopback address.
 */
import { Writable } from 'node:stream';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { WatchEventType } from '@palisade/api';
import { main } from '@palisade/cli';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { createConfigd } from './app.js';
import { parseTokensFile } from './rpc/auth.js';
import { NO_VALIDATION } from './store/document-validator.js';
import { collectWatch, rejects, startTestConfigd, text, type TestConfigd } from './test-harness.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;
let dir: string;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  // No validation: the bytes of a document written around it (the case) must come back as stored.
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'small', validator: NO_VALIDATION });
  dir = mkdtempSync(join(tmpdir(), 'palisade-small-'));
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI against configd, capturing stdout as bytes. */
async function run(args: string[], server = cd.address): Promise<{ code: number; out: Buffer; err: string }> {
  const out: Buffer[] = [];
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(Buffer.from(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main([...args, '--server', server]);
    return { code, out: Buffer.concat(out), err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('CLI', () => {
  it('get writes the stored bytes unchanged (not decoded as UTF-8)', async () => {
    const latin1 = Buffer.from([0x23, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0x0a]);
    await cd.call('put', { path: 'corosync.conf', content: latin1 });
    const r = await run(['get', 'corosync.conf']);
    expect(r.code).toBe(0);
    expect(r.out.equals(latin1)).toBe(true);
  });

  it('import refuses a symlink leading out of the tree (even with --force) and writes nothing', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret.fw'), '[RULES]\nIN ACCEPT -p tcp -dport 4242 # from outside\n');
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'firewall'), { recursive: true });
    writeFileSync(join(tree, 'firewall/cluster.fw'), '[OPTIONS]\nenable: 1\n');
    symlinkSync(join(outside, 'secret.fw'), join(tree, 'firewall/100.fw'));
    const r = await run(['import', tree, '--force']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/firewall\/100\.fw is a symlink to .*secret\.fw, outside the tree/);
    expect((await rejects(cd.call('get', { path: 'firewall/100.fw' }))).code).toBe('not-found');
    expect((await rejects(cd.call('get', { path: 'firewall/cluster.fw' }))).code).toBe('not-found');
  });

  it('export does not write through a symlink planted in the target', async () => {
    await cd.call('put', { path: 'firewall/cluster.fw', content: text('[OPTIONS]\nenable: 1\n') });
    await cd.call('put', { path: 'nodes/pve1/host.fw', content: text('[OPTIONS]\nenable: 1\n') });
    const victim = join(dir, 'victim');
    mkdirSync(victim, { recursive: true });
    writeFileSync(join(victim, 'keep'), 'precious\n');
    // A planted file link at a document's place, and a planted directory link.
    const target = join(dir, 'export');
    mkdirSync(join(target, 'firewall'), { recursive: true });
    symlinkSync(join(victim, 'keep'), join(target, 'firewall/cluster.fw'));
    const r1 = await run(['export', target, '--prefix', 'firewall/']);
    expect(r1.code).toBe(0);
    expect(readFileSync(join(victim, 'keep'), 'utf8')).toBe('precious\n');
    expect(lstatSync(join(target, 'firewall/cluster.fw')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(target, 'firewall/cluster.fw'), 'utf8')).toBe('[OPTIONS]\nenable: 1\n');
    symlinkSync(victim, join(target, 'nodes'));
    const r2 = await run(['export', target]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/leads outside/);
    expect(readdirSync(victim)).toEqual(['keep']);
    expect(existsSync(join(victim, 'pve1'))).toBe(false);
  });

  it('refuses to send a token in plain text to a non-loopback address (no connection is made)', async () => {
    const r = await run(['ls', '--token', 'admin-secret-0123456789'], '192.0.2.1:7400');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/refusing to send the token in plain text to 192\.0\.2\.1:7400: give --tls-ca FILE/);
    // Loopback is fine (the token stays on the machine).
    expect((await run(['ls', '--token', 'admin-secret-0123456789'])).code).toBe(0);
  });
});

describe('store', () => {
  it('of two concurrent deletes one succeeds, the other is refused', async () => {
    await cd.call('put', { path: 'firewall/700.fw', content: text('[RULES]\n') });
    const results = await Promise.allSettled([cd.call('delete', { path: 'firewall/700.fw' }), cd.call('delete', { path: 'firewall/700.fw' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(['conflict', 'not-found']).toContain((refused.reason as { code: string }).code);
    const h = await cd.call('history', { path: 'firewall/700.fw', limit: 0 });
    expect(h.revisions.filter((d) => d.meta!.deleted)).toHaveLength(1);
  });

  it('a watch from a future revision reports no progress beyond the head', async () => {
    const head = (await cd.call('status', {})).revision;
    const events = await collectWatch(cd.watch({ prefixes: ['firewall/'], startRevision: head + 1000, progressIntervalMs: 200 }), (e) =>
      e.some((x) => x.type === WatchEventType.WATCH_EVENT_TYPE_PROGRESS),
    );
    for (const e of events.filter((x) => x.type === WatchEventType.WATCH_EVENT_TYPE_PROGRESS)) expect(e.revision).toBeLessThanOrEqual(head);
  });

  it('History returns the newest 64 revisions, the same on every node', async () => {
    for (let i = 0; i < 70; i++) await cd.call('put', { path: 'firewall/800.fw', content: text(`[RULES]\n# ${i}\n`) });
    const mine = (await cd.call('history', { path: 'firewall/800.fw', limit: 0 })).revisions.map((d) => d.meta!.revision);
    expect(mine).toHaveLength(64);
    expect((await cd.call('history', { path: 'firewall/800.fw', limit: 1000 })).revisions).toHaveLength(64);
    const late = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'small', node: 'pve2', validator: NO_VALIDATION });
    try {
      const head = (await cd.call('status', {})).revision;
      await late.call('get', { path: 'firewall/800.fw', minRevision: head });
      const theirs = (await late.call('history', { path: 'firewall/800.fw', limit: 0 })).revisions.map((d) => d.meta!.revision);
      expect(theirs).toEqual(mine);
    } finally {
      await late.close();
    }
  });
});

describe('configd', () => {
  it('warns that tokens travel in plain text without TLS', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'palisade-warn-'));
    const c = await createConfigd({
      node: 'pve9',
      natsServers: nats.urls,
      listen: '127.0.0.1:0',
      dataDir,
      replicas: 1,
      bucket: 'warn',
      tokens: parseTokensFile('root admin admin-secret-0123456789\n'),
      logger: pino({ level: 'warn' }, sink),
    });
    try {
      // (Closing right after the start is slow: let the commit-confirmed follower start.)
      await c.replication.whenReady(20_000);
      await new Promise((r) => setTimeout(r, 1000));
      expect(lines.join('')).toMatch(/tokens travel in plain text: --tokens without --tls-cert/);
    } finally {
      await c.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
