import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATS_CONNECT_DEFAULTS, connectNats, resolveNatsConnectOptions, type NatsConnectionState } from './index.js';

describe('resolveNatsConnectOptions', () => {
  it('fills the exported defaults and names both fields of a contradiction', () => {
    const r = resolveNatsConnectOptions({ servers: ['nats://127.0.0.1:4222'], name: 't' });
    expect(r.pingIntervalMs).toBe(NATS_CONNECT_DEFAULTS.pingIntervalMs);
    expect(() => resolveNatsConnectOptions({ servers: ['x'], name: 't', reconnectTimeWaitMs: 10, reconnectJitterMs: 20 })).toThrow(
      'reconnectJitterMs (20) must not exceed reconnectTimeWaitMs (10)',
    );
    expect(() => resolveNatsConnectOptions({ servers: [], name: 't' })).toThrow(/at least one NATS URL/);
  });
});

describe('connectNats', () => {
  let nats: NatsClusterHandle;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats.close();
  });

  it('reports states as an AsyncIterable: connected, disconnected while the server is down, connected again, closed', async () => {
    const client = await connectNats({ servers: nats.urls, name: 'nats-kit test', reconnectTimeWaitMs: 50, reconnectJitterMs: 0 });
    try {
      const seen: NatsConnectionState['state'][] = [];
      const done = (async () => {
        for await (const s of client.states()) seen.push(s.state);
      })();
      await client.whenConnected();
      expect(client.connected).toBe(true);
      const server = nats.servers[0]!;
      await server.kill();
      await expect.poll(() => client.connected, { timeout: 10_000 }).toBe(false);
      await server.start();
      await client.whenConnected(AbortSignal.timeout(20_000));
      await client.close();
      await client.closed();
      await done;
      expect(seen).toEqual(['connected', 'disconnected', 'connected', 'closed']);
    } finally {
      await client.close();
    }
  });

  it('names the servers it cannot reach', async () => {
    await expect(connectNats({ servers: ['nats://127.0.0.1:1'], name: 't', connectTimeoutMs: 500 })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('whenConnected rejects cancelled on abort', async () => {
    const client = await connectNats({ servers: nats.urls, name: 't' });
    try {
      const ac = new AbortController();
      ac.abort();
      await expect(client.whenConnected(ac.signal)).rejects.toMatchObject({ code: 'cancelled' });
    } finally {
      await client.close();
    }
  });
});
