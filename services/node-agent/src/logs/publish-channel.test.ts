/**
 * The publish worker against a real nats-server: messages stored, and a worker that dies
 * answers `retry`, is started again and stores what comes next, including what arrives before
 * its new connection is up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { LOG_STREAM, encodeLogEntry, logSubject } from '@palisade/log-model';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { PublishChannel } from './publish-channel.js';

let nats: NatsClusterHandle;
beforeAll(async () => {
  nats = await startNats({ size: 1, syncAlways: false });
}, 60_000);
afterAll(async () => {
  await nats?.close();
});

const message = (n: number): { id: string; bytes: Uint8Array } => {
  const id = `pve1:crash:${n}`;
  const entry = { kind: 'packet', id, node: 'pve1', timeUs: 1, vmid: 0, level: 6, chain: 'PVEFW-HOST-IN', verdict: 'DROP', action: 'DROP', isPolicy: false, direction: 'in', packet: '' } as const;
  return { id, bytes: encodeLogEntry(entry) };
};

describe('publish channel', () => {
  it('stores messages, answers retry while its worker is gone, and stores again once it is restarted', async () => {
    const channel = new PublishChannel({ servers: nats.urls, name: 'channel-test' }, SILENT_LOGGER);
    channel.start();
    try {
      await channel.whenConnected(AbortSignal.timeout(10_000));
      const first = message(1);
      expect(await channel.publish(logSubject('pve1'), first.id, first.bytes)).toBe('stored');

      await channel.terminateWorker();
      expect(channel.connected).toBe(false);
      const during = message(2);
      expect(await channel.publish(logSubject('pve1'), during.id, during.bytes)).toBe('retry');

      // The restart comes after a second; a publish then reaches the new worker before (or just
      // after) its connection is up, and must be stored either way, not crash it again.
      await new Promise((r) => setTimeout(r, 1_100));
      const after = message(3);
      expect(await channel.publish(logSubject('pve1'), after.id, after.bytes)).toBe('stored');
      expect(channel.connected).toBe(true);

      const nc = await connect({ servers: [...nats.urls] });
      try {
        const info = await (await jetstreamManager(nc)).streams.info(LOG_STREAM);
        expect(info.state.messages).toBe(2); // messages 1 and 3; 2 waits for the publisher's retry
      } finally {
        await nc.close();
      }
    } finally {
      await channel.close();
    }
  }, 30_000);
});
