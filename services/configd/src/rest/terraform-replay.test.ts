/**
 * Replays the call sequences of the Terraform provider bpg/proxmox (JSON bodies, booleans as
 * 1/0) against the REST listener: rules created in reverse order relying on insert-at-top, read
 * back by list and position, updated with `delete` lists, deleted from the bottom; a security
 * group's comment edited through `rename`; IP sets renamed; aliases read for `ipversion` and
 * `digest`; options typed. Also the cluster `enable` anti-lockout switch over an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_CLOCK, type Clock } from '@palisade/service-kit';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { REST_TOKENS, restCall, tokenHeader } from './rest-test-client.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;
let offsetMs = 0;
/** The system clock moved by `offsetMs` (to let the anti-lockout timestamp expire). */
const clock: Clock = { now: () => SYSTEM_CLOCK.now() + offsetMs, setTimer: (fn, ms) => SYSTEM_CLOCK.setTimer(fn, ms) };
const auth = tokenHeader('terraform@pve', REST_TOKENS[0]!);
const tf = (method: string, path: string, json?: unknown) => restCall(cd.configd.restAddress!, method, path, { auth, ...(json !== undefined ? { json } : {}) });
const ok = async (method: string, path: string, json?: unknown) => {
  const r = await tf(method, path, json);
  expect([r.status, r.reason]).toEqual([200, 'OK']);
  return r.body.data;
};
const doc = async (path: string) => (await cd.call('get', { path }, REST_TOKENS[0]!.secret)).document!.content.toString();

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'terraform', tokens: REST_TOKENS, restListen: '127.0.0.1:0', clock });
  await cd.call('put', { path: 'nodes/pve1/qemu-server/101.conf', content: text('name: tf\nnet0: virtio=BC:24:11:00:00:02,bridge=vmbr0,firewall=1\n') }, REST_TOKENS[0]!.secret);
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

