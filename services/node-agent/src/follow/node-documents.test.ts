import { describe, expect, it } from 'vitest';
import { NodeDocuments, nodeWatchPrefixes } from './node-documents.js';

const t = (s: string): Uint8Array => Buffer.from(s);

describe('NodeDocuments', () => {
  it("counts only the node's inputs", () => {
    expect(nodeWatchPrefixes('pve1')).toEqual(['firewall/', 'nodes/pve1/', 'corosync.conf', 'sdn/firewall/']);
    const d = new NodeDocuments('pve1');
    expect(d.put('firewall/cluster.fw', t('a'), 1)).toBe(true);
    expect(d.put('firewall/100.fw', t('x'), 2)).toBe(false);
    expect(d.put('nodes/pve1/lxc/100.conf', t('c'), 3)).toBe(true);
    expect(d.isInput('firewall/100.fw')).toBe(true);
    expect(d.put('firewall/100.fw', t('y'), 4)).toBe(true);
    expect(d.put('firewall/100.fw', t('y'), 5)).toBe(false);
    expect(d.put('sdn/firewall/vnet1.fw', t('v'), 6)).toBe(true);
    expect([...d.inputs().keys()].sort()).toEqual(['firewall/100.fw', 'firewall/cluster.fw', 'nodes/pve1/lxc/100.conf', 'sdn/firewall/vnet1.fw']);
    expect(d.delete('nodes/pve1/lxc/100.conf')).toBe(true);
    expect(d.isInput('firewall/100.fw')).toBe(false);
    expect(d.delete('firewall/100.fw')).toBe(false);
    expect(d.delete('nodes/pve1/host.fw')).toBe(false);
  });
});
