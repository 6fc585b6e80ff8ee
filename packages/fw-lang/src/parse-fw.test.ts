import { describe, expect, it } from 'vitest';
import { parseFwDocument, type ParseFwOptions } from './parse-fw.js';
import { printDocument, printDocumentBytes } from './print.js';
import type { FwDocument, FwDocumentKind } from './model.js';

function parse(text: string, kind: FwDocumentKind = 'cluster', extra: Partial<ParseFwOptions> = {}): FwDocument {
  return parseFwDocument(text, { path: `test/${kind}.fw`, kind, ...extra });
}

function codes(doc: FwDocument): string[] {
  return doc.diagnostics.map((d) => `${d.line}:${d.code}`);
}

function rule(text: string, kind: FwDocumentKind = 'host', extra: Partial<ParseFwOptions> = {}) {
  const doc = parse(`[RULES]\n${text}\n`, kind, extra);
  return { doc, rule: doc.rules[0], diagnostics: doc.diagnostics };
}

const CLUSTER = parse(`[OPTIONS]
enable: 1

[ALIASES]
office 203.0.113.0/24
v6net 2001:db8::/32
monitor 198.51.100.10

[IPSET admins]
dc/office
!203.0.113.66
2001:db8:100::/48

[IPSET management]
192.0.2.0/24

[RULES]
IN SSH(ACCEPT) -source +dc/admins -log info

[group web]
IN ACCEPT -p tcp -dport 80,443
`);

describe('sections', () => {
  it('recognises headers case-insensitively and keeps comments of group and ipset headers', () => {
    const doc = parse('[options]\nenable: 1\n[Rules]\nIN ACCEPT\n[IPSET Foo] # my set\n1.2.3.4\n[GROUP Web] # grp\nIN DROP\n');
    expect(doc.options?.get('enable')?.value).toBe('1');
    expect(doc.rules).toHaveLength(1);
    expect(doc.ipsets.get('foo')?.comment).toBe('my set');
    expect(doc.groups.get('web')?.comment).toBe('grp');
    expect(doc.groups.get('web')?.rules[0]?.action).toBe('DROP');
    expect(doc.diagnostics).toEqual([]);
  });

  it('skips content before the first header with FW0101', () => {
    const doc = parse('IN ACCEPT\n[RULES]\nIN DROP\n');
    expect(codes(doc)).toEqual(['1:FW0101']);
    expect(doc.rules).toHaveLength(1);
  });

  it('does not recognise headers with trailing comments for OPTIONS/RULES/ALIASES', () => {
    const doc = parse('[RULES] # x\nIN ACCEPT\n');
    expect(codes(doc)).toEqual(['1:FW0101', '2:FW0101']);
  });

  it('treats a section not allowed in the document kind as content of the current section', () => {
    const doc = parse('[RULES]\nIN ACCEPT\n[IPSET x]\n1.2.3.4\n', 'host');
    // the header is a bogus rule of type "[ipset" and the entry an unparseable rule
    expect(codes(doc)).toEqual(['3:FW0103', '3:FW0401', '4:FW0301']);
    expect(doc.rules.map((r) => r.type)).toEqual(['in', '[ipset']);
  });

  it('refuses invalid group and ipset names and skips their content', () => {
    const doc = parse('[group this-name-is-far-too-long]\nIN ACCEPT\n[IPSET 1bad]\n1.2.3.4\n[IPSET ok]\n1.2.3.4\n');
    expect(codes(doc)).toEqual(['1:FW0102', '2:FW0101', '3:FW0102', '4:FW0101']);
    expect([...doc.ipsets.keys()]).toEqual(['ok']);
  });

  it('resets a repeated group or ipset and accumulates repeated OPTIONS and RULES', () => {
    const doc = parse('[IPSET aa]\n1.1.1.1\n[RULES]\nIN ACCEPT\n[IPSET aa]\n2.2.2.2\n[RULES]\nOUT DROP\n[OPTIONS]\nenable: 1\n[OPTIONS]\nenable: 0\n');
    expect(doc.ipsets.get('aa')?.entries.map((e) => e.cidr)).toEqual(['2.2.2.2']);
    expect(doc.rules.map((r) => r.type)).toEqual(['in', 'out']);
    expect(doc.options?.get('enable')?.value).toBe('0');
    expect(codes(doc)).toEqual(['5:FW0104']);
  });

  it('distinguishes a guest document without options section from one with an empty one', () => {
    expect(parse('[RULES]\nIN ACCEPT\n', 'guest').options).toBeUndefined();
    expect(parse('[OPTIONS]\n', 'guest').options?.size).toBe(0);
    expect(parse('', 'guest').options).toBeUndefined();
  });

  it('records section extents for editors', () => {
    const doc = parse('[OPTIONS]\nenable: 1\n\n[RULES]\n\nIN ACCEPT\n# c\n');
    expect(doc.sections).toEqual([
      { kind: 'options', headerLine: 1, endLine: 3 },
      { kind: 'rules', headerLine: 4, endLine: 7 },
    ]);
  });
});