describe('bpg/proxmox call sequences', () => {
  const rules = '/nodes/pve1/qemu/101/firewall/rules';
  const planned = [
    { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22', comment: 'ssh', enable: 1, pos: 0 },
    { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '80', comment: 'http', enable: 1, pos: 1 },
    { type: 'in', action: 'DROP', source: '10.66.0.0/16', log: 'info', enable: 0, pos: 2 },
  ];

  it('creates rules in reverse order and reads them back in plan order', async () => {
    for (const rule of [...planned].reverse()) await ok('POST', rules, rule);
    const list = (await ok('GET', rules)) as { pos: number; comment?: string; digest: string }[];
    expect(list.map((r) => [r.pos, r.comment ?? ''])).toEqual([
      [0, 'ssh'],
      [1, 'http'],
      [2, ''],
    ]);
    for (const r of list) {
      const one = (await ok('GET', `${rules}/${r.pos}`)) as Record<string, unknown>;
      expect(one).toMatchObject({ pos: String(r.pos), digest: r.digest });
    }
    expect(await doc('firewall/101.fw')).toBe(
      '[RULES]\n\nIN ACCEPT -p tcp -dport 22 # ssh\nIN ACCEPT -p tcp -dport 80 # http\n|IN DROP -source 10.66.0.0/16 -log info\n\n',
    );
  });

  it('updates a rule with a delete list and reorders with moveto, then deletes from the bottom', async () => {
    const digest = ((await ok('GET', rules)) as { digest: string }[])[0]!.digest;
    await ok('PUT', `${rules}/1`, { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '8080', enable: 1, delete: ['comment'], digest });
    expect(((await ok('GET', `${rules}/1`)) as Record<string, unknown>).comment).toBeUndefined();
    // A stale digest is refused and changes nothing.
    const before = await doc('firewall/101.fw');
    const stale = await tf('PUT', `${rules}/0`, { comment: 'x', digest });
    expect([stale.status, stale.reason]).toEqual([500, 'detected modified configuration - file changed by other user? Try again.']);
    expect(await doc('firewall/101.fw')).toBe(before);
    // moveto counts as Proxmox: moving 0 down with moveto=2 lands at 1.
    await ok('PUT', `${rules}/0`, { moveto: 2 });
    expect(((await ok('GET', rules)) as { dport?: string }[]).map((r) => r.dport ?? '-')).toEqual(['8080', '22', '-']);
    for (const pos of [2, 1, 0]) await ok('DELETE', `${rules}/${pos}`);
    expect(await ok('GET', rules)).toEqual([]);
  });

  it('edits a security group comment through rename and renames an IP set', async () => {
    await ok('POST', '/cluster/firewall/groups', { group: 'tf-web', comment: 'v1' });
    await ok('POST', '/cluster/firewall/groups', { group: 'tf-web', rename: 'tf-web', comment: 'v2' });
    expect(await ok('GET', '/cluster/firewall/groups')).toEqual([{ group: 'tf-web', comment: 'v2', digest: expect.any(String) as unknown }]);
    const dup = await tf('POST', '/cluster/firewall/groups', { group: 'tf-web' });
    expect(dup.body.errors).toEqual({ group: "Security group 'tf-web' already exists" });
    await ok('POST', '/cluster/firewall/ipset', { name: 'tf_old', comment: 'set' });
    await ok('POST', '/cluster/firewall/ipset/tf_old', { cidr: '203.0.113.9/24', nomatch: 1 });
    await ok('POST', '/cluster/firewall/ipset', { name: 'tf_new', rename: 'tf_old', comment: 'set' });
    expect(await ok('GET', '/cluster/firewall/ipset/tf_new')).toEqual([{ cidr: '203.0.113.0/24', nomatch: 1, digest: expect.any(String) as unknown }]);
    await ok('DELETE', `/cluster/firewall/ipset/tf_new/${encodeURIComponent('203.0.113.0/24')}`);
    await ok('DELETE', '/cluster/firewall/ipset/tf_new');
    // pve-firewall writes an empty group as its header, a blank line, no rules and a blank line.
    expect(await doc('firewall/cluster.fw')).toBe('[group tf-web] # v2\n\n\n');
  });

  it('reads an alias for ipversion and digest, updates it with the digest', async () => {
    await ok('POST', '/nodes/pve1/qemu/101/firewall/aliases', { name: 'tf_v6', cidr: '2001:db8::1', comment: 'six' });
    const alias = (await ok('GET', '/nodes/pve1/qemu/101/firewall/aliases/tf_v6')) as { ipversion: number; digest: string };
    expect(alias).toMatchObject({ name: 'tf_v6', cidr: '2001:db8::1', ipversion: 6, comment: 'six' });
    await ok('PUT', '/nodes/pve1/qemu/101/firewall/aliases/tf_v6', { cidr: '2001:db8::2', digest: alias.digest });
    expect(await ok('GET', '/nodes/pve1/qemu/101/firewall/aliases/tf_v6')).toMatchObject({ cidr: '2001:db8::2' });
    expect(await ok('GET', '/nodes/pve1/qemu/101/firewall/aliases/tf_v6')).not.toHaveProperty('comment');
  });

  it('sets typed options and deletes one with a delete list', async () => {
    await ok('PUT', '/nodes/pve1/qemu/101/firewall/options', { enable: true, dhcp: 1, ndp: 0, policy_in: 'REJECT', log_level_in: 'nolog' });
    await ok('PUT', '/nodes/pve1/qemu/101/firewall/options', { delete: 'ndp,log_level_in' });
    const o = (await ok('GET', '/nodes/pve1/qemu/101/firewall/options')) as Record<string, unknown>;
    expect(o).toEqual({ enable: 1, dhcp: 1, policy_in: 'REJECT', digest: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown });
    const bad = await tf('PUT', '/nodes/pve1/qemu/101/firewall/options', { delete: 'colour' });
    expect(bad.body.errors).toEqual({ delete: "no such option 'colour'" });
  });
});

describe('the cluster enable anti-lockout switch', () => {
  it('stores enable > 1 as the current time, reads it as that until 60 s have passed, then as 0', async () => {
    await ok('PUT', '/cluster/firewall/options', { enable: 2 });
    const stamp = Math.floor(clock.now() / 1000);
    const stored = /enable: (\d+)/.exec(await doc('firewall/cluster.fw'))?.[1];
    expect(Math.abs(Number(stored) - stamp)).toBeLessThanOrEqual(5);
    expect(((await ok('GET', '/cluster/firewall/options')) as { enable: number }).enable).toBe(Number(stored));
    offsetMs = 120_000;
    expect(((await ok('GET', '/cluster/firewall/options')) as { enable: number }).enable).toBe(0);
    await ok('PUT', '/cluster/firewall/options', { enable: 1 });
    expect(((await ok('GET', '/cluster/firewall/options')) as { enable: number }).enable).toBe(1);
  });
});
