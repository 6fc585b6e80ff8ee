import { loadTree } from '@palisade/fw-lang';
import { describe, expect, it } from 'vitest';
import { compileNode } from './compile.js';
import { diffSetElements, renderSetUpdate } from './set-update.js';

const BASE: Record<string, string> = {
  'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.0.0.1\n10.0.1.0/24\n\n[RULES]\nIN SSH(ACCEPT) -source +admins\n',
  'firewall/100.fw': '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 80\n',
  'nodes/pve1/qemu-server/100.conf': 'net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n',
};

function compile(files: Record<string, string>) {
  return compileNode(loadTree(new Map(Object.entries(files))), { node: 'pve1', hostAddresses: ['192.0.2.1/24'] }).ruleset;
}

describe('ipset-only changes', () => {
  it('are element updates, even though the rule lines below the set moved', () => {
    const before = compile(BASE);
    const after = compile({
      ...BASE,
      'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.0.0.1\n10.0.1.0/24\n10.9.9.9\n\n[RULES]\nIN SSH(ACCEPT) -source +admins\n',
    });
    const changes = diffSetElements(before, after);
    expect(changes?.map((c) => [c.set, c.removed.length, c.added.length])).toEqual([['PVEFW-0-admins-v4', 0, 1]]);
    expect(renderSetUpdate(changes ?? [])).toBe('add element inet palisade PVEFW-0-admins-v4 { 10.9.9.9 }\n');
  });

  it('turn into removals and additions when an entry is replaced', () => {
    const after = compile({
      ...BASE,
      'firewall/cluster.fw': '[OPTIONS]\nenable: 1\n\n[IPSET admins]\n10.0.0.2\n10.0.1.0/24\n\n[RULES]\nIN SSH(ACCEPT) -source +admins\n',
    });
    const update = renderSetUpdate(diffSetElements(compile(BASE), after) ?? []);
    expect(update).toBe('delete element inet palisade PVEFW-0-admins-v4 { 10.0.0.1 }\nadd element inet palisade PVEFW-0-admins-v4 { 10.0.0.2 }\n');
  });

  it('give no change for the same configuration', () => {
    expect(diffSetElements(compile(BASE), compile(BASE))).toEqual([]);
  });

  it('are refused when a rule changed too', () => {
    const after = compile({ ...BASE, 'firewall/100.fw': '[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 81\n' });
    expect(diffSetElements(compile(BASE), after)).toBeUndefined();
  });
});