describe('options', () => {
  it.each([
    ['cluster', 'enable: 1', 'enable', '1'],
    ['cluster', 'enable:1', 'enable', '1'],
    ['cluster', 'ENABLE: 1', 'enable', '1'],
    ['cluster', 'policy_in: reject', 'policy_in', 'REJECT'],
    ['cluster', 'policy_forward: DROP', 'policy_forward', 'DROP'],
    ['cluster', 'ebtables: 0', 'ebtables', '0'],
    ['cluster', 'log_ratelimit: enable=1,rate=10/minute,burst=20', 'log_ratelimit', 'enable=1,rate=10/minute,burst=20'],
    ['host', 'log_level_in: INFO', 'log_level_in', 'info'],
    ['host', 'log_level_out:', 'log_level_out', ''],
    ['host', 'nf_conntrack_helpers: FTP,tftp', 'nf_conntrack_helpers', 'ftp,tftp'],
    ['host', 'nf_conntrack_max: 1000000', 'nf_conntrack_max', '1000000'],
    ['host', 'protection_synflood: 1', 'protection_synflood', '1'],
    ['host', 'nosmurfs: 0', 'nosmurfs', '0'],
    ['guest', 'ipfilter: 1', 'ipfilter', '1'],
    ['guest', 'ips_queues: 0:3', 'ips_queues', '0:3'],
    ['guest', 'layer2_protocols: ARP,IPv4', 'layer2_protocols', 'ARP,IPv4'],
    ['vnet', 'policy_forward: drop', 'policy_forward', 'DROP'],
    ['vnet', 'log_level_forward: debug', 'log_level_forward', 'debug'],
  ] as const)('%s accepts %s', (kind, line, name, value) => {
    const doc = parse(`[OPTIONS]\n${line}\n`, kind);
    expect(doc.diagnostics).toEqual([]);
    expect(doc.options?.get(name)?.value).toBe(value);
  });

  it.each([
    ['cluster', 'enable: yes', 'FW0203'],
    ['cluster', 'enable: 1 # comment', 'FW0203'],
    ['cluster', 'policy_in: DENY', 'FW0203'],
    ['cluster', 'LOG_RATELIMIT: 1', 'FW0202'],
    ['cluster', 'log_ratelimit: rate=1/week', 'FW0204'],
    ['cluster', 'log_ratelimit: enable=1,foo=2', 'FW0204'],
    ['cluster', 'ndp: 1', 'FW0202'],
    ['cluster', 'just words', 'FW0201'],
    ['host', 'tcpflags: 2', 'FW0203'],
    ['host', 'nf_conntrack_helpers: ftp,http', 'FW0203'],
    ['host', 'nf_conntrack_max: -1', 'FW0203'],
    ['host', 'policy_in: DROP', 'FW0202'],
    ['guest', 'dhcp: true', 'FW0203'],
    ['guest', 'log_level_in: verbose', 'FW0203'],
    ['guest', 'layer2_protocols: NOPE', 'FW0203'],
    ['guest', 'ips_queues: a', 'FW0203'],
    ['vnet', 'policy_forward: REJECT', 'FW0203'],
    ['vnet', 'log_level_forward:', 'FW0203'],
  ] as const)('%s refuses %s with %s and keeps other options', (kind, line, code) => {
    const doc = parse(`[OPTIONS]\n${line}\nenable: 1\n`, kind);
    expect(codes(doc)).toEqual([`2:${code}`]);
    expect(doc.diagnostics[0]?.effect).toBe('dropped');
    expect(doc.options?.get('enable')?.value).toBe('1');
  });

  it('notes a timestamp value of cluster enable', () => {
    expect(codes(parse('[OPTIONS]\nenable: 1700000000\n'))).toEqual(['2:FW0205']);
  });
});

