/**
 * The REST listener over a real configd on a real JetStream server, called over HTTPS: the
 * envelope, authentication, Proxmox's answers to bad input (status, message, nothing stored),
 * the self-signed certificate and its fingerprint.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { certificateFingerprint } from './certificate.js';
import { REST_TOKENS, restCall, tokenHeader } from './rest-test-client.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;
const admin = tokenHeader('root@pam', REST_TOKENS[0]!);
const reader = tokenHeader('auditor@pve', REST_TOKENS[1]!);
const call = (method: string, path: string, opts: Parameters<typeof restCall>[3] = {}) => restCall(cd.configd.restAddress!, method, path, { auth: admin, ...opts });
/** The document's revision, 0 when it does not exist. */
const revisionOf = async (path: string): Promise<number> => {
  const list = await cd.call('list', { prefix: path }, REST_TOKENS[0]!.secret);
  return Number(list.documents.find((d) => d.meta?.path === path)?.meta?.revision ?? 0);
};

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'rest', tokens: REST_TOKENS, restListen: '127.0.0.1:0' });
  await cd.call('put', { path: 'nodes/pve1/qemu-server/100.conf', content: text('name: web1\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n') }, REST_TOKENS[0]!.secret);
  await cd.call('put', { path: 'nodes/pve1/lxc/200.conf', content: text('hostname: ct1\nnet0: name=eth0,bridge=vmbr0,firewall=1\n') }, REST_TOKENS[0]!.secret);
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

