import { describe, expect, it } from 'vitest';
import { editFwDocument, formatRule, type FwEdit } from './edit.js';
import { parseFwDocument } from './parse-fw.js';
import type { FwDocument, FwDocumentKind } from './model.js';

const BASE = `# managed by hand, keep this comment
[OPTIONS]

enable: 1
policy_in: DROP

[ALIASES]

office 203.0.113.0/24 # the office

[IPSET admins] # admins

dc/office
10.0.0.1

[RULES]

IN SSH(ACCEPT) -source +admins # first
OUT ACCEPT   -p tcp -dport 80 # odd spacing kept
IN DROP -p udp # third

[group web] # web

IN ACCEPT -p tcp -dport 80,443
IN Ping(ACCEPT)
`;

function doc(text = BASE, kind: FwDocumentKind = 'cluster'): FwDocument {
  return parseFwDocument(text, { path: 'firewall/cluster.fw', kind });
}

function apply(edit: FwEdit, text = BASE, kind: FwDocumentKind = 'cluster'): string {
  const result = editFwDocument(doc(text, kind), edit);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.text;
}

/** Lines that differ between two texts, as `-old`/`+new`. */
function changed(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && a[start] === b[start]) start += 1;
  let endA = a.length - 1;
  let endB = b.length - 1;
  while (endA >= start && endB >= start && a[endA] === b[endB]) {
    endA -= 1;
    endB -= 1;
  }
  return [...a.slice(start, endA + 1).map((l) => `-${l}`), ...b.slice(start, endB + 1).map((l) => `+${l}`)];
}

describe('formatRule', () => {
  it('writes the canonical order of the reference writer', () => {
    expect(
      formatRule({
        type: 'in',
        action: 'ACCEPT',
        macro: 'SSH',
        iface: 'vmbr0',
        proto: 'tcp',
        dport: '22',
        sport: '1024:65535',
        source: '10.0.0.1',
        dest: '10.0.0.2',
        log: 'info',
        icmpType: 'x',
        comment: 'c',
        enable: false,
      }),
    ).toBe('|IN SSH(ACCEPT) -i vmbr0 -source 10.0.0.1 -dest 10.0.0.2 -p tcp -dport 22 -sport 1024:65535 -log info -icmp-type x # c');
    expect(formatRule({ type: 'group', action: 'web', iface: 'net0', proto: 'tcp' })).toBe('GROUP web -i net0');
    expect(formatRule({ type: 'in', action: 'DROP', iface: 'net0' }, { inGroup: true })).toBe('IN DROP');
  });
});

describe('rules', () => {
  it('adds at the top by default, like Proxmox, changing only that line', () => {
    const after = apply({ op: 'rule.add', rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '8006' } });
    expect(changed(BASE, after)).toEqual(['+IN ACCEPT -p tcp -dport 8006']);
    expect(doc(after).rules[0]?.dport).toBe('8006');
  });

  it('adds at a position and at the end', () => {
    const mid = apply({ op: 'rule.add', pos: 2, rule: { type: 'out', action: 'DROP' } });
    expect(doc(mid).rules.map((r) => r.action)).toEqual(['ACCEPT', 'ACCEPT', 'DROP', 'DROP']);
    expect(doc(mid).rules[2]?.type).toBe('out');
    const end = apply({ op: 'rule.add', pos: 99, rule: { type: 'out', action: 'REJECT' } });
    expect(doc(end).rules.map((r) => r.action)).toEqual(['ACCEPT', 'ACCEPT', 'DROP', 'REJECT']);
  });

  it('adds into a security group', () => {
    const after = apply({ op: 'rule.add', group: 'web', pos: 5, rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '8080' } });
    expect(doc(after).groups.get('web')?.rules.map((r) => r.dport)).toEqual(['80,443', undefined, '8080']);
  });

  it('creates the [RULES] section at its canonical place when missing', () => {
    const text = '[OPTIONS]\nenable: 1\n\n[group web]\nIN ACCEPT\n';
    const after = apply({ op: 'rule.add', rule: { type: 'in', action: 'DROP' } }, text);
    expect(after).toBe('[OPTIONS]\nenable: 1\n\n[RULES]\n\nIN DROP\n\n[group web]\nIN ACCEPT\n');
  });

  it('updates one rule, keeping the others byte for byte', () => {
    const after = apply({ op: 'rule.update', pos: 0, set: { log: 'debug' }, delete: ['comment'] });
    expect(changed(BASE, after)).toEqual(['-IN SSH(ACCEPT) -source +admins # first', '+IN SSH(ACCEPT) -source +admins -log debug']);
  });

  it('moves with Proxmox moveto semantics', () => {
    const actions = (t: string) => doc(t).rules.map((r) => r.comment);
    expect(actions(apply({ op: 'rule.update', pos: 0, moveto: 2 }))).toEqual(['odd spacing kept', 'first', 'third']);
    expect(actions(apply({ op: 'rule.update', pos: 2, moveto: 0 }))).toEqual(['third', 'first', 'odd spacing kept']);
    expect(actions(apply({ op: 'rule.update', pos: 0, moveto: 10 }))).toEqual(['odd spacing kept', 'third', 'first']);
    // a moved rule keeps its exact text
    expect(apply({ op: 'rule.update', pos: 1, moveto: 0 })).toContain('OUT ACCEPT   -p tcp -dport 80 # odd spacing kept');
  });

  it('deletes one rule', () => {
    expect(changed(BASE, apply({ op: 'rule.delete', pos: 1 }))).toEqual(['-OUT ACCEPT   -p tcp -dport 80 # odd spacing kept']);
  });

  it('refuses an edit that makes the document invalid, with the diagnostics', () => {
    const result = editFwDocument(doc(), { op: 'rule.add', rule: { type: 'in', action: 'ACCEPT', dport: '22' } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('invalid');
      expect(result.diagnostics?.[0]?.message).toBe("proto: missing property - 'dport' requires this property");
    }
  });

  it('reports positions that do not exist', () => {
    const result = editFwDocument(doc(), { op: 'rule.delete', pos: 7 });
    expect(result).toMatchObject({ ok: false, code: 'not-found' });
  });
});