describe('rule tokenising', () => {
  it('parses every option and keeps values verbatim', () => {
    const { rule: r } = rule('|IN ACCEPT -i vmbr0 -source 10.0.0.1 -dest 10.0.0.2 -p tcp -dport 22 -sport 1024:65535 -log info # hello ');
    expect(r).toMatchObject({
      enabled: false,
      type: 'in',
      action: 'ACCEPT',
      iface: 'vmbr0',
      source: '10.0.0.1',
      dest: '10.0.0.2',
      proto: 'tcp',
      dport: '22',
      sport: '1024:65535',
      log: 'info',
      comment: 'hello',
      ipVersion: 4,
      errors: [],
    });
  });

  it('accepts the double-dash and -proto spellings, any option order, and lets the last repeat win', () => {
    const { rule: r, diagnostics } = rule('OUT DROP --dport 80 --proto udp -p tcp --source 1.2.3.4 --dest 5.6.7.8 --log debug --icmp-type x -dport 81');
    expect(r).toMatchObject({ proto: 'tcp', dport: '81', source: '1.2.3.4', dest: '5.6.7.8', log: 'debug', icmpType: 'x' });
    expect(diagnostics.map((d) => d.code)).toContain('FW0409');
  });

  it('lower-cases the type, canonicalises the macro and keeps the action case', () => {
    expect(rule('In ssh(ACCEPT)').rule).toMatchObject({ type: 'in', macro: 'SSH', action: 'ACCEPT', errors: [] });
  });

  it('cuts the value at the first # (the reference does)', () => {
    expect(rule('IN ACCEPT -source 1.2.3.4#x').rule).toMatchObject({ source: '1.2.3.4', comment: 'x' });
  });

  it.each([
    ['IN', 'FW0301'],
    ['| IN ACCEPT', 'FW0301'],
    ['IN ACCEPT -iface net0', 'FW0302'],
    ['IN ACCEPT --iface vmbr0', 'FW0302'],
    ['IN ACCEPT -i  vmbr0', 'FW0302'],
    ['IN ACCEPT -i\tvmbr0', 'FW0302'],
    ['IN ACCEPT -p tcp -sports 80', 'FW0302'],
    ['IN ACCEPT -log INFO', 'FW0302'],
    ['IN ACCEPT -p', 'FW0302'],
    ['GROUP web -p tcp', 'FW0302'],
    ['IN ACCEPT foo', 'FW0302'],
  ])('drops %j with %s', (text, code) => {
    const { doc, diagnostics } = rule(text);
    expect(doc.rules).toEqual([]);
    expect(diagnostics.map((d) => d.code)).toEqual([code]);
    expect(diagnostics[0]?.effect).toBe('dropped');
  });

  it('points at the column where the parameters stop parsing', () => {
    const { diagnostics } = rule('IN ACCEPT -p tcp -bogus 1');
    expect(diagnostics[0]).toMatchObject({ line: 2, column: 18 });
  });
});

