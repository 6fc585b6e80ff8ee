/**
 * What `palisade` prints for configd's bounded answers, against a real configd: a refusal with
 * more diagnostics than it carries (the first 100 and the count), and a diff that is too large
 * to show (a clear answer, exit 0).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@palisade/cli';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseTokensFile } from './rpc/auth.js';
import { startTestConfigd, text, type TestConfigd } from './test-harness.js';

const ADMIN = 'admin-secret-0123456789';
let nats: NatsClusterHandle;
let cd: TestConfigd;
let dir: string;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'cli-refusals', tokens: parseTokensFile(`root admin ${ADMIN}\n`), diffMaxChangedLines: 10 });
  dir = mkdtempSync(join(tmpdir(), 'palisade-cli-refusals-'));
}, 60_000);
afterAll(async () => {
  await cd?.close();
  await nats?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main([...args, '--server', cd.address, '--token', ADMIN, '--timeout', '15000']);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('palisade prints bounded answers', () => {
  it('prints the first 100 of 1,000 diagnostics and how many there were', async () => {
    const bad = join(dir, 'cluster.fw');
    writeFileSync(bad, ['[RULES]', ...Array.from({ length: 1000 }, (_, i) => `IN ACCEPT -p tcp -dport ${70_000 + i}`)].join('\n') + '\n');
    const r = await run(['put', 'firewall/cluster.fw', '--file', bad]);
    expect(r.code).toBe(1);
    const lines = r.err.split('\n');
    expect(lines.filter((l) => /^firewall\/cluster\.fw:\d+: error /.test(l))).toHaveLength(100);
    expect(r.err).toContain('… 900 more diagnostics not shown (1000 in all');
    expect(r.err).toMatch(/'firewall\/cluster\.fw' is invalid: 1000 errors/);
  });

  it('says a diff is too different to show, and exits 0', async () => {
    const aliases = (net: number): string => `[ALIASES]\n${Array.from({ length: 30 }, (_, i) => `host${i} 10.${net}.${i}.1`).join('\n')}\n`;
    const first = await cd.call('put', { path: 'firewall/cluster.fw', content: text(aliases(1)) }, ADMIN);
    await cd.call('put', { path: 'firewall/cluster.fw', content: text(aliases(2)) }, ADMIN);
    const r = await run(['diff', 'firewall/cluster.fw', String(first.meta!.revision)]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('revisions differ too much to show a diff: at least 60 lines differ; diffs show at most 10 changed lines\n');
  });
});
