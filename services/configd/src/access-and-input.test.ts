/**
 * Access control and bad input: tokens and roles, malformed protobuf, unknown paths, invalid
 * documents (real language library), oversize documents. Each is a clear error and nothing is
 * stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { resolveConfigdOptions } from './options.js';
import { parseTokensFile } from './rpc/auth.js';
import { CallError, rejects, collectWatch, startTestConfigd, text, toCallError, type TestConfigd } from './test-harness.js';
import { pino } from 'pino';
import { NO_VALIDATION } from './store/document-validator.js';

const TOKENS = parseTokensFile(
  ['# test tokens', 'alice admin alice-secret-0123456789', 'rita reader rita-secret-0123456789', 'agent1 agent agent-secret-0123456789'].join('\n'),
);
const ADMIN = 'alice-secret-0123456789';
const READER = 'rita-secret-0123456789';
const AGENT = 'agent-secret-0123456789';

let nats: NatsClusterHandle;
let cd: TestConfigd;

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, tokens: TOKENS, replicas: 1, bucket: 'access' });
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

const CLUSTER_OK = '[OPTIONS]\nenable: 1\n\n[RULES]\nIN SSH(ACCEPT) -source 10.0.0.0/8 # admins\n';

describe('access', () => {
  it('needs a valid token and the right role', async () => {
    expect((await rejects(cd.call('status', {}))).grpcCode).toBe(status.UNAUTHENTICATED);
    const wrong = await rejects(cd.call('status', {}, 'not-a-token-at-all-xxxxx'));
    expect(wrong.grpcCode).toBe(status.UNAUTHENTICATED);
    expect(wrong.detail?.code).toBe('unauthenticated');
    await cd.call('status', {}, READER);
    const denied = await rejects(cd.call('put', { path: 'firewall/cluster.fw', content: text(CLUSTER_OK) }, READER));
    expect(denied.grpcCode).toBe(status.PERMISSION_DENIED);
    expect((await rejects(cd.call('put', { path: 'firewall/cluster.fw', content: text(CLUSTER_OK) }, AGENT))).grpcCode).toBe(
      status.PERMISSION_DENIED,
    );
    const put = await cd.call('put', { path: 'firewall/cluster.fw', content: text(CLUSTER_OK) }, ADMIN);
    expect(put.meta?.author).toBe('alice');
    const readerWatch = await rejects(collectWatch(cd.watch({}, READER), () => true));
    expect(readerWatch.grpcCode).toBe(status.PERMISSION_DENIED);
    const agentWatch = await collectWatch(cd.watch({}, AGENT), (e) => e.length >= 2);
    expect(agentWatch[0]!.meta?.path).toBe('firewall/cluster.fw');
  });

  it('refuses open access on a non-loopback address', () => {
    const logger = pino({ level: 'silent' });
    expect(() =>
      resolveConfigdOptions({ node: 'pve1', natsServers: ['nats://127.0.0.1:4222'], listen: '0.0.0.0:7000', dataDir: '/tmp/x', logger }),
    ).toThrow(/loopback/);
    expect(() => parseTokensFile('bob admin short')).toThrow(/shorter than/);
    expect(() => parseTokensFile('bob root 0123456789abcdef0123')).toThrow(/unknown role/);
  });
});

describe('bad input', () => {
  it('refuses a malformed protobuf message with INVALID_ARGUMENT', async () => {
    const Raw = makeGenericClientConstructor(
      {
        put: {
          path: '/palisade.config.v1.DocumentService/Put',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Raw',
    );
    const raw = new Raw(cd.configd.address, credentials.createInsecure()) as unknown as {
      put(b: Buffer, md: Metadata, cb: (e: ServiceError | null) => void): void;
      close(): void;
    };
    const md = new Metadata();
    md.set('authorization', `Bearer ${ADMIN}`);
    // field 1 (path) as length-delimited with a length running past the end
    const err = await new Promise<CallError>((resolve) => raw.put(Buffer.from([0x0a, 0x7f, 0x41]), md, (e) => resolve(toCallError(e!))));
    raw.close();
    expect(err.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/malformed request/);
  });

  it('refuses unknown paths and prefixes', async () => {
    for (const path of ['etc/passwd', 'firewall/../priv/authkey.key', 'firewall/cluster.fw.tmp', 'nodes/pve1/qemu-server/abc.conf', '']) {
      const e = await rejects(cd.call('put', { path, content: text('x\n') }, ADMIN));
      expect(e.grpcCode, path).toBe(status.INVALID_ARGUMENT);
    }
    expect((await rejects(cd.call('get', { path: 'storage.cfg' }, ADMIN))).message).toMatch(/unknown document path/);
    expect((await rejects(cd.call('list', { prefix: 'a b' }, ADMIN))).grpcCode).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses an invalid document with every diagnostic', async () => {
    const before = (await cd.call('status', {}, ADMIN)).revision;
    const bad = '[RULES]\nIN FOOBAR(ACCEPT)\nIN ACCEPT -p tcp -dport 99999\nIN ACCEPT -source 10.0.0.300\n';
    const e = await rejects(cd.call('put', { path: 'firewall/cluster.fw', content: text(bad) }, ADMIN));
    expect(e.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(e.detail?.code).toBe('invalid-document');
    const errors = e.detail!.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.line).sort()).toEqual([2, 3, 4]);
    for (const d of errors) {
      expect(d.path).toBe('firewall/cluster.fw');
      expect(d.code).toMatch(/^FW\d{4}$/);
      expect(d.message.length).toBeGreaterThan(0);
    }
    expect((await cd.call('status', {}, ADMIN)).revision).toBe(before);
    expect((await cd.call('get', { path: 'firewall/cluster.fw' }, ADMIN)).document?.content.toString()).toBe(CLUSTER_OK);
  });

  it('refuses oversize documents with a size error', async () => {
    const before = (await cd.call('status', {}, ADMIN)).revision;
    const big = Buffer.alloc(1024 * 1024 + 1, 0x23); // '#'
    const e = await rejects(cd.call('put', { path: 'firewall/105.fw', content: big }, ADMIN));
    expect(e.grpcCode).toBe(status.RESOURCE_EXHAUSTED);
    expect(e.detail?.code).toBe('too-large');
    expect(e.detail?.maxBytes).toBe(1024 * 1024);
    expect(e.message).toMatch(/1048577 bytes; documents are limited to 1048576 bytes/);
    expect((await cd.call('status', {}, ADMIN)).revision).toBe(before);
  });

  it('stores a document of exactly the limit, and honours a configured limit', async () => {
    const small = await startTestConfigd({
      natsServers: nats.urls,
      replicas: 1,
      bucket: 'sizes',
      node: 'pve2',
      validator: NO_VALIDATION,
      maxDocumentBytes: 4096,
    });
    try {
      await small.call('put', { path: 'corosync.conf', content: Buffer.alloc(4096, 0x61) });
      const e = await rejects(small.call('put', { path: 'corosync.conf', content: Buffer.alloc(4097, 0x61) }));
      expect(e.detail?.maxBytes).toBe(4096);
    } finally {
      await small.close();
    }
    const exact = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'exact', node: 'pve3', validator: NO_VALIDATION });
    try {
      const put = await exact.call('put', { path: 'corosync.conf', content: Buffer.alloc(1024 * 1024, 0x61), expectedRevision: 0 });
      expect(put.meta?.sizeBytes).toBe(1024 * 1024);
      const got = await exact.call('get', { path: 'corosync.conf' });
      expect(got.document?.content.length).toBe(1024 * 1024);
    } finally {
      await exact.close();
    }
  });
});
