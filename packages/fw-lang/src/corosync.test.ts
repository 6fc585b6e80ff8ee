import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCorosyncConfig } from './corosync.js';
import { joinSourceLines } from './source-lines.js';

/** The shape `pvecm` writes: knet, two links, three nodes. */
const PROXMOX_3_NODES = `logging {
  debug: off
  to_syslog: yes
}

nodelist {
  node {
    name: pve1
    nodeid: 1
    quorum_votes: 1
    ring0_addr: 10.10.10.1
    ring1_addr: 192.168.100.1
  }
  node {
    name: pve2
    nodeid: 2
    quorum_votes: 1
    ring0_addr: 10.10.10.2
    ring1_addr: 192.168.100.2
  }
  node {
    name: pve3
    nodeid: 3
    quorum_votes: 1
    ring0_addr: 10.10.10.3
    ring1_addr: 192.168.100.3
  }
}

quorum {
  provider: corosync_votequorum
}

totem {
  cluster_name: prod-cluster
  config_version: 5
  interface {
    linknumber: 0
  }
  interface {
    linknumber: 1
  }
  ip_version: ipv4-6
  link_mode: passive
  secauth: on
  version: 2
}
`;

/** pve-firewall's test/corosync.conf as described in spec §7.2 (after the proxself substitution). */
const PVE_TEST = `totem {
  version: 2
  secauth: on
  cluster_name: test
  transport: udp
  ip_version: ipv4
  interface {
    ringnumber: 0
    bindnetaddr: 172.16.1.2
  }
}

nodelist {
  node {
    ring0_addr: 172.16.1.11
    ring1_addr: 172.16.2.11
    ring2_addr: hostname1
    name: prox1
    nodeid: 1
  }
  node {
    ring0_addr: 172.16.1.12
    ring1_addr: 172.16.2.12
    ring2_addr: hostname2
    name: prox2
    nodeid: 2
  }
  node {
    ring0_addr: 172.16.1.3
    ring1_addr: 172.16.2.3
    ring2_addr: hostname3
    name: prox3
    nodeid: 3
  }
  node {
    ring0_addr: 172.16.1.2
    ring1_addr: 172.16.2.2
    ring2_addr: localnode
    name: localnode
    nodeid: 4
  }
}

quorum {
  provider: corosync_votequorum
}

logging {
  to_syslog: yes
  debug: off
}
`;

const parse = (text: string | Uint8Array) => parseCorosyncConfig(text, { path: 'corosync.conf' });