describe('rule validation', () => {
  const cases: [string, FwDocumentKind, string, string][] = [
    ['IN accept', 'host', 'action', "unknown action 'accept'"],
    ['IN ssh(accept)', 'host', 'action', "unknown action 'ssh(accept)'"],
    ['FORWARD REJECT', 'host', 'action', 'cannot define REJECT rules on forward chain'],
    ['FORWARD ACCEPT', 'guest', 'type', "invalid rule type 'forward' for rule_env 'vm'"],
    ['IN ACCEPT', 'vnet', 'type', "invalid rule type 'in' for rule_env 'vnet'"],
    ['GROUP b@d', 'host', 'action', 'invalid characters in security group name'],
    ['IN ACCEPT -i vmbr0', 'guest', 'iface', "value does not match the regex pattern 'net\\d+'"],
    ['IN ACCEPT -i bad-name', 'host', 'iface', "invalid network interface name 'bad-name'"],
    ['FORWARD ACCEPT -i vmbr0', 'vnet', 'type', 'parameter -i not allowed for this rule type'],
    ['IN FOO(ACCEPT)', 'host', 'macro', "unknown macro 'FOO'"],
    ['IN ACCEPT -p TCP', 'host', 'proto', "unknown protocol 'TCP'"],
    ['IN ACCEPT -p 200', 'host', 'proto', "unknown protocol '200'"],
    ['IN ACCEPT -dport 80', 'host', 'proto', "missing property - 'dport' requires this property"],
    ['IN ACCEPT -sport 80', 'host', 'proto', "missing property - 'sport' requires this property"],
    ['IN HTTP(ACCEPT) -dport 8080', 'host', 'proto', "missing property - 'dport' requires this property"],
    ['IN ACCEPT -p gre -dport 80', 'host', 'dport', "protocol 'gre' does not support ports"],
    ['IN ACCEPT -p icmp -sport 80', 'host', 'sport', "protocol 'icmp' does not support ports"],
    ['IN ACCEPT -p tcp -dport 70000', 'host', 'dport', "invalid port '70000'"],
    ['IN ACCEPT -p tcp -dport 90:80', 'host', 'dport', "backwards range '90:80' not allowed, did you mean '80:90'?"],
    ['IN ACCEPT -p tcp -dport 80,', 'host', 'dport', 'extraneous commas in list'],
    ['IN ACCEPT -p tcp -dport nosuchservice', 'host', 'dport', "invalid port 'nosuchservice'"],
    ['IN ACCEPT -p tcp -dport 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16', 'host', 'dport', 'too many entries in port list (> 15 numbers)'],
    ['IN ACCEPT -p icmp -dport echo-request,8', 'host', 'dport', 'ICMP ports not allowed in port range'],
    ['IN ACCEPT -icmp-type echo-request', 'host', 'proto', "missing property - 'icmp-type' requires this property"],
    ['IN ACCEPT -p icmp -icmp-type 8', 'host', 'icmp-type', "invalid icmp-type '8' for proto 'icmp'"],
    ['IN ACCEPT -p icmpv6 -icmp-type echo-reques', 'host', 'icmp-type', "invalid icmp-type 'echo-reques' for proto 'icmpv6'"],
    ['IN ACCEPT -p icmp -dport 8 -icmp-type echo-request', 'host', 'icmp-type', "'icmp-type' cannot be specified together with 'dport'"],
    ['IN ACCEPT -source 10.0.0.1,2001:db8::1', 'host', 'source', "detected mixed ipv4/ipv6 addresses in address list '10.0.0.1,2001:db8::1'"],
    ['IN ACCEPT -source 10.0.0.1-10.0.0.5,10.0.0.9', 'host', 'source', "you can't use a range in a list"],
    ['IN ACCEPT -p icmp -source 2001:db8::1', 'host', 'source', 'detected mixed ipv4/ipv6 addresses in rule'],
    ['IN ACCEPT -source 10.0.0.1 -dest 2001:db8::1', 'host', 'dest', 'detected mixed ipv4/ipv6 addresses in rule'],
    ['IN ACCEPT -source +nosuchset', 'host', 'source', "no such ipset 'nosuchset'"],
    ['IN ACCEPT -source +Admins', 'host', 'source', "no such ipset 'Admins'"],
    ['IN ACCEPT -source +1bad', 'host', 'source', "invalid ipset name '+1bad'"],
    ['IN ACCEPT -dest nosuchalias', 'host', 'dest', "no such alias 'nosuchalias'"],
    ['IN DNS(ACCEPT) -p tcp', 'host', 'proto', "parameter 'proto' already define in macro (value = 'udp')"],
    ['IN SSH(ACCEPT) -p tcp -dport 23', 'host', 'dport', "parameter 'dport' already define in macro (value = '22')"],
  ];
  it.each(cases)('%s in %s: %s error', (text, kind, field, message) => {
    const { rule: r } = rule(text, kind, { cluster: CLUSTER });
    expect(r, 'rule kept in the model').toBeDefined();
    expect(r?.errors.find((e) => e.field === field)?.message).toBe(message);
  });

  it('reports a rule error as a diagnostic with effect rule-error', () => {
    const { diagnostics } = rule('IN accept');
    expect(diagnostics).toEqual([
      { code: 'FW0402', severity: 'error', effect: 'rule-error', path: 'test/host.fw', line: 2, message: "action: unknown action 'accept'" },
    ]);
  });

  it.each([
    'IN HTTP(ACCEPT) -p tcp',
    'IN SMB(ACCEPT) -source 10.0.0.1',
    'IN SSH(ACCEPT) -p tcp -sport 1024:65535',
    'IN ACCEPT -p tcp -dport ssh,http,8000:8010',
    'IN ACCEPT -p icmp -dport echo-request',
    'IN ACCEPT -p icmp -dport 300',
    'IN ACCEPT -p ipv6-icmp -icmp-type neighbor-solicitation',
    'IN ACCEPT -p icmpv6 -icmp-type neighbour-advertisement',
    'IN ACCEPT -p 6 -dport 22',
    'IN ACCEPT -source 10/8',
    'IN ACCEPT -source 10.0.0.1-10.0.0.9',
    'IN ACCEPT -source dc/office -dest monitor',
    'IN ACCEPT -source +dc/admins -dest +management',
    'IN ACCEPT -source +guest/admins',
    'IN DHCPv6(ACCEPT) -source 10.0.0.1',
    'GROUP web -i vmbr0',
    'FORWARD ACCEPT -p tcp -dport 80',
  ])('accepts %s', (text) => {
    const { rule: r, diagnostics } = rule(text, 'host', { cluster: CLUSTER });
    expect(r?.errors).toEqual([]);
    expect(diagnostics).toEqual([]);
  });

  it('infers the IP version from proto, addresses and aliases', () => {
    expect(rule('IN ACCEPT -p icmpv6').rule?.ipVersion).toBe(6);
    expect(rule('IN ACCEPT -source 2001:db8::1').rule?.ipVersion).toBe(6);
    expect(rule('IN ACCEPT -source v6net', 'host', { cluster: CLUSTER }).rule?.ipVersion).toBe(6);
    expect(rule('IN ACCEPT -source +admins', 'host', { cluster: CLUSTER }).rule?.ipVersion).toBeUndefined();
    expect(rule('IN Ping(ACCEPT)').rule?.ipVersion).toBeUndefined();
  });

  it('drops the line when an alias gives a conflicting IP version', () => {
    const { doc, diagnostics } = rule('IN ACCEPT -p icmp -source v6net', 'host', { cluster: CLUSTER });
    expect(doc.rules).toEqual([]);
    expect(diagnostics.map((d) => d.code)).toEqual(['FW0303']);
  });

  it('validates guest rules against guest names first, cluster names second', () => {
    const doc = parse('[ALIASES]\nlocal1 10.9.9.9\n[IPSET mine]\n10.1.1.1\n[RULES]\nIN ACCEPT -source local1 -dest +mine\nIN ACCEPT -source office -dest +admins\n', 'guest', {
      cluster: CLUSTER,
    });
    expect(doc.diagnostics).toEqual([]);
  });

  it('sees only names defined above a rule in the same document', () => {
    const doc = parse('[RULES]\nIN ACCEPT -source later\n[ALIASES]\nlater 10.0.0.1\n');
    expect(codes(doc)).toEqual(['2:FW0415']);
  });

  it('refuses nested groups inside a group definition', () => {
    const doc = parse('[group aa]\nGROUP bb\n');
    // The environment check comes first and keeps its message (first error per field wins).
    expect(doc.groups.get('aa')?.rules[0]?.errors[0]?.message).toBe("invalid rule type 'group' for rule_env 'group'");
  });
});

