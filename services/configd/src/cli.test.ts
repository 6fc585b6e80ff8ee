/**
 * The `palisade` document and firewall commands against a real configd: output, diagnostics
 * format (`path:line: severity CODE message`) and exit codes (0 ok, 1 refused, 2 usage or
 * connection).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '@palisade/cli';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { parseTokensFile } from './rpc/auth.js';
import { startTestConfigd, type TestConfigd } from './test-harness.js';

const ADMIN = 'admin-secret-0123456789';
const READER = 'reader-secret-0123456789';
let nats: NatsClusterHandle;
let cd: TestConfigd;
let dir: string;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({
    natsServers: nats.urls,
    replicas: 1,
    bucket: 'cli',
    tokens: parseTokensFile(`root admin ${ADMIN}\nro reader ${READER}\n`),
  });
  dir = mkdtempSync(join(tmpdir(), 'palisade-cli-'));
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], token: string | undefined = ADMIN): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main([...args, '--server', cd.address, ...(token ? ['--token', token] : [])]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

describe('palisade store commands', () => {
  it('put, get, ls, history, diff, rollback, rm', async () => {
    const f1 = file('c1.fw', '[OPTIONS]\nenable: 1\n');
    const put = await run(['put', 'firewall/cluster.fw', '--file', f1, '--message', 'first']);
    expect(put.code).toBe(0);
    const rev1 = Number(/revision (\d+)/.exec(put.out)![1]);
    const get = await run(['get', 'firewall/cluster.fw']);
    expect(get.out).toBe('[OPTIONS]\nenable: 1\n');
    const f2 = file('c2.fw', '[OPTIONS]\nenable: 0\n');
    expect((await run(['put', 'firewall/cluster.fw', '--file', f2, '--expect-revision', String(rev1)])).code).toBe(0);
    const stale = await run(['put', 'firewall/cluster.fw', '--file', f1, '--expect-revision', String(rev1)]);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/conflict/);
    expect((await run(['ls'])).out).toMatch(/firewall\/cluster\.fw/);
    const hist = await run(['history', 'firewall/cluster.fw']);
    expect(hist.out.trim().split('\n')).toHaveLength(2);
    expect(hist.out).toMatch(/first/);
    const diff = await run(['diff', 'firewall/cluster.fw', String(rev1)]);
    expect(diff.out).toContain('-enable: 1\n+enable: 0');
    expect((await run(['rollback', 'firewall/cluster.fw', String(rev1)])).code).toBe(0);
    expect((await run(['get', 'firewall/cluster.fw'])).out).toBe('[OPTIONS]\nenable: 1\n');
    const f3 = file('g.fw', '[RULES]\nIN ACCEPT -p tcp -dport 22\n');
    expect((await run(['put', 'firewall/150.fw', '--file', f3])).code).toBe(0);
    expect((await run(['rm', 'firewall/150.fw'])).code).toBe(0);
    expect((await run(['get', 'firewall/150.fw'])).code).toBe(1);
  });

  it('prints diagnostics as path:line: severity CODE message and exits 1', async () => {
    const bad = file('bad.fw', '[RULES]\nIN ACCEPT -p tcp -dport 99999\n');
    const r = await run(['put', 'firewall/cluster.fw', '--file', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^firewall\/cluster\.fw:2: error FW\d{4} .+$/m);
  });

  it('exits 2 on usage and connection errors, 1 when refused by role', async () => {
    expect((await run(['get'])).code).toBe(2);
    expect((await run(['get', 'firewall/cluster.fw'], 'wrong-token-0123456789')).code).toBe(2);
    const denied = await run(['put', 'firewall/cluster.fw', '--file', file('x.fw', '[OPTIONS]\n')], READER);
    expect(denied.code).toBe(1);
    const unreachable = await main(['get', 'firewall/cluster.fw', '--server', '127.0.0.1:1', '--timeout', '2000']).catch(() => -1);
    expect(unreachable).toBe(2);
  });

  it('imports a tree (refusing an invalid one unless --force) and exports it back', async () => {
    const tree = join(dir, 'tree');
    file('tree/firewall/cluster.fw', '[OPTIONS]\nenable: 1\n\n[ALIASES]\nlan 192.168.0.0/24\n');
    file('tree/firewall/200.fw', '[RULES]\nIN ACCEPT -source lan -p tcp -dport 80\n');
    file('tree/nodes/pve1/qemu-server/200.conf', 'net0: virtio=BC:24:11:00:00:02,bridge=vmbr0,firewall=1\n');
    file('tree/nodes/pve1/host.fw', '[RULES]\nIN ACCEPT -p tcp -dport 99999\n');
    const refused = await run(['import', tree]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/nodes\/pve1\/host\.fw:2: error FW\d{4}/);
    expect((await run(['get', 'firewall/200.fw'])).code).toBe(1); // nothing written
    file('tree/nodes/pve1/host.fw', '[RULES]\nIN ACCEPT -p tcp -dport 8006\n');
    const ok = await run(['import', tree]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/4 written/);
    const again = await run(['import', tree]);
    expect(again.out).toMatch(/0 written, 4 unchanged/);
    const exp = join(dir, 'export');
    expect((await run(['export', exp])).code).toBe(0);
    expect(readFileSync(join(exp, 'firewall/200.fw'), 'utf8')).toBe('[RULES]\nIN ACCEPT -source lan -p tcp -dport 80\n');
    expect(existsSync(join(exp, 'nodes/pve1/qemu-server/200.conf'))).toBe(true);
  });
});

describe('palisade fw commands', () => {
  it('adds, lists, moves and deletes rules; options; aliases; macros', async () => {
    const add = await run(['fw', 'rules', 'add', '--vm', '200', '--type', 'in', '--action', 'ACCEPT', '--proto', 'tcp', '--dport', '443', '--comment', 'https', '--pos', '1']);
    expect(add.code).toBe(0);
    const list = await run(['fw', 'rules', 'list', '--vm', '200', '--json']);
    const rules = (JSON.parse(list.out) as { rules: { id: string; dport: string }[] }).rules;
    expect(rules.map((r) => r.dport)).toEqual(['80', '443']);
    const id = rules[1]!.id;
    expect((await run(['fw', 'rules', 'move', '--vm', '200', id, '0'])).code).toBe(0);
    const text = await run(['fw', 'rules', 'list', '--vm', '200']);
    expect(text.out.split('\n')[0]).toMatch(new RegExp(`^\\s+0\\s+${id}\\s+IN ACCEPT -p tcp -dport 443 # https`));
    const stale = await run(['fw', 'rules', 'delete', '--vm', '200', id, '--digest', '0000000000000000000000000000000000000000']);
    expect(stale.code).toBe(1);
    expect((await run(['fw', 'rules', 'delete', '--vm', '200', id])).code).toBe(0);
    expect((await run(['fw', 'options', 'set', '--vm', '200', 'enable=1', 'policy_in=DROP'])).code).toBe(0);
    expect((await run(['fw', 'options', 'get', '--vm', '200'])).out).toMatch(/policy_in: DROP/);
    expect((await run(['fw', 'alias', 'add', 'dns', '10.0.0.53', '--comment', 'resolver'])).code).toBe(0);
    expect((await run(['fw', 'alias', 'list'])).out).toMatch(/dns\s+10\.0\.0\.53\s+# resolver/);
    expect((await run(['fw', 'refs', '--vm', '200'])).out).toMatch(/alias\s+dc\s+dns/);
    expect((await run(['fw', 'macros'])).out).toMatch(/^SSH\s+/m);
    const bad = await run(['fw', 'rules', 'add', '--type', 'in', '--action', 'ACCEPT', '--proto', 'tcp', '--dport', '99999']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/firewall\/cluster\.fw:\d+: error FW\d{4}/);
  });
});
