/**
 * The logger on a closed NATS server (deploy/nats' users, from testkit): with the `logger` user
 * it creates its consumer (and the stream's age limit when an agent created it without one) and stores what the `agent` user publishes; without
 * credentials it is refused and keeps retrying (and stores nothing).
 */
import { StorageType, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { LOG_STREAM, LOG_STREAM_DUPLICATE_WINDOW_MS, LOG_STREAM_SUBJECTS } from '@palisade/log-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { syntheticEntry } from './synthetic-entries.js';
import { TestLogger, TestPublisher } from './test-harness.js';

let nats: NatsClusterHandle;

beforeAll(async () => {
  nats = await startNats({ size: 1, auth: true, syncAlways: false });
}, 60_000);
afterAll(async () => {
  await nats?.close();
});

describe('palisade-logger with NATS authorization', () => {
  it('consumes with the logger user what the agent user publishes (stream created by the agent)', async () => {
    const creds = nats.credentials!;
    const pub = await TestPublisher.connect(nats.urls, { user: creds.agent.user, pass: creds.agent.password });
    // As the agent creates it: no age limit.
    const jsm = await jetstreamManager(pub.nc);
    await jsm.streams.add({ name: LOG_STREAM, subjects: [LOG_STREAM_SUBJECTS], storage: StorageType.File, duplicate_window: nanos(LOG_STREAM_DUPLICATE_WINDOW_MS) });
    const logger = await new TestLogger({ natsServers: nats.urls, retentionMs: 0, nats: { auth: { kind: 'user', user: creds.logger.user, password: creds.logger.password } } }).start();
    try {
      expect((await jsm.streams.info(LOG_STREAM)).config.max_age).toBe(nanos(7 * 24 * 3600 * 1000));
      const entries = Array.from({ length: 100 }, (_, i) => syntheticEntry(i, { startUs: Date.UTC(2025, 0, 1) * 1000, stepUs: 1000, bootId: 'auth' }));
      await pub.publish(entries);
      await expect.poll(() => logger.service.store.count, { timeout: 30_000 }).toBe(100);
      expect((await logger.client.query({ filter: { node: 'pve2' }, limit: 1000 })).entries).toHaveLength(entries.filter((e) => e.node === 'pve2').length);
    } finally {
      await pub.close();
      await logger.remove();
    }
  }, 60_000);

  it('without credentials it is refused and does not consume', async () => {
    const logger = new TestLogger({ natsServers: nats.urls, retentionMs: 0, consumer: 'anon' });
    // start() waits for the consumer; here it never comes, so start the service alone.
    const { createLogService } = await import('./app.js');
    const { SILENT_LOGGER } = await import('@palisade/service-kit');
    const svc = await createLogService({ natsServers: nats.urls, listen: '127.0.0.1:0', dataDir: logger.dataDir, consumer: 'anon', retentionMs: 0, logger: SILENT_LOGGER });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(svc.ingest.stats.consuming).toBe(false);
      expect(svc.store.count).toBe(0);
    } finally {
      await svc.close();
      await logger.remove();
    }
  }, 30_000);
});
