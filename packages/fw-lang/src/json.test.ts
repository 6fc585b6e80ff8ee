import { describe, expect, it } from 'vitest';
import { documentToJson } from './json.js';
import { parseDocument } from './tree.js';

function json(path: string, text: string): Record<string, unknown> {
  const doc = parseDocument(path, text);
  if (!doc) throw new Error(`test setup: ${path} is not a Proxmox path`);
  return documentToJson(doc) as Record<string, unknown>;
}

describe('documentToJson (the schema of palisade show --json)', () => {
  it('puts path and kind first and diagnostics last, for every document kind', () => {
    const fw = json('firewall/100.fw', '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 22\nIN BOGUS\n');
    expect(Object.keys(fw)).toEqual(['path', 'kind', 'options', 'rules', 'aliases', 'ipsets', 'groups', 'diagnostics']);
    expect(fw).toMatchObject({ path: 'firewall/100.fw', kind: 'guest', options: { enable: '1' } });
    expect((fw.diagnostics as unknown[]).length).toBeGreaterThan(0);

    const guest = json('nodes/pve1/qemu-server/100.conf', 'net0: virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0,firewall=1\n');
    expect(Object.keys(guest)).toEqual(['path', 'kind', 'vmid', 'nics', 'diagnostics']);
    expect(guest).toMatchObject({ kind: 'qemu-config', vmid: 100 });

    const corosync = json('corosync.conf', 'totem {\n  cluster_name: lab\n}\nnodelist {\n  node {\n    name: pve1\n    nodeid: 1\n    ring0_addr: 10.0.0.1\n  }\n}\n');
    expect(Object.keys(corosync)).toEqual(['path', 'kind', 'clusterName', 'transport', 'ipVersion', 'nodes', 'diagnostics']);
    expect(corosync).toMatchObject({ kind: 'corosync', clusterName: 'lab', nodes: [{ name: 'pve1', nodeid: 1 }] });
  });
});
