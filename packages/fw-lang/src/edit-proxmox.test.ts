/**
 * The edits the Proxmox REST layer needs, and where they put lines: the places match what
 * pve-firewall's writer produces (aliases, IP set entries and IP sets in name/address order).
 */
import { describe, expect, it } from 'vitest';
import { cleanIpSetCidr, editFwDocument, type FwEdit } from './edit.js';
import { parseFwDocument } from './parse-fw.js';
import { apiOptionValue } from './options.js';

const BASE = `[ALIASES]

beta 10.0.0.2
delta 10.0.0.4 # d

[IPSET alpha]

10.0.0.1

[IPSET mid] # middle

10.1.0.0/16
10.3.0.0/16

[IPSET zulu]

[group web] # web tier

IN ACCEPT -p tcp -dport 80
`;

function apply(edit: FwEdit, text = BASE): string {
  const r = editFwDocument(parseFwDocument(text, { path: 'firewall/cluster.fw', kind: 'cluster' }), edit);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.text;
}

describe('edits for the Proxmox REST API', () => {
  it('sets and removes a security group comment', () => {
    expect(apply({ op: 'group.comment', name: 'web', comment: 'front' })).toContain('[group web] # front\n');
    expect(apply({ op: 'group.comment', name: 'web' })).toContain('[group web]\n\nIN ACCEPT');
    expect(editFwDocument(parseFwDocument(BASE, { path: 'firewall/cluster.fw', kind: 'cluster' }), { op: 'group.comment', name: 'db' })).toMatchObject({ ok: false, code: 'not-found' });
  });

  it('renames a security group into its name-sorted place', () => {
    const text = `${BASE}\n[group app]\n\nOUT ACCEPT\n`;
    const after = apply({ op: 'group.rename', name: 'web', newName: 'aaa' }, text);
    expect(after).toBe(BASE.replace('[group web] # web tier\n\nIN ACCEPT -p tcp -dport 80\n', '[group aaa] # web tier\n\nIN ACCEPT -p tcp -dport 80\n\n[group app]\n\nOUT ACCEPT\n'));
  });

  it('renames an IP set into its name-sorted place, keeping entries and comment', () => {
    const text = apply({ op: 'ipset.update', name: 'alpha', newName: 'omega' });
    expect(text).toBe(BASE.replace('[IPSET alpha]\n\n10.0.0.1\n\n', '').replace('[IPSET zulu]', '[IPSET omega]\n\n10.0.0.1\n\n[IPSET zulu]'));
    const commented = apply({ op: 'ipset.update', name: 'mid', comment: 'new' });
    expect(commented).toContain('[IPSET mid] # new\n\n10.1.0.0/16');
    expect(apply({ op: 'ipset.update', name: 'zulu', newName: 'aaa' })).toMatch(/\[ALIASES\][\s\S]*\[IPSET aaa\]\n\n\[IPSET alpha\]/);
    expect(editFwDocument(parseFwDocument(BASE, { path: 'firewall/cluster.fw', kind: 'cluster' }), { op: 'ipset.update', name: 'alpha', newName: 'mid' })).toMatchObject({
      ok: false,
      code: 'exists',
    });
  });

  it('adds IP set entries in address order with host bits cleared', () => {
    expect(apply({ op: 'ipset.entry.add', set: 'mid', cidr: '10.2.3.4/16', comment: 'two' })).toContain('10.1.0.0/16\n10.2.0.0/16 # two\n10.3.0.0/16\n');
    expect(apply({ op: 'ipset.entry.add', set: 'mid', cidr: '10.9.0.0/16' })).toContain('10.3.0.0/16\n10.9.0.0/16\n');
    expect(cleanIpSetCidr('192.0.2.77/24')).toBe('192.0.2.0/24');
    expect(cleanIpSetCidr('192.0.2.77/32')).toBe('192.0.2.77');
    expect(cleanIpSetCidr('2001:db8::1/64')).toBe('2001:db8::/64');
    expect(cleanIpSetCidr('dc/office')).toBe('dc/office');
  });

  it('adds aliases in name order and moves a renamed one', () => {
    expect(apply({ op: 'alias.add', name: 'Charlie', cidr: '10.0.0.3' })).toContain('beta 10.0.0.2\nCharlie 10.0.0.3\ndelta');
    expect(apply({ op: 'alias.update', name: 'beta', cidr: '10.0.0.2', rename: 'echo' })).toContain('delta 10.0.0.4 # d\necho 10.0.0.2\n');
  });

  it('types option values as the API shows them, with the anti-lockout timestamp expiring', () => {
    expect(apiOptionValue('cluster', 'policy_in', 'DROP', 0)).toBe('DROP');
    expect(apiOptionValue('host', 'nf_conntrack_max', '262144', 0)).toBe(262144);
    expect(apiOptionValue('guest', 'dhcp', '1', 0)).toBe(1);
    expect(apiOptionValue('cluster', 'enable', '1700000000', 1700000060)).toBe(1700000000);
    expect(apiOptionValue('cluster', 'enable', '1700000000', 1700000061)).toBe(0);
  });
});
