/**
 * Debian's python3-proxmoxer (token auth) driving configd's REST listener, one scenario per
 * firewall scope plus the call sequence of community.proxmox's modules (they are built on
 * proxmoxer). The `.fw` documents that result are compared with what pve-firewall writes for
 * the same calls, derived from its writer (`save_*fw_conf`, `$format_rules`, `$format_aliases`,
 * `$format_ipsets` in src/PVE/Firewall.pm): sections in the order options, aliases, IP sets,
 * rules, groups, each followed by a blank line; aliases sorted by lower-cased name; IP sets by
 * name; entries by address text; rules in list order. Inferred: pve-firewall writes options in
 * Perl hash order (unspecified), so the options section is compared as a set of lines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { REST_TOKENS } from './rest-test-client.js';

/** Debian's interpreter (a pyenv `python3` first on PATH would not see the Debian module). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SCRIPT = fileURLToPath(new URL('./proxmoxer/scenario.py', import.meta.url));
const ADMIN = REST_TOKENS[0]!;

let nats: NatsClusterHandle;
let cd: TestConfigd;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'proxmoxer', tokens: REST_TOKENS, restListen: '127.0.0.1:0' });
  const put = (path: string, content: string) => cd.call('put', { path, content: text(content) }, ADMIN.secret);
  await put('nodes/pve1/qemu-server/100.conf', 'name: web1\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n');
  await put('nodes/pve1/lxc/200.conf', 'hostname: ct1\nnet0: name=eth0,bridge=vmbr0,firewall=1\n');
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

/** Runs one scenario of scenario.py; resolves with what it printed. */
function scenario(name: string): Promise<Record<string, unknown>> {
  const address = cd.configd.restAddress!;
  const port = address.slice(address.lastIndexOf(':') + 1);
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, '127.0.0.1', port, 'root@pam', ADMIN.name, ADMIN.secret, name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`scenario ${name} exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as Record<string, unknown>);
    });
  });
}

async function fw(path: string): Promise<string> {
  return (await cd.call('get', { path }, ADMIN.secret)).document!.content.toString();
}

/** The document with the lines of its [OPTIONS] section sorted (their order is unspecified in Proxmox). */
function optionsAsSet(doc: string): string {
  return doc.replace(/(\[OPTIONS\]\n\n)([^[]*?)(\n\n|\n?$)/, (_m, head: string, body: string, tail: string) => head + body.split('\n').sort().join('\n') + tail);
}

describe('python3-proxmoxer against the REST listener', () => {
  it('cluster scope: options, aliases, IP sets, rules with insert-at-top and moveto, groups and their comment', async () => {
    const r = await scenario('cluster');
    expect(optionsAsSet(await fw('firewall/cluster.fw'))).toBe(
      optionsAsSet(`[OPTIONS]

enable: 1
policy_in: DROP

[ALIASES]

Admin 10.1.0.0/16
dns 192.0.2.53 # resolver

[IPSET mgmt] # management

10.1.0.0/24 # host bits cleared
10.1.2.3
!10.1.3.4

[RULES]

IN ACCEPT -source Admin -p tcp -dport 22 # ssh
|OUT DNS(ACCEPT) -dest dns -log info
IN DROP -source +mgmt

[group web] # front end

IN ACCEPT -p tcp -dport 80,443

`),
    );
    const rules = r.rules as Record<string, unknown>[];
    expect(rules.map((x) => [x.pos, x.type, x.action, x.enable])).toEqual([
      [0, 'in', 'ACCEPT', 1],
      [1, 'out', 'ACCEPT', 0],
      [2, 'in', 'DROP', 1],
    ]);
    expect(rules[1]).toMatchObject({ macro: 'DNS', dest: 'dns', log: 'info' });
    expect(rules[1]).not.toHaveProperty('comment');
    expect(new Set(rules.map((x) => x.digest)).size).toBe(1);
    expect(r.rule0).toMatchObject({ pos: '0', source: 'Admin', ipversion: 4 });
    expect(r.options).toMatchObject({ enable: 1, policy_in: 'DROP', digest: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown });
    expect((r.aliases as Record<string, unknown>[]).map((a) => [a.name, a.ipversion])).toEqual([
      ['Admin', 4],
      ['dns', 4],
    ]);
    expect(r.groups).toEqual([{ group: 'web', comment: 'front end', digest: expect.any(String) as unknown }]);
    expect((r.mgmt as Record<string, unknown>[]).map((e) => [e.cidr, e.nomatch ?? 0])).toEqual([
      ['10.1.0.0/24', 0],
      ['10.1.2.3', 0],
      ['10.1.3.4', 1],
    ]);
    expect(r.stale).toEqual({ status: 500, reason: 'detected modified configuration - file changed by other user? Try again.', errors: null });
    expect(r.duplicate).toEqual({ status: 400, reason: 'Parameter verification failed.', errors: { cidr: "address '10.1.2.3' already exists" } });
    expect(r.unknown_field).toMatchObject({ status: 400, errors: { colour: 'property is not defined in schema and the schema does not allow additional properties' } });
  }, 120_000);

  it('node scope: typed options, rules, delete lists', async () => {
    const r = await scenario('host');
    expect(optionsAsSet(await fw('nodes/pve1/host.fw'))).toBe(
      optionsAsSet(`[OPTIONS]

enable: 1
nf_conntrack_max: 65536
log_level_in: info

[RULES]

IN ACCEPT -source 10.0.0.0/8 -p tcp -dport 8006
IN SSH(ACCEPT) -i vmbr0 # ssh

`),
    );
    expect(r.options).toMatchObject({ enable: 1, nf_conntrack_max: 65536, log_level_in: 'info' });
  }, 120_000);

  it('guest scope (qemu and lxc): options, alias, ipfilter set, rules; a missing guest and a forward rule are refused', async () => {
    const r = await scenario('guest');
    expect(optionsAsSet(await fw('firewall/100.fw'))).toBe(
      optionsAsSet(`[OPTIONS]

enable: 1
dhcp: 1
policy_in: DROP

[ALIASES]

self 192.0.2.10

[IPSET ipfilter-net0]

192.0.2.10

[RULES]

IN ACCEPT -p icmp -icmp-type echo-request
GROUP web -i net0

`),
    );
    expect(r.options).toMatchObject({ enable: 1, dhcp: 1, policy_in: 'DROP' });
    expect(r.refs).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'alias', name: 'self', scope: 'guest' })]));
    expect(r.forward).toMatchObject({ status: 400, errors: { type: expect.stringContaining('forward') as unknown } });
    expect(r.missing_guest).toMatchObject({ status: 500, reason: "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist" });
    expect(await fw('firewall/200.fw')).toBe('[RULES]\n\nIN ACCEPT -p tcp -dport 80\n\n');
  }, 120_000);

  it('vnet scope: forward rules and options; REJECT on forward is refused', async () => {
    const r = await scenario('vnet');
    expect(optionsAsSet(await fw('sdn/firewall/vnet1.fw'))).toBe(
      optionsAsSet(`[OPTIONS]

enable: 1
policy_forward: DROP

[RULES]

FORWARD DROP -source 10.99.0.0/16 -log warning
FORWARD ACCEPT -p tcp -dport 443

`),
    );
    expect(r.reject).toEqual({ status: 400, reason: 'Parameter verification failed.', errors: { action: 'cannot define REJECT rules on forward chain' } });
  }, 120_000);

  it("replays community.proxmox's sequence: moveto to the bottom, group comment via rename, alias digest, IP set rename", async () => {
    const r = await scenario('ansible');
    const rules = r.rules as Record<string, unknown>[];
    expect(rules.map((x) => x.comment ?? '')).toEqual(['ssh', '', '', 'ansible dns']);
    expect(r.alias).toMatchObject({ name: 'dns', cidr: '192.0.2.54', comment: 'moved', ipversion: 4 });
    expect(r.groups).toEqual(expect.arrayContaining([{ group: 'ansible', comment: 'edited', digest: expect.any(String) as unknown }]));
    expect(r.renamed).toEqual([{ cidr: '198.51.100.0/24', digest: expect.any(String) as unknown }]);
    // Renaming a set that rules use is refused (Proxmox renames it and the rules stop applying).
    expect(r.rename_used).toMatchObject({ status: 500, reason: expect.stringContaining("no such ipset 'mgmt'") as unknown });
    expect((r.ipsets as Record<string, unknown>[]).map((s) => s.name)).toEqual(['mgmt']);
    expect(r.no_set).toMatchObject({ status: 500, reason: "no such IPSet 'nothere'" });
  }, 120_000);
});
