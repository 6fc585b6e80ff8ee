/**
 * `palisade apply` in a network namespace this test creates and removes (skipped, reason
 * printed, when not root or `ip`/`nft` are missing). Never touches the test machine's own
 * namespace: every run passes `--netns`.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-run.js';

const exec = promisify(execFile);
const EXAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'pve');

async function prerequisites(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  try {
    await exec('ip', ['-V']);
    await exec('nft', ['--version']);
  } catch {
    return '`ip` or `nft` is not installed';
  }
  return undefined;
}
const why = await prerequisites();
if (why) console.warn(`palisade apply tests skipped: ${why}`);
const ns = `plcli-${process.pid}`;
const tmp = mkdtempSync(join(tmpdir(), 'palisade-apply-'));

describe.skipIf(why !== undefined)('palisade apply', () => {
  beforeAll(async () => {
    await exec('ip', ['netns', 'add', ns]);
  });
  afterAll(async () => {
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });
  const state = join(tmp, 'state.json');
  const args = (config: string, ...more: string[]) => ['apply', '--config', config, '--node', 'pve1', '--netns', ns, '--state', state, ...more];

  it('applies through netlink (full replace first), then sends nothing for the same input', async () => {
    const first = await runCli(args(EXAMPLES, '--json'));
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as { result: string; plan: string; messages: number; applyMs: number };
    expect(a).toMatchObject({ result: 'applied', plan: 'full' });
    expect(a.messages).toBeGreaterThan(10);
    expect(a.applyMs).toBeGreaterThan(0);
    const listed = (await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'])).stdout;
    expect(listed).toContain('table inet palisade');
    const second = await runCli(args(EXAMPLES, '--json'));
    expect(JSON.parse(second.stdout)).toMatchObject({ result: 'unchanged', messages: 0, applyMs: 0 });
    const human = await runCli(args(EXAMPLES));
    expect(human).toMatchObject({ code: 0, stdout: 'unchanged: nothing sent\n' });
  });

  it('a changed IP set entry: --dry-run plans it and sends nothing, then an incremental batch', async () => {
    const tree = join(tmp, 'tree');
    cpSync(EXAMPLES, tree, { recursive: true });
    const fw = join(tree, 'firewall', 'cluster.fw');
    writeFileSync(fw, readFileSync(fw, 'utf8').replace('[IPSET blacklist]\n\n192.0.2.66\n', '[IPSET blacklist]\n\n192.0.2.66\n198.51.100.99\n'));
    const before = (await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'])).stdout;
    const dry = await runCli(args(tree, '--dry-run', '--json'));
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ result: 'planned', dryRun: true, plan: 'incremental' });
    expect((await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'])).stdout).toBe(before);
    const real = await runCli(args(tree, '--json'));
    const r = JSON.parse(real.stdout) as { result: string; plan: string; messages: number };
    expect(r).toMatchObject({ result: 'applied', plan: 'incremental' });
    expect(r.messages).toBeGreaterThan(0);
    expect((await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'])).stdout).toContain('198.51.100.99');
  });

  it('usage errors exit 2: an unknown node, a namespace that does not exist', async () => {
    expect((await runCli(['apply', '--config', EXAMPLES, '--node', 'pve9', '--netns', ns, '--state', state])).code).toBe(2);
    const r = await runCli(['apply', '--config', EXAMPLES, '--node', 'pve1', '--netns', `${ns}-missing`, '--state', join(tmp, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/namespace/);
  });
});
