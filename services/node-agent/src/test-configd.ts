/**
 * Test support: a real configd process (testkit's `startConfigdProcess`, the build's
 * `services/configd/dist/main.js`) on a real nats-server, used through its public API, so the
 * agent's tests do not import the configd service (tests only; not part of the build).
 */
import { fileURLToPath } from 'node:url';
import { createConfigClient, type ConfigClient, type ConfigMethod, type ConfigRequest, type ConfigResponse } from '@palisade/api';
import { startConfigdProcess, TestkitError } from '@palisade/testkit';

/** configd's entry point in this checkout's build (`npm run build`). */
export const CONFIGD_MAIN = fileURLToPath(new URL('../../configd/dist/main.js', import.meta.url));

export interface TestConfigd {
  readonly address: string;
  readonly client: ConfigClient;
  call<M extends ConfigMethod>(method: M, request: Partial<ConfigRequest<M>>): Promise<ConfigResponse<M>>;
  close(): Promise<void>;
}

/**
 * Starts configd on `natsServers`, listening on loopback (`port`, default a free one), with a
 * temporary data directory removed on close unless `dataDir` is given (to restart on it), and
 * resolves once it reports itself quorate.
 */
export async function startTestConfigd(natsServers: readonly string[], o: { node?: string; port?: number; dataDir?: string } = {}): Promise<TestConfigd> {
  const configd = await startConfigdProcess({
    main: CONFIGD_MAIN,
    node: o.node ?? 'pve1',
    natsServers,
    listen: `127.0.0.1:${o.port ?? 0}`,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    stopTimeoutMs: 5_000,
  });
  const client = createConfigClient({ address: configd.address, timeoutMs: 20_000 });
  const close = async (): Promise<void> => {
    client.close();
    await configd.stop();
  };
  try {
    await untilQuorate(client, 30_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { address: configd.address, client, call: (method, request) => client.call(method, request), close };
}

async function untilQuorate(client: ConfigClient, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const quorate = await client.call('status', {}).then(
      (s) => s.quorate,
      () => false,
    );
    if (quorate) return;
    if (Date.now() > end) throw new TestkitError('deadline-exceeded', `configd is not quorate within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