describe('REST listener', () => {
  it('generates a self-signed certificate into the data directory and reports its fingerprint', () => {
    const cert = join(cd.dataDir, 'rest', 'cert.pem');
    expect(existsSync(cert)).toBe(true);
    expect(cd.configd.restFingerprint).toBe(certificateFingerprint(readFileSync(cert)));
    expect(cd.configd.restFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('answers what clients call on connect, in the data envelope', async () => {
    const v = await call('GET', '/version');
    expect(v.status).toBe(200);
    const version = v.body.data as { version: string; release: string };
    expect(version.version).toMatch(/^8\.\d+\.\d+$/);
    expect(version.release).toBe(version.version.split('.').slice(0, 2).join('.'));
    const r = await call('GET', '/cluster/resources?type=vm');
    expect(r.body.data).toEqual([
      { id: 'qemu/100', type: 'qemu', vmid: 100, node: 'pve1', name: 'web1', status: 'unknown', template: 0 },
      { id: 'lxc/200', type: 'lxc', vmid: 200, node: 'pve1', name: 'ct1', status: 'unknown', template: 0 },
    ]);
  });

  it('refuses a missing, malformed or wrong token with 401 and a reader write with 403', async () => {
    expect((await call('GET', '/cluster/firewall/rules', { auth: '' })).status).toBe(401);
    expect((await call('GET', '/cluster/firewall/rules', { auth: 'Bearer x' })).status).toBe(401);
    // The secret of another token: the name must match the secret.
    const swapped = `PVEAPIToken=root@pam!audit=${REST_TOKENS[0]!.secret}`;
    const wrong = await call('GET', '/cluster/firewall/rules', { auth: swapped });
    expect([wrong.status, wrong.reason]).toEqual([401, 'invalid token value!']);
    expect((await call('GET', '/cluster/firewall/rules', { auth: reader })).status).toBe(200);
    const denied = await call('POST', '/cluster/firewall/rules', { auth: reader, form: { type: 'in', action: 'ACCEPT' } });
    expect(denied.status).toBe(403);
    expect(await revisionOf('firewall/cluster.fw')).toBe(0);
  });

  it('records USER@REALM as the author of a write', async () => {
    const w = await call('POST', '/cluster/firewall/aliases', { form: { name: 'dns', cidr: '192.0.2.53' } });
    expect(w.status).toBe(200);
    expect(w.body).toEqual({ data: null });
    const h = await cd.call('history', { path: 'firewall/cluster.fw' }, REST_TOKENS[0]!.secret);
    expect(h.revisions.map((r) => r.meta?.author)).toContain('root@pam');
  });

  it('gives Proxmox status and message for bad input, and stores nothing', async () => {
    const before = await revisionOf('firewall/cluster.fw');
    const unknown = await call('POST', '/cluster/firewall/rules', { form: { type: 'in', action: 'ACCEPT', colour: 'red' } });
    expect([unknown.status, unknown.reason]).toEqual([400, 'Parameter verification failed.']);
    expect(unknown.body.errors).toEqual({ colour: 'property is not defined in schema and the schema does not allow additional properties' });
    const badType = await call('POST', '/cluster/firewall/rules', { json: { type: 'in', action: 'ACCEPT', enable: 'yes' } });
    expect(badType.body.errors).toEqual({ enable: "type check ('integer') failed - got 'yes'" });
    const missing = await call('POST', '/cluster/firewall/rules', { form: { action: 'ACCEPT' } });
    expect(missing.body.errors).toEqual({ type: 'property is missing and it is not optional' });
    const badEnum = await call('POST', '/cluster/firewall/rules', { form: { type: 'sideways', action: 'ACCEPT' } });
    expect(badEnum.body.errors).toEqual({ type: "value 'sideways' does not have a value in the enumeration 'in, out, forward, group'" });
    const macro = await call('POST', '/cluster/firewall/rules', { form: { type: 'in', action: 'ACCEPT', macro: 'Nope' } });
    expect(macro.status).toBe(400);
    expect(Object.keys(macro.body.errors ?? {})).toEqual(['macro']);
    const noProto = await call('POST', '/cluster/firewall/rules', { form: { type: 'in', action: 'ACCEPT', dport: '22' } });
    expect(noProto.body.errors).toEqual({ proto: "missing property - 'dport' requires this property" });
    // As Proxmox: the position is checked before the `delete` names.
    const noRuleFirst = await call('PUT', '/cluster/firewall/rules/0', { form: { delete: 'type' } });
    expect([noRuleFirst.status, noRuleFirst.reason]).toEqual([500, 'no rule at position 0']);
    const noRule = await call('GET', '/cluster/firewall/rules/7');
    expect([noRule.status, noRule.reason]).toEqual([500, 'no rule at position 7']);
    const noGuest = await call('GET', '/nodes/pve1/qemu/999/firewall/rules');
    expect([noGuest.status, noGuest.reason]).toEqual([500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"]);
    const stale = await call('PUT', '/cluster/firewall/aliases/dns', { form: { cidr: '192.0.2.54', digest: '0'.repeat(40) } });
    expect([stale.status, stale.reason]).toEqual([500, 'detected modified configuration - file changed by other user? Try again.']);
    const noSet = await call('GET', '/cluster/firewall/ipset/nothere');
    expect([noSet.status, noSet.reason]).toEqual([500, "no such IPSet 'nothere'"]);
    const notImplemented = await call('GET', '/cluster/firewall/nothing');
    expect(notImplemented.status).toBe(501);
    expect(await revisionOf('firewall/cluster.fw')).toBe(before);
  });

  it('takes {cidr} with a raw slash and as %2F', async () => {
    await call('POST', '/cluster/firewall/ipset', { form: { name: 'nets' } });
    await call('POST', '/cluster/firewall/ipset/nets', { form: { cidr: '10.9.0.7/16', comment: 'net' } });
    const raw = await call('GET', '/cluster/firewall/ipset/nets/10.9.0.0/16');
    const encoded = await call('GET', '/cluster/firewall/ipset/nets/10.9.0.0%2F16');
    expect(raw.body.data).toMatchObject({ cidr: '10.9.0.0/16', comment: 'net' });
    expect(encoded.body.data).toEqual(raw.body.data);
    // Deleting an absent entry succeeds.
    expect((await call('DELETE', '/cluster/firewall/ipset/nets/10.8.0.0%2F16')).status).toBe(200);
  });

  it("computes digests exactly as Proxmox's copy_list_with_digest", async () => {
    await call('POST', '/nodes/pve1/lxc/200/firewall/rules', { form: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22', enable: 1 } });
    await call('POST', '/nodes/pve1/lxc/200/firewall/rules', { form: { type: 'out', action: 'DROP', dest: '2001:db8::/32', comment: 'v6 only' } });
    const rules = (await call('GET', '/nodes/pve1/lxc/200/firewall/rules')).body.data as { digest: string }[];
    // Each rule's keys sorted, `key:value\n`, no `pos`, `ipversion` where known.
    const expected = createHash('sha1')
      .update('action:DROP\ncomment:v6 only\ndest:2001:db8::/32\nenable:0\nipversion:6\ntype:out\n')
      .update('action:ACCEPT\ndport:22\nenable:1\nproto:tcp\ntype:in\n')
      .digest('hex');
    expect(rules.map((r) => r.digest)).toEqual([expected, expected]);
  });
});

describe('the new operations over gRPC', () => {
  const scope = { target: { $case: 'cluster' as const, value: true } };
  const fw = () => cd.client(REST_TOKENS[0]!.secret);
  it('renames an IP set and edits its comment; edits a group comment through rename = group', async () => {
    await fw().fw('createIpSet', { scope, name: 'grpc_a', comment: 'one' });
    await fw().fw('createIpSet', { scope, name: 'grpc_b', rename: 'grpc_a' });
    await fw().fw('createIpSet', { scope, name: 'grpc_b', rename: 'grpc_b', comment: 'two' });
    expect((await fw().fw('listIpSets', { scope })).ipsets.find((x) => x.name === 'grpc_b')).toMatchObject({ comment: 'two' });
    await fw().fw('createGroup', { group: 'grpcg', comment: 'first' });
    await fw().fw('createGroup', { group: 'grpcg', rename: 'grpcg', comment: 'second' });
    expect((await fw().fw('listGroups', {})).groups.find((g) => g.group === 'grpcg')).toMatchObject({ comment: 'second' });
  });
});
