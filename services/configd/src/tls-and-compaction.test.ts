/**
 * TLS and mutual TLS on the gRPC listener; watch resume past the retained log fails with an
 * explicit "compacted" error (never a silent gap).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { createConfigClient, WatchEventType } from '@palisade/api';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { NO_VALIDATION } from './store/document-validator.js';
import { CallError, collectWatch, startTestConfigd, text } from './test-harness.js';

let nats: NatsClusterHandle;
let pki: string;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'ignore' });
}

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  pki = mkdtempSync(join(tmpdir(), 'palisade-pki-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=palisade-test-ca']);
  writeFileSync(join(pki, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const name of ['server', 'client']) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', 'san.ext']);
  }
}, 60_000);

afterAll(async () => {
  await nats?.close();
  if (pki) rmSync(pki, { recursive: true, force: true });
});

const pem = (f: string): Buffer => readFileSync(join(pki, f));

describe('TLS', () => {
  it('serves over TLS and requires a client certificate with a CA (mutual TLS)', async () => {
    const cd = await startTestConfigd({
      natsServers: nats.urls,
      replicas: 1,
      bucket: 'tls',
      validator: NO_VALIDATION,
      tls: { cert: pem('server.crt'), key: pem('server.key'), ca: pem('ca.crt') },
    });
    try {
      const good = createConfigClient({ address: cd.address, tls: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') }, timeoutMs: 5000 });
      expect((await good.call('status', {})).node).toBe('pve1');
      good.close();
      const noCert = createConfigClient({ address: cd.address, tls: { ca: pem('ca.crt') }, timeoutMs: 5000 });
      await expect(noCert.call('status', {})).rejects.toBeInstanceOf(CallError);
      noCert.close();
      const plain = createConfigClient({ address: cd.address, timeoutMs: 3000 });
      await expect(plain.call('status', {})).rejects.toBeInstanceOf(CallError);
      plain.close();
    } finally {
      await cd.close();
    }
  });
});

describe('watch resume past the retained log', () => {
  it('fails with OUT_OF_RANGE / compacted and the oldest resumable revision', async () => {
    const cd = await startTestConfigd({
      natsServers: nats.urls,
      replicas: 1,
      bucket: 'compact',
      validator: NO_VALIDATION,
      historyDepth: 2,
      maxLogRevisions: 20,
    });
    try {
      const first = await cd.call('put', { path: 'firewall/100.fw', content: text('0\n') });
      for (let i = 1; i < 150; i++) await cd.call('put', { path: 'firewall/100.fw', content: text(`${i}\n`) });
      const s = await cd.call('status', {});
      expect(s.oldestRevision).toBeGreaterThan(first.meta!.revision);
      const err = await collectWatch(cd.watch({ startRevision: first.meta!.revision + 1 }), () => true).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CallError);
      expect((err as CallError).grpcCode).toBe(status.OUT_OF_RANGE);
      expect((err as CallError).detail?.code).toBe('compacted');
      expect((err as CallError).detail?.oldestRevision).toBe(s.oldestRevision);
      // From the oldest resumable revision it works, in order, to the end.
      const evs = await collectWatch(cd.watch({ startRevision: s.oldestRevision }), (e) => e.some((x) => x.revision === s.revision));
      const revs = evs.filter((x) => x.type === WatchEventType.WATCH_EVENT_TYPE_PUT).map((x) => x.revision);
      expect(revs).toEqual(Array.from({ length: s.revision - s.oldestRevision + 1 }, (_, i) => s.oldestRevision + i));
      // History keeps the newest historyDepth revisions.
      expect((await cd.call('history', { path: 'firewall/100.fw' })).revisions.length).toBeGreaterThanOrEqual(2);
    } finally {
      await cd.close();
    }
  });
});
