/** Helpers of the logger's tests: a publisher like the agent's, and an in-process logger. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogClient, type LogClient } from '@palisade/api';
import { encodeLogEntry, logSubject, type LogEntry } from '@palisade/log-model';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { createLogService, type LogService } from './app.js';
import type { LoggerOptions } from './options.js';

/** Publishes entries as the agent does (subject per node, Nats-Msg-Id = entry id). */
export class TestPublisher {
  private constructor(readonly nc: NatsConnection) {}
  static async connect(servers: readonly string[], auth?: { user: string; pass: string }): Promise<TestPublisher> {
    return new TestPublisher(await connect({ servers: [...servers], ...(auth ?? {}) }));
  }
  async publish(entries: readonly LogEntry[], chunk = 500): Promise<void> {
    const js = jetstream(this.nc);
    for (let i = 0; i < entries.length; i += chunk) {
      await Promise.all(entries.slice(i, i + chunk).map((e) => js.publish(logSubject(e.node), encodeLogEntry(e), { msgID: e.id })));
    }
  }
  /** Publishes raw bytes on a node's subject (garbage, for decode errors). */
  async publishRaw(node: string, data: Uint8Array, msgID: string): Promise<void> {
    await jetstream(this.nc).publish(logSubject(node), data, { msgID });
  }
  async streamMessages(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info('PALISADE_LOG')).state.messages;
  }
  close(): Promise<void> {
    return this.nc.close();
  }
}

/** A logger in this process with its own data directory (kept across `restart()`). */
export class TestLogger {
  service!: LogService;
  client!: LogClient;
  readonly dataDir: string;
  #stopped = true;
  constructor(readonly opts: Partial<LoggerOptions> & { natsServers: readonly string[] }) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'palisade-logger-test-'));
  }
  async start(): Promise<this> {
    this.service = await createLogService({ listen: '127.0.0.1:0', dataDir: this.dataDir, consumer: 'test-logger', logger: SILENT_LOGGER, ...this.opts });
    this.client = createLogClient({ address: this.service.address, timeoutMs: 20_000 });
    this.#stopped = false;
    await this.service.ingest.whenConsuming();
    return this;
  }
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.client.close();
    await this.service.close();
  }
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
  /** Stops and removes the data directory. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