describe('aliases', () => {
  it('normalises /32 and /128 and keeps the written name', () => {
    const doc = parse('[ALIASES]\nMyHost 10.0.0.1/32 # the host\nnet6 2001:db8::1/128\nhostbits 10.1.2.3/24\n');
    expect([...doc.aliases.values()]).toEqual([
      { name: 'MyHost', cidr: '10.0.0.1', ipVersion: 4, comment: 'the host', line: 2 },
      { name: 'net6', cidr: '2001:db8::1', ipVersion: 6, line: 3 },
      { name: 'hostbits', cidr: '10.1.2.3/24', ipVersion: 4, line: 4 },
    ]);
  });

  it.each([
    ['two  spaces 10.0.0.1', 'FW0501'],
    ['name  10.0.0.1', 'FW0501'],
    ['name 10.0.0.1-10.0.0.2', 'FW0502'],
    ['name foo', 'FW0502'],
    ['name 1.2.3.4/99', 'FW0502'],
  ])('refuses %j', (line, code) => {
    expect(codes(parse(`[ALIASES]\n${line}\n`))).toEqual([`2:${code}`]);
  });

  it('warns when an alias is redefined (the later one wins)', () => {
    const doc = parse('[ALIASES]\na 10.0.0.1\nA 10.0.0.2\n');
    expect(doc.aliases.get('a')?.cidr).toBe('10.0.0.2');
    expect(codes(doc)).toEqual(['3:FW0503']);
  });
});

