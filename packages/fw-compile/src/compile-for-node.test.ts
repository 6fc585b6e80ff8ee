import { loadTree } from '@palisade/fw-lang';
import { describe, expect, it } from 'vitest';
import { compileForNode, knownNodes } from './compile-for-node.js';

const COROSYNC = `nodelist {
  node {
    name: pve1
    nodeid: 1
    ring0_addr: 192.0.2.11
  }
  node {
    name: pve2
    nodeid: 2
    ring0_addr: 192.0.2.12
  }
}
`;
const tree = (files: Record<string, string>) => loadTree(new Map(Object.entries(files)));

describe('compileForNode', () => {
  it('compiles a known node', () => {
    const out = compileForNode(tree({ 'corosync.conf': COROSYNC, 'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n' }), { node: 'pve2' });
    expect(out.ok).toBe(true);
    if (out.ok) expect(out.compiled.enabled).toBe(true);
  });

  it('refuses an unknown node, naming the known ones', () => {
    const t = tree({ 'corosync.conf': COROSYNC, 'nodes/pve3/host.fw': '[OPTIONS]\nenable: 1\n' });
    expect(knownNodes(t)).toEqual(['pve1', 'pve2', 'pve3']);
    const out = compileForNode(t, { node: 'pve9' });
    expect(out).toMatchObject({ ok: false, refusal: { code: 'unknown-node', knownNodes: ['pve1', 'pve2', 'pve3'] } });
  });

  it('accepts any node when the tree knows none', () => {
    expect(compileForNode(tree({ 'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n' }), { node: 'x' }).ok).toBe(true);
  });

  it('refuses the whole configuration on FW0204, with document:line', () => {
    const out = compileForNode(tree({ 'firewall/cluster.fw': '[OPTIONS]\nenable: 1\nlog_ratelimit: rate=1/week\n' }), { node: 'pve1' });
    expect(out).toMatchObject({ ok: false, refusal: { code: 'fatal-configuration', path: 'firewall/cluster.fw', line: 3 } });
  });

  it('refuses an unreadable document only when asked to', () => {
    const t = tree({ 'corosync.conf': COROSYNC, 'firewall/cluster.fw': '[OPTIONS]\r\nenable: 1\r\n' });
    expect(compileForNode(t, { node: 'pve1' }).ok).toBe(true);
    expect(compileForNode(t, { node: 'pve1' }, { refuseDocumentErrors: true })).toMatchObject({ ok: false, refusal: { code: 'unreadable-document', path: 'firewall/cluster.fw' } });
  });
});
