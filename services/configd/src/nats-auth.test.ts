/**
 * NATS closed by default: servers with a user per role (testkit `auth`, as `deploy/nats/`),
 * configd connecting with its credentials, clients without credentials refused, an agent
 * unable to write documents, and records forged with configd's own credentials (a bad key,
 * binary content, a wrong or missing digest) skipped and counted by the mirror, never served.
 * A 3-server cluster whose routes use TLS elects leaders and replicates.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { jetstream } from '@nats-io/jetstream';
import { connectNats, type NatsClient } from '@palisade/nats-kit';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { rejects, startTestConfigd, text, type TestConfigd } from './test-harness.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('configd on a closed NATS server', () => {
  let nats: NatsClusterHandle;
  let cd: TestConfigd;
  let forger: NatsClient | undefined;

  beforeAll(async () => {
    nats = await startNats({ size: 1, auth: true });
    const c = nats.credentials!.configd;
    cd = await startTestConfigd({
      natsServers: nats.urls,
      replicas: 1,
      bucket: 'closed',
      natsSecurity: { auth: { kind: 'user', user: c.user, password: c.password } },
    });
  }, 60_000);

  afterAll(async () => {
    await forger?.close();
    await cd?.close();
    await nats?.close();
  });

  it('refuses a client without credentials or with a wrong password', async () => {
    await expect(connectNats({ servers: nats.urls, name: 'anonymous', maxReconnectAttempts: 0 })).rejects.toThrow(/authorization|authentication/i);
    await expect(
      connectNats({ servers: nats.urls, name: 'guesser', maxReconnectAttempts: 0, auth: { kind: 'user', user: 'configd', password: 'guessed-password' } }),
    ).rejects.toThrow(/authorization|authentication/i);
  });

  it('lets configd write with its credentials, and not the agent role', async () => {
    const put = await cd.call('put', { path: 'firewall/cluster.fw', content: text('[OPTIONS]\nenable: 1\n') });
    expect(put.meta!.revision).toBeGreaterThan(0);
    const a = nats.credentials!.agent;
    const agent = await connectNats({ servers: nats.urls, name: 'agent', maxReconnectAttempts: 0, auth: { kind: 'user', user: a.user, password: a.password } });
    try {
      await expect(jetstream(agent.connection, { timeout: 2000 }).publish('$KV.closed.firewall/cluster.fw', text('[OPTIONS]\nenable: 0\n'))).rejects.toThrow();
    } finally {
      await agent.close();
    }
    expect((await cd.call('get', { path: 'firewall/cluster.fw' })).document!.content.toString()).toBe('[OPTIONS]\nenable: 1\n');
  });

  it('skips and counts records forged with configd credentials: a bad key, binary content, a wrong or missing digest', async () => {
    const c = nats.credentials!.configd;
    forger = await connectNats({ servers: nats.urls, name: 'forger', auth: { kind: 'user', user: c.user, password: c.password } });
    const js = jetstream(forger.connection);
    const forge = async (key: string, content: Uint8Array, digest: string | undefined): Promise<void> => {
      const h = natsHeaders();
      h.set('Palisade-Author', 'admin');
      if (digest !== undefined) h.set('Palisade-Digest', digest);
      await js.publish(`$KV.closed.${key}`, content, { headers: h });
    };
    const valid = text('[OPTIONS]\nenable: 0\n# forged\n');
    const binary = Uint8Array.from([0x5b, 0x52, 0x55, 0x00, 0xff, 0xfe, 0x01]);
    await forge('/abs/pwned', valid, sha256(valid));
    await forge('firewall/979.fw', binary, sha256(binary));
    await forge('firewall/cluster.fw', valid, sha256(text('something else')));
    await forge('firewall/cluster.fw', valid, undefined);
    // A real write after the forgeries: once the mirror has it, it has seen them all.
    const after = await cd.call('put', { path: 'firewall/100.fw', content: text('[RULES]\nIN ACCEPT -p tcp -dport 22\n') });
    const got = await cd.call('get', { path: 'firewall/100.fw', minRevision: after.meta!.revision });
    expect(got.storeRevision).toBeGreaterThanOrEqual(after.meta!.revision);

    const listed = (await cd.call('list', { prefix: '' })).documents.map((d) => d.meta!.path).sort();
    expect(listed).toEqual(['firewall/100.fw', 'firewall/cluster.fw']);
    expect((await rejects(cd.call('get', { path: 'firewall/979.fw' }))).code).toBe('not-found');
    expect((await cd.call('get', { path: 'firewall/cluster.fw' })).document!.content.toString()).toBe('[OPTIONS]\nenable: 1\n');
    expect(Object.fromEntries(cd.configd.store.mirror.skippedRecords)).toEqual({ 'invalid-path': 1, 'binary-content': 1, 'digest-mismatch': 2 });
    const metrics = await cd.configd.metrics.metrics();
    expect(metrics).toMatch(/palisade_configd_mirror_skipped_records_total\{[^}]*reason="digest-mismatch"[^}]*\} 2/);
    expect(metrics).toMatch(/palisade_configd_mirror_skipped_records_total\{[^}]*reason="invalid-path"[^}]*\} 1/);
  });

  it('refuses a binary document on Put (the mirror would skip it)', async () => {
    const err = await rejects(cd.call('put', { path: 'firewall/101.fw', content: Buffer.from([0x23, 0x00, 0x0a]) }));
    expect(err.code).toBe('invalid-document');
    expect(err.message).toMatch(/binary/);
  });
});

describe('a closed 3-server cluster with TLS between the servers', () => {
  let nats: NatsClusterHandle;
  let cd: TestConfigd;

  afterAll(async () => {
    await cd?.close();
    await nats?.close();
  }, 60_000);

  it('forms the cluster over TLS routes and replicates writes (R3)', async () => {
    nats = await startNats({ size: 3, auth: true });
    const c = nats.credentials!.configd;
    cd = await startTestConfigd({
      natsServers: nats.urls,
      replicas: 3,
      bucket: 'closed3',
      natsSecurity: { auth: { kind: 'user', user: c.user, password: c.password } },
    });
    const put = await cd.call('put', { path: 'firewall/cluster.fw', content: text('[OPTIONS]\nenable: 1\n') });
    expect(put.meta!.revision).toBeGreaterThan(0);
    expect((await cd.call('status', {})).replicas).toBe(3);
    // Routes require TLS with verified certificates, and the three servers formed a cluster.
    const varz = (await fetch(`${nats.servers[0]!.monitorUrl}/varz`).then((r) => r.json())) as { cluster: { tls_required?: boolean; tls_verify?: boolean } };
    expect(varz.cluster).toMatchObject({ tls_required: true, tls_verify: true });
    const routez = (await fetch(`${nats.servers[0]!.monitorUrl}/routez`).then((r) => r.json())) as { num_routes: number };
    expect(routez.num_routes).toBeGreaterThanOrEqual(2);
    // Let configd finish starting (its commit-confirmed bucket is created after the first
    // write path is up) before the hook closes it.
    await new Promise((r) => setTimeout(r, 2000));
  }, 120_000);
});
