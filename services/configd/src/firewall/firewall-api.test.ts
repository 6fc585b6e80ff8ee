/**
 * The firewall API through gRPC on a real JetStream server: rules with stable ids, digests,
 * comments and order kept, groups (rename rewrites references), IP sets, aliases, options,
 * refs, macros.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { rejects, startTestConfigd, text, type TestConfigd } from '../test-harness.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;
const cluster = { target: { $case: 'cluster' as const, value: true } };
const guest = (vmid: number) => ({ target: { $case: 'vmid' as const, value: vmid } });
const host = (node: string) => ({ target: { $case: 'node' as const, value: node } });

const CLUSTER_FW = `# cluster firewall, managed by hand
[OPTIONS]

enable: 1
policy_in: DROP

[ALIASES]

admins 10.1.0.0/16 # the admins

[IPSET mgmt] # management hosts

10.1.2.3
10.1.2.4 # backup

[RULES]

# SSH for the admins
IN SSH(ACCEPT) -source admins # ssh
IN ACCEPT -p tcp -dport 443 # https
|IN ACCEPT -p tcp -dport 8006

[group webservers] # web tier

IN ACCEPT -p tcp -dport 80
`;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'fw' });
  await cd.call('put', { path: 'firewall/cluster.fw', content: text(CLUSTER_FW) });
  await cd.call('put', { path: 'nodes/pve1/qemu-server/100.conf', content: text('net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n') });
  await cd.call('put', { path: 'firewall/100.fw', content: text('[OPTIONS]\nenable: 1\n\n[RULES]\nGROUP webservers # web\n') });
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

const fw = () => cd.client();
async function doc(path: string): Promise<string> {
  return (await cd.call('get', { path })).document!.content.toString();
}
describe('firewall rules', () => {
  it('lists rules with ids, positions, digest and errors', async () => {
    const r = await fw().fw('listRules', { scope: cluster });
    expect(r.rules.map((x) => [x.pos, x.type, x.action, x.macro, x.dport, x.enable])).toEqual([
      [0, 'in', 'ACCEPT', 'SSH', '', true],
      [1, 'in', 'ACCEPT', '', '443', true],
      [2, 'in', 'ACCEPT', '', '8006', false],
    ]);
    expect(new Set(r.rules.map((x) => x.id)).size).toBe(3);
    expect(r.digest).toMatch(/^[0-9a-f]{40}$/);
    const g = await fw().fw('listRules', { scope: cluster, group: 'webservers' });
    expect(g.rules).toHaveLength(1);
  });

  it('creates at a position, keeps comments and order, ids survive unrelated edits', async () => {
    const before = await fw().fw('listRules', { scope: cluster });
    const created = await fw().fw('createRule', {
      scope: cluster,
      rule: { type: 'in', action: 'DROP', source: '192.0.2.0/24', comment: 'blocklist' },
      pos: 1,
      precondition: { digest: before.digest },
    });
    expect(created.rule?.pos).toBe(1);
    const text1 = await doc('firewall/cluster.fw');
    expect(text1).toContain('# cluster firewall, managed by hand\n');
    expect(text1).toContain('# SSH for the admins\nIN SSH(ACCEPT) -source admins # ssh\nIN DROP -source 192.0.2.0/24 # blocklist\nIN ACCEPT -p tcp -dport 443 # https\n');
    const after = await fw().fw('listRules', { scope: cluster });
    // ids of the other rules did not change although their positions did
    expect(after.rules.filter((x) => x.id !== created.rule!.id).map((x) => x.id)).toEqual(before.rules.map((x) => x.id));
    // stale digest refused
    const stale = await rejects(fw().fw('createRule', { scope: cluster, rule: { type: 'in', action: 'ACCEPT' }, precondition: { digest: before.digest } }));
    expect(stale.grpcCode).toBe(status.ABORTED);
    expect(stale.message).toMatch(/modified configuration/);
  });

  it('updates, moves and deletes by id', async () => {
    const list = await fw().fw('listRules', { scope: cluster });
    const https = list.rules.find((x) => x.dport === '443')!;
    const upd = await fw().fw('updateRule', { scope: cluster, rule: { by: { $case: 'id', value: https.id } }, set: { comment: 'web', enable: false } });
    expect(upd.rule?.id).toBe(https.id); // comment/enable keep the id
    expect(await doc('firewall/cluster.fw')).toContain('|IN ACCEPT -p tcp -dport 443 # web\n');
    const moved = await fw().fw('moveRule', { scope: cluster, rule: { by: { $case: 'id', value: https.id } }, to: 0 });
    expect(moved.rule?.pos).toBe(0);
    expect(moved.rule?.id).toBe(https.id);
    const down = await fw().fw('moveRule', { scope: cluster, rule: { by: { $case: 'id', value: https.id } }, to: 2 });
    expect(down.rule?.pos).toBe(2);
    const port = await fw().fw('updateRule', { scope: cluster, rule: { by: { $case: 'id', value: https.id } }, set: { dport: '8443' }, delete: ['comment'] });
    expect(port.rule?.id).not.toBe(https.id); // the match changed: new id
    expect(port.rule?.comment).toBe('');
    await fw().fw('deleteRule', { scope: cluster, rule: { by: { $case: 'id', value: port.rule!.id } } });
    const gone = await rejects(fw().fw('getRule', { scope: cluster, rule: { by: { $case: 'id', value: port.rule!.id } } }));
    expect(gone.grpcCode).toBe(status.NOT_FOUND);
  });

  it('refuses an invalid rule with diagnostics and writes nothing', async () => {
    const rev = (await cd.call('status', {})).revision;
    const e = await rejects(fw().fw('createRule', { scope: cluster, rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '99999' } }));
    expect(e.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(e.detail?.diagnostics.length).toBeGreaterThan(0);
    expect(e.detail?.diagnostics[0]!.code).toMatch(/^FW\d{4}$/);
    expect((await cd.call('status', {})).revision).toBe(rev);
  });

  it('creates a guest document on first rule', async () => {
    const r = await fw().fw('createRule', { scope: guest(101), rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22' } });
    expect(r.meta?.path).toBe('firewall/101.fw');
    expect(await doc('firewall/101.fw')).toContain('IN ACCEPT -p tcp -dport 22');
    await fw().fw('createRule', { scope: host('pve1'), rule: { type: 'in', action: 'ACCEPT', macro: 'Ping' } });
    expect(await doc('nodes/pve1/host.fw')).toContain('IN Ping(ACCEPT)');
  });
});

describe('groups, ipsets, aliases, options, refs, macros', () => {
  it('renames a group and rewrites references', async () => {
    await fw().fw('createGroup', { group: 'dbservers', comment: 'db tier' });
    const groups = await fw().fw('listGroups', {});
    expect(groups.groups.map((g) => g.group)).toEqual(['dbservers', 'webservers']);
    await fw().fw('createGroup', { group: 'web', rename: 'webservers' });
    expect(await doc('firewall/100.fw')).toContain('GROUP web # web');
    const del = await rejects(fw().fw('deleteGroup', { group: 'web' }));
    expect(del.grpcCode).toBe(status.FAILED_PRECONDITION);
    expect(del.message).toMatch(/not empty/);
    await fw().fw('deleteGroup', { group: 'dbservers' });
    expect((await fw().fw('listGroups', {})).groups.map((g) => g.group)).toEqual(['web']);
  });

  it('manages ip sets and entries', async () => {
    const sets = await fw().fw('listIpSets', { scope: cluster });
    expect(sets.ipsets.map((s) => [s.name, s.entries])).toEqual([['mgmt', 2]]);
    await fw().fw('addIpSetEntry', { scope: cluster, name: 'mgmt', cidr: '10.1.3.0/24', comment: 'new' });
    const entries = await fw().fw('listIpSetEntries', { scope: cluster, name: 'mgmt' });
    expect(entries.entries.map((e) => e.cidr)).toContain('10.1.3.0/24');
    await fw().fw('deleteIpSetEntry', { scope: cluster, name: 'mgmt', cidr: '10.1.2.3', precondition: { digest: entries.digest } });
    expect(await doc('firewall/cluster.fw')).toContain('10.1.2.4 # backup');
    await fw().fw('createIpSet', { scope: guest(100), name: 'ipfilter-net0', comment: 'spoofing' });
    expect((await fw().fw('listIpSets', { scope: guest(100) })).ipsets[0]!.name).toBe('ipfilter-net0');
    expect((await rejects(fw().fw('deleteIpSet', { scope: cluster, name: 'mgmt' }))).grpcCode).toBe(status.FAILED_PRECONDITION);
  });

  it('manages aliases and options', async () => {
    await fw().fw('createAlias', { scope: cluster, name: 'dns', cidr: '10.0.0.53', comment: 'resolver' });
    const aliases = await fw().fw('listAliases', { scope: cluster });
    expect(aliases.aliases.map((a) => a.name)).toEqual(['admins', 'dns']);
    await fw().fw('updateAlias', { scope: cluster, name: 'dns', cidr: '10.0.0.54', precondition: { digest: aliases.digest } });
    expect(await doc('firewall/cluster.fw')).toContain('10.0.0.54');
    expect((await rejects(fw().fw('createAlias', { scope: cluster, name: 'dns', cidr: '10.0.0.1' }))).grpcCode).toBe(status.ALREADY_EXISTS);
    const opts = await fw().fw('getOptions', { scope: cluster });
    expect(opts.options).toEqual({ enable: '1', policy_in: 'DROP' });
    await fw().fw('setOptions', { scope: cluster, set: { policy_out: 'REJECT' }, delete: ['policy_in'], precondition: { digest: opts.digest } });
    expect((await fw().fw('getOptions', { scope: cluster })).options).toEqual({ enable: '1', policy_out: 'REJECT' });
    const stale = await rejects(fw().fw('setOptions', { scope: cluster, set: { enable: '0' }, precondition: { digest: opts.digest } }));
    expect(stale.grpcCode).toBe(status.ABORTED);
    const text2 = await doc('firewall/cluster.fw');
    expect(text2).toContain('# cluster firewall, managed by hand\n');
  });

  it('lists refs and macros', async () => {
    const refs = await fw().fw('listRefs', { scope: guest(100) });
    expect(refs.refs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'alias', name: 'admins', ref: 'admins', scope: 'dc' }),
        expect.objectContaining({ type: 'ipset', name: 'mgmt', ref: '+mgmt', scope: 'dc' }),
        expect.objectContaining({ type: 'ipset', name: 'ipfilter-net0', scope: 'guest' }),
      ]),
    );
    const macros = await fw().fw('listMacros', {});
    expect(macros.macros.length).toBeGreaterThan(80);
    expect(macros.macros.find((m) => m.macro === 'SSH')?.descr).toBeTruthy();
  });

  it('refuses a missing scope and a reader writing', async () => {
    expect((await rejects(fw().fw('listRules', {}))).grpcCode).toBe(status.INVALID_ARGUMENT);
  });
});