describe('IP sets', () => {
  it('keeps nomatch, comments, alias references and entry errors', () => {
    const doc = parse('[ALIASES]\noffice 10.0.0.0/8\n[IPSET ss]\n!10.1.0.0/16 # not these\n! 10.2.0.0/16\noffice\nunknown\n10.0.0.1/32\n10.0.0.1\n0.0.0.0/0\n1.2.3.4-1.2.3.5\n1.2.3.4 5.6.7.8\n');
    const entries = doc.ipsets.get('ss')?.entries ?? [];
    expect(entries.map((e) => [e.cidr, e.nomatch, e.error?.code])).toEqual([
      ['10.1.0.0/16', true, undefined],
      ['10.2.0.0/16', true, undefined],
      ['office', false, undefined],
      ['unknown', false, 'FW0602'],
      ['10.0.0.1', false, undefined],
      ['10.0.0.1', false, 'FW0604'],
      ['0.0.0.0/0', false, 'FW0605'],
      ['1.2.3.4-1.2.3.5', false, 'FW0603'],
      ['1.2.3.4 5.6.7.8', false, 'FW0601'],
    ]);
    expect(entries[0]?.comment).toBe('not these');
    expect(codes(doc)).toEqual(['7:FW0602', '9:FW0604', '10:FW0605', '11:FW0603', '12:FW0601']);
  });
});

describe('document limits', () => {
  it('reports CRLF once and still reads the sections', () => {
    const doc = parse('[OPTIONS]\r\nenable: 1\r\n[RULES]\r\nIN ACCEPT\r\n');
    expect(codes(doc)).toEqual(['1:FW0004']);
    expect(doc.rules).toHaveLength(1);
    expect(printDocument(doc)).toBe('[OPTIONS]\r\nenable: 1\r\n[RULES]\r\nIN ACCEPT\r\n');
  });

  it('reports a byte order mark and still reads the first header', () => {
    const doc = parse('\uFEFF[RULES]\nIN ACCEPT\n');
    expect(codes(doc)).toEqual(['1:FW0005']);
    expect(doc.rules).toHaveLength(1);
  });

  it('does not interpret binary content or oversize documents, but prints them back', () => {
    const bin = parse('[RULES]\nIN ACCEPT\u0000\n');
    expect(codes(bin)).toEqual(['2:FW0002']);
    expect(bin.rules).toEqual([]);
    const big = parseFwDocument(`[RULES]\n${'# x\n'.repeat(100)}`, { path: 'p', kind: 'cluster', maxBytes: 64 });
    expect(big.diagnostics.map((d) => d.code)).toEqual(['FW0001']);
    expect(printDocument(big)).toBe(`[RULES]\n${'# x\n'.repeat(100)}`);
  });

  it('keeps invalid UTF-8 bytes and reports them', () => {
    const bytes = Uint8Array.from([...Buffer.from('[RULES]\nIN ACCEPT # caf'), 0xe9, 0x0a]);
    const doc = parseFwDocument(bytes, { path: 'p', kind: 'cluster' });
    expect(doc.diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual(['2:FW0003']);
    expect(Buffer.from(printDocumentBytes(doc)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('warns about very long lines without hanging', () => {
    const doc = parse(`[RULES]\nIN ACCEPT -source ${'1.2.3.4,'.repeat(2000)}1.2.3.4\n`);
    expect(codes(doc)).toContain('2:FW0006');
  });

  it('round-trips missing final newline, tabs, case and unknown lines byte for byte', () => {
    const text = '\t[options]  \n ENABLE:   1\n\nweird line\n[RULES]\n  in   accept  # c  \n|OUT DROP';
    expect(printDocument(parse(text))).toBe(text);
  });
});
