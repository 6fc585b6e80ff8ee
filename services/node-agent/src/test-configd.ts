/**
 * Test support: a real configd on a real nats-server, through its public API (tests only; not
 * part of the build).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigClient, type ConfigClient, type ConfigMethod, type ConfigRequest, type ConfigResponse } from '@palisade/api';
import { createConfigd, createLogger } from '@palisade/configd';

export interface TestConfigd {
  readonly address: string;
  readonly client: ConfigClient;
  call<M extends ConfigMethod>(method: M, request: Partial<ConfigRequest<M>>): Promise<ConfigResponse<M>>;
  close(): Promise<void>;
}

/**
 * Starts configd on `natsServers`, listening on loopback (`port`, default a free one), with a
 * temporary data directory removed on close unless `dataDir` is given (to restart on it).
 */
export async function startTestConfigd(natsServers: readonly string[], o: { node?: string; port?: number; dataDir?: string } = {}): Promise<TestConfigd> {
  const node = o.node ?? 'pve1';
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'palisade-agent-configd-'));
  const configd = await createConfigd({ node, natsServers, listen: `127.0.0.1:${o.port ?? 0}`, dataDir, shutdownGraceMs: 1000, logger: createLogger(node, 'silent') });
  await configd.replication.whenReady(30_000);
  const client = createConfigClient({ address: configd.address, timeoutMs: 20_000 });
  return {
    address: configd.address,
    client,
    call: (method, request) => client.call(method, request),
    async close() {
      client.close();
      await configd.close();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