describe('options', () => {
  it('replaces an existing option line in place', () => {
    expect(changed(BASE, apply({ op: 'option.set', name: 'policy_in', value: 'REJECT' }))).toEqual([
      '-policy_in: DROP',
      '+policy_in: REJECT',
    ]);
  });
  it('appends a new option to the section and deletes options', () => {
    const after = apply({ op: 'option.set', name: 'ebtables', value: '0' });
    expect(changed(BASE, after)).toEqual(['+ebtables: 0']);
    expect(doc(after).options?.get('ebtables')?.value).toBe('0');
    expect(changed(BASE, apply({ op: 'option.delete', name: 'enable' }))).toEqual(['-enable: 1']);
  });
  it('creates [OPTIONS] first when missing', () => {
    expect(apply({ op: 'option.set', name: 'enable', value: '1' }, '[RULES]\nIN ACCEPT\n', 'guest')).toBe(
      '[OPTIONS]\n\nenable: 1\n\n[RULES]\nIN ACCEPT\n',
    );
  });
  it('refuses invalid values', () => {
    expect(editFwDocument(doc(), { op: 'option.set', name: 'policy_in', value: 'DENY' })).toMatchObject({ ok: false, code: 'invalid' });
  });
});

describe('aliases and IP sets', () => {
  it('adds, updates and deletes aliases', () => {
    expect(changed(BASE, apply({ op: 'alias.add', name: 'dns', cidr: '192.0.2.53', comment: 'resolver' }))).toEqual([
      '+dns 192.0.2.53 # resolver',
    ]);
    expect(changed(BASE, apply({ op: 'alias.update', name: 'OFFICE', cidr: '203.0.113.0/25' }))).toEqual([
      '-office 203.0.113.0/24 # the office',
      '+office 203.0.113.0/25',
    ]);
    expect(editFwDocument(doc(), { op: 'alias.delete', name: 'office' })).toMatchObject({ ok: false, code: 'invalid' });
    expect(editFwDocument(doc(), { op: 'alias.add', name: 'office', cidr: '1.2.3.4' })).toMatchObject({ ok: false, code: 'exists' });
  });

  it('adds and removes IP set entries, with nomatch', () => {
    const after = apply({ op: 'ipset.entry.add', set: 'admins', cidr: '10.0.0.0/8', nomatch: true, comment: 'x' });
    expect(changed(BASE, after)).toEqual(['+!10.0.0.0/8 # x']);
    expect(changed(BASE, apply({ op: 'ipset.entry.delete', set: 'admins', cidr: '10.0.0.1/32' }))).toEqual(['-10.0.0.1']);
  });

  it('creates an IP set in name order and refuses to delete a non-empty one without force', () => {
    const after = apply({ op: 'ipset.create', name: 'Blacklist', comment: 'bad' });
    expect(doc(after).ipsets.get('blacklist')?.comment).toBe('bad');
    expect(after.indexOf('[IPSET admins]')).toBeLessThan(after.indexOf('[IPSET blacklist]'));
    expect(after.indexOf('[IPSET blacklist]')).toBeLessThan(after.indexOf('[RULES]'));
    expect(editFwDocument(doc(), { op: 'ipset.delete', name: 'admins' })).toMatchObject({ ok: false, code: 'not-empty' });
  });
});

describe('security groups', () => {
  it('renames a group and its references in the document', () => {
    const text = `${BASE}\n[RULES]\nGROUP web -i vmbr0\n`;
    const after = apply({ op: 'group.rename', name: 'web', newName: 'www' }, text);
    expect(after).toBe(text.replace('[group web] # web', '[group www] # web').replace('GROUP web -i vmbr0', 'GROUP www -i vmbr0'));
  });

  it('creates and deletes groups', () => {
    const created = apply({ op: 'group.create', name: 'db', comment: 'databases' });
    expect(doc(created).groups.get('db')?.comment).toBe('databases');
    const deleted = apply({ op: 'group.delete', name: 'web' });
    expect(deleted.includes('[group web]')).toBe(false);
    expect(doc(deleted).rules).toHaveLength(3);
  });
});
