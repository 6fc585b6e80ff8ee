/**
 * The REST log endpoints pass the node, guest and paging to palisade-logger's ProxmoxLog and
 * answer Proxmox's `[{n, t}]` with the top-level `total`. The logger here is a fake serving
 * only ProxmoxLog (the real one's ProxmoxLog is tested in services/logger); configd is real.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { LogServiceService, type ProxmoxLogRequest, type ProxmoxLogResponse } from '@palisade/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { startTestConfigd, text, type TestConfigd } from '../test-harness.js';
import { REST_TOKENS, restCall, tokenHeader } from './rest-test-client.js';

let nats: NatsClusterHandle;
let cd: TestConfigd;
let fake: Server;
const seen: ProxmoxLogRequest[] = [];
const auth = tokenHeader('root@pam', REST_TOKENS[0]!);

beforeAll(async () => {
  fake = new Server();
  const unimplemented = () => () => undefined;
  const handlers = Object.fromEntries(Object.keys(LogServiceService).map((k) => [k, unimplemented()]));
  fake.addService(LogServiceService, {
    ...handlers,
    proxmoxLog: (call: ServerUnaryCall<ProxmoxLogRequest, ProxmoxLogResponse>, done: sendUnaryData<ProxmoxLogResponse>) => {
      seen.push(call.request);
      const all = call.request.vmid === undefined ? ['0 6 PVEFW-HOST-IN 02/Dec/2026:01:00:00 +0000 DROP: IN=eth0', '100 6 tap100i0-IN 02/Dec/2026:01:00:01 +0000 ACCEPT: IN=fwbr100i0'] : ['100 6 tap100i0-IN 02/Dec/2026:01:00:01 +0000 ACCEPT: IN=fwbr100i0'];
      const lines = all.slice(call.request.start).map((t, i) => ({ n: call.request.start + i + 1, t }));
      done(null, { total: all.length, lines });
    },
  });
  const port = await new Promise<number>((resolve, reject) => fake.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({
    natsServers: nats.urls,
    replicas: 1,
    bucket: 'restlog',
    tokens: REST_TOKENS,
    restListen: '127.0.0.1:0',
    restLogger: { address: `127.0.0.1:${port}` },
  });
  await cd.call('put', { path: 'nodes/pve1/qemu-server/100.conf', content: text('net0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n') }, REST_TOKENS[0]!.secret);
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
  fake?.forceShutdown();
});

describe('REST log endpoints', () => {
  it("answers a node's log with n, t and total", async () => {
    const r = await restCall(cd.configd.restAddress!, 'GET', '/nodes/pve1/firewall/log?start=1&limit=10&since=1700000000', { auth });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: [{ n: 2, t: '100 6 tap100i0-IN 02/Dec/2026:01:00:01 +0000 ACCEPT: IN=fwbr100i0' }], total: 2 });
    expect(seen.at(-1)).toMatchObject({ node: 'pve1', start: 1, limit: 10, since: 1700000000, until: 0 });
    expect(seen.at(-1)!.vmid).toBeUndefined();
  });

  it("answers a guest's log with only its lines, and refuses a guest that does not exist", async () => {
    const r = await restCall(cd.configd.restAddress!, 'GET', '/nodes/pve1/qemu/100/firewall/log', { auth });
    expect(r.body).toMatchObject({ total: 1, data: [{ n: 1 }] });
    expect(seen.at(-1)).toMatchObject({ node: 'pve1', vmid: 100, start: 0 });
    const missing = await restCall(cd.configd.restAddress!, 'GET', '/nodes/pve1/lxc/555/firewall/log', { auth });
    expect([missing.status, missing.reason]).toEqual([500, "Configuration file 'nodes/pve1/lxc/555.conf' does not exist"]);
    const bad = await restCall(cd.configd.restAddress!, 'GET', '/nodes/pve1/firewall/log?limit=-1', { auth });
    expect(bad.body.errors).toEqual({ limit: 'value must have a minimum value of 0' });
  });
});
