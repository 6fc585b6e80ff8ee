import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-run.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'pve');
const tmp = mkdtempSync(join(tmpdir(), 'palisade-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmp, 'tree-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('palisade check', () => {
  it('passes the bundled example tree (exit 0)', async () => {
    const r = await runCli(['check', EXAMPLES]);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/checked 10 document\(s\): 0 error\(s\)/);
  });

  it('resolves a guest rule against the cluster aliases of its tree', async () => {
    const root = tree({
      'firewall/cluster.fw': '[ALIASES]\noffice 10.0.0.0/8\n',
      'firewall/100.fw': '[OPTIONS]\nenable: 1\n[RULES]\nIN ACCEPT -source office -p tcp -dport 22\nIN ACCEPT -source nope\n',
    });
    const r = await runCli(['check', join(root, 'firewall/100.fw')]);
    expect(r.stdout).toBe(`${join(root, 'firewall/100.fw')}:5: error FW0415 source: no such alias 'nope'\n`);
    expect(r.code).toBe(1);
  });

  it('prints path:line: severity CODE message for every problem in a directory', async () => {
    const root = tree({
      'firewall/cluster.fw': '[RULES]\nIN ACCEPT -iface vmbr0\nGROUP Web\n[group web]\nIN ACCEPT\n',
      'nodes/pve1/host.fw': '[OPTIONS]\ntcpflags: yes\n',
      'nodes/pve1/qemu-server/100.conf': 'net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n',
    });
    const r = await runCli(['check', root]);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `${join(root, 'firewall/cluster.fw')}:2: error FW0302 unable to parse rule parameters: '-iface vmbr0' (the interface option is '-i')`,
      `${join(root, 'firewall/cluster.fw')}:3: warning FW0417 no such security group 'Web': it behaves as an empty group (group names are case-sensitive: write 'web')`,
      `${join(root, 'nodes/pve1/host.fw')}:2: error FW0203 invalid value 'yes' for option 'tcpflags': expected 0 or 1`,
    ]);
    expect(r.code).toBe(1);
  });

  it('exits 0 when there are only warnings', async () => {
    const root = tree({ 'firewall/cluster.fw': '[RULES]\nGROUP nosuch\n' });
    const r = await runCli(['check', root]);
    expect(r.stdout).toMatch(/warning FW0417/);
    expect(r.code).toBe(0);
  });

  it('checks a standalone document with --kind', async () => {
    const root = tree({ 'somewhere/node.fw': '[OPTIONS]\nndp: 0\n[RULES]\nIN ACCEPT -i net0\n' });
    expect((await runCli(['check', '--kind', 'host', join(root, 'somewhere/node.fw')])).code).toBe(0);
    const asCluster = await runCli(['check', '--kind', 'cluster', join(root, 'somewhere/node.fw')]);
    expect(asCluster.stdout).toMatch(/FW0202 unknown option 'ndp' for a cluster document/);
    expect(asCluster.code).toBe(1);
  });

  it('exits 2 for a missing path and for a bad flag', async () => {
    const missing = await runCli(['check', join(tmp, 'does-not-exist')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    expect((await runCli(['check', '--kind', 'bogus', EXAMPLES])).code).toBe(2);
    expect((await runCli(['check'])).code).toBe(2);
  });
});

describe('palisade show', () => {
  it('prints the model of a document as JSON', async () => {
    const r = await runCli(['show', join(EXAMPLES, 'firewall/100.fw'), '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { documents: Record<string, { kind: string; rules: { type: string; action: string; iface?: string }[]; options: Record<string, string> }> };
    const doc = json.documents['firewall/100.fw'];
    expect(doc?.kind).toBe('guest');
    expect(doc?.options['ipfilter']).toBe('1');
    expect(doc?.rules[0]).toMatchObject({ pos: 0, type: 'group', action: 'web', iface: 'net0' });
  });
});

describe('palisade check on a directory without the /etc/pve layout', () => {
  it('explains the expected layout and exits 2', async () => {
    const root = tree({ 'loose.fw': '[RULES]\nIN ACCEPT\n' });
    const r = await runCli(['check', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a tree laid out like \/etc\/pve/);
  });
});

describe('palisade compile', () => {
  it('compiles the example node and refuses an unknown node with the known ones (exit 2)', async () => {
    const ok = await runCli(['compile', '--config', EXAMPLES, '--node', 'pve1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('table inet palisade {');
    const bad = await runCli(['compile', '--config', EXAMPLES, '--node', 'pve9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown node 'pve9'");
    expect(bad.stderr).toContain('known: pve1, pve2, pve3');
  });
});