describe('parseCorosyncConfig', () => {
  it('reads a three-node knet cluster with two links', () => {
    const c = parse(PROXMOX_3_NODES);
    expect(c.kind).toBe('corosync');
    expect(c.diagnostics).toEqual([]);
    expect(c.clusterName).toBe('prod-cluster');
    expect(c.transport).toBe('knet');
    expect(c.ipVersion).toBe('ipv4-6');
    expect(c.nodes).toEqual([
      { name: 'pve1', nodeid: 1, rings: new Map([[0, '10.10.10.1'], [1, '192.168.100.1']]), line: 7 },
      { name: 'pve2', nodeid: 2, rings: new Map([[0, '10.10.10.2'], [1, '192.168.100.2']]), line: 14 },
      { name: 'pve3', nodeid: 3, rings: new Map([[0, '10.10.10.3'], [1, '192.168.100.3']]), line: 21 },
    ]);
    expect(joinSourceLines(c.lines)).toBe(PROXMOX_3_NODES);
  });

  it('reads the pve-firewall test config (udp, ipv4, host names on ring2)', () => {
    const c = parse(PVE_TEST);
    expect(c.diagnostics).toEqual([]);
    expect(c.transport).toBe('udp');
    expect(c.ipVersion).toBe('ipv4');
    expect(c.clusterName).toBe('test');
    expect(c.nodes.map((n) => n.name)).toEqual(['prox1', 'prox2', 'prox3', 'localnode']);
    expect(c.nodes[0]?.rings).toEqual(new Map([[0, '172.16.1.11'], [1, '172.16.2.11'], [2, 'hostname1']]));
    expect(c.nodes[3]?.rings.get(1)).toBe('172.16.2.2');
  });

  it('handles comments, compact spacing, linkN_addr and missing names', () => {
    const c = parse(
      [
        '# managed by pvecm',
        'totem { cluster_name: c1 # trailing comment',
        '} nodelist {',
        '  node { link0_addr: fd00::1  link1_addr: 10.0.0.1 nodeid: 7 }',
        '  node { name: b ring0_addr: 10.0.0.2 link0_addr: 10.9.9.9 }',
        '}',
      ].join('\n'),
    );
    expect(c.diagnostics).toEqual([]);
    expect(c.clusterName).toBe('c1');
    expect(c.transport).toBe('knet');
    expect(c.ipVersion).toBeUndefined();
    expect(c.nodes).toEqual([
      { name: 'fd00::1', nodeid: 7, rings: new Map([[0, 'fd00::1'], [1, '10.0.0.1']]), line: 4 },
      { name: 'b', rings: new Map([[0, '10.0.0.2']]), line: 5 },
    ]);
  });

  it('ignores link keys with more than one digit, as the reference does', () => {
    const c = parse('nodelist {\n node {\n name: a\n ring10_addr: 10.0.0.1\n ring0_addr: 10.0.0.2\n }\n}\n');
    expect(c.nodes[0]?.rings).toEqual(new Map([[0, '10.0.0.2']]));
  });

  it('reports syntax errors with their line and keeps going', () => {
    const c = parse(['totem {', '  cluster_name x', '  transport: udp', '}', '}', 'nodelist {', '  node {', '    name: a', '    ring0_addr: 10.0.0.1', '  }'].join('\n'));
    expect(c.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
      ['FW0801', 2, "missing ':' after key 'cluster_name'"],
      ['FW0801', 2, "missing ':' after key 'x'"],
      ['FW0801', 5, "parse error - unexpected '}'"],
      ['FW0801', 6, "section 'nodelist' is not closed (missing '}')"],
    ]);
    expect(c.transport).toBe('udp');
    expect(c.nodes.map((n) => n.name)).toEqual(['a']);
    expect(c.diagnostics.every((d) => d.severity === 'error')).toBe(true);
  });

  it('reports repeated sections, missing values and unusable nodes', () => {
    const c = parse('totem {\n version: 2\n}\ntotem {\n}\nnodelist {\n node {\n nodeid: 1\n }\n node {\n name: x\n }\n node {\n name: x\n ring0_addr: 10.0.0.9\n }\n}\nquorum {\n provider:');
    expect(c.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['FW0801', 4],
      ['FW0802', 7],
      ['FW0802', 10],
      ['FW0803', 13],
      ['FW0801', 18],
      ['FW0801', 19],
    ]);
    expect(c.diagnostics[0]?.message).toBe("section 'totem' already exists and not marked as array");
    expect(c.diagnostics[4]?.message).toBe("section 'quorum' is not closed (missing '}')");
    expect(c.diagnostics[5]?.message).toBe("parse error - no value for 'provider'");
    expect(c.nodes).toEqual([
      { name: '', nodeid: 1, rings: new Map(), line: 7 },
      { name: 'x', rings: new Map([[0, '10.0.0.9']]), line: 13 },
    ]);
  });

  it('gives defaults for an empty file', () => {
    const c = parse('');
    expect(c).toEqual({ kind: 'corosync', path: 'corosync.conf', lines: [], transport: 'knet', nodes: [], diagnostics: [] });
  });

  it('accepts bytes and CRLF', () => {
    const bytes = Uint8Array.from(PVE_TEST.replace(/\n/g, '\r\n'), (ch) => ch.charCodeAt(0));
    const c = parse(bytes);
    expect(c.diagnostics).toEqual([]);
    expect(c.nodes).toHaveLength(4);
  });

  it('never throws on random input', () => {
    const piece = fc.constantFrom('totem', 'nodelist', 'node', '{', '}', 'name:', 'a', 'ring0_addr:', '10.0.0.1', '#', '\n', ' ', 'transport:');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }).map((a) => a.join(' ')), (s) => {
        const c = parse(s);
        expect(joinSourceLines(c.lines)).toBe(s);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        parse(s);
      }),
      { numRuns: 1000 },
    );
  });
});
