/**
 * configd as a process (`palisade-configd`, the built `dist/main.js`) through testkit's
 * started handle: it listens, answers, serves --metrics, and stops on SIGTERM.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createConfigClient } from '@palisade/api';
import { freePort, startConfigdProcess, startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let nats: NatsClusterHandle | undefined;

beforeAll(async () => {
  if (existsSync(MAIN)) nats = await startNats();
});
afterAll(async () => {
  await nats?.close();
});

describe('palisade-configd process', () => {
  it.skipIf(!existsSync(MAIN))('starts, answers, serves metrics and stops on SIGTERM', async () => {
    const metricsPort = await freePort();
    const configd = await startConfigdProcess({ main: MAIN, natsServers: nats!.urls, args: ['--metrics', `127.0.0.1:${metricsPort}`, '--log-level', 'info'] });
    const client = createConfigClient({ address: configd.address, timeoutMs: 20_000 });
    try {
      await expect.poll(async () => (await client.call('status', {})).quorate, { timeout: 20_000 }).toBe(true);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(await res.text()).toContain('palisade_configd_mirror_revision{service="configd",node="pve1"}');
    } finally {
      client.close();
      await configd.stop();
    }
    expect(configd.log).toContain('configd stopped');
  });
});
