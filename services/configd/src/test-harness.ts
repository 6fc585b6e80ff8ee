/**
 * Test harness: configd instances on real NATS servers, called through `@palisade/api`'s
 * client. Used by the *.test.ts files only (and by other services' tests through
 * `startTestConfigd`). The handle, its data directory and its cleanup on a failed start come
 * from `@palisade/testkit`'s `startInProcess`; configd as a process is testkit's
 * `startConfigdProcess`.
 */
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  ConfigClientError,
  createConfigClient,
  toConfigClientError,
  type ConfigClient,
  type ConfigMethod,
  type ConfigRequest,
  type ConfigResponse,
  type WatchRequest,
  type WatchResponse,
} from '@palisade/api';
import { startInProcess, TestkitError } from '@palisade/testkit';
import { pino } from 'pino';
import { createConfigd, type Configd } from './app.js';
import type { ConfigdOptions } from './options.js';
import type { TokenEntry } from './rpc/auth.js';

export { ConfigClientError as CallError, toConfigClientError as toCallError };

export interface TestConfigd {
  readonly configd: Configd;
  readonly dataDir: string;
  readonly address: string;
  /** A client with the given token and call deadline (default 20 s; cached per token and deadline). */
  client(token?: string, timeoutMs?: number): ConfigClient;
  call<M extends ConfigMethod>(method: M, request: Partial<ConfigRequest<M>>, token?: string): Promise<ConfigResponse<M>>;
  /** A call with a deadline of `timeoutMs` (e.g. a write that must be refused quickly). */
  callWithin<M extends ConfigMethod>(timeoutMs: number, method: M, request: Partial<ConfigRequest<M>>, token?: string): Promise<ConfigResponse<M>>;
  watch(request: Partial<WatchRequest>, token?: string): ClientReadableStream<WatchResponse>;
  /** Closes the clients and configd, removes a temporary data directory. Idempotent. */
  close(): Promise<void>;
  /** The same as `close()` (testkit's started-handle name). */
  stop(): Promise<void>;
}

const logLevel = process.env.CONFIGD_TEST_LOG ?? 'silent';

export async function startTestConfigd(
  opts: Partial<Omit<ConfigdOptions, 'logger'>> & { natsServers: readonly string[]; tokens?: readonly TokenEntry[] },
): Promise<TestConfigd> {
  const node = opts.node ?? 'pve1';
  const handle = await startInProcess(
    async (dataDir) => {
      const c = await createConfigd({
        listen: '127.0.0.1:0',
        shutdownGraceMs: 1000,
        ...opts,
        node,
        dataDir,
        logger: pino({ level: logLevel, base: { node } }),
      });
      try {
        await c.replication.whenReady(30_000);
      } catch (err) {
        await c.close();
        throw err;
      }
      return c;
    },
    { prefix: 'palisade-configd-', ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) },
  );
  const { service: configd, dataDir } = handle;
  const clients = new Map<string, ConfigClient>();
  const client = (token?: string, timeoutMs = 20_000): ConfigClient => {
    const key = `${token ?? ''} ${timeoutMs}`;
    let c = clients.get(key);
    if (!c) {
      c = createConfigClient({ address: configd.address, ...(token ? { token } : {}), timeoutMs });
      clients.set(key, c);
    }
    return c;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const c of clients.values()) c.close();
      await handle.stop();
    })());
  return {
    configd,
    dataDir,
    address: configd.address,
    client,
    call: (method, request, token) => client(token).call(method, request),
    callWithin: (timeoutMs, method, request, token) => client(token, timeoutMs).call(method, request),
    watch: (request, token) => client(token).watch(request),
    close: stop,
    stop,
  };
}

/** Collects watch events until `until` returns true (or the timeout passes). */
export function collectWatch(
  stream: ClientReadableStream<WatchResponse>,
  until: (events: WatchResponse[]) => boolean,
  timeoutMs = 10_000,
): Promise<WatchResponse[]> {
  const events: WatchResponse[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      stream.cancel();
      reject(new TestkitError('deadline-exceeded', `watch: condition not met after ${timeoutMs} ms; got ${events.length} events`));
    }, timeoutMs);
    stream.on('data', (ev: WatchResponse) => {
      events.push(ev);
      if (until(events)) {
        clearTimeout(t);
        stream.cancel();
        resolve(events);
      }
    });
    stream.on('error', (err: ServiceError) => {
      clearTimeout(t);
      if (err.code === status.CANCELLED) resolve(events);
      else reject(toConfigClientError(err));
    });
  });
}

export const text = (s: string): Buffer => Buffer.from(s, 'utf8');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Awaits a call that must fail and returns its error (any other failure is rethrown). */
export async function rejects(p: Promise<unknown>): Promise<ConfigClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConfigClientError) return err;
    throw err;
  }
  throw new TestkitError('internal', 'expected the call to fail');
}
