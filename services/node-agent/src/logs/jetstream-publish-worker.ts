/**
 * The log publisher's JetStream client, on a worker thread: it connects (retrying until the
 * publisher closes), makes sure the log stream exists, publishes the messages the main thread
 * posts and answers each with what became of it. The NATS client costs a fifth to a quarter of
 * the pipeline's CPU per entry (socket writes, ack parsing, promises and their garbage); here it
 * runs beside the capture and the ruleset work instead of on their thread. Every decision
 * (spool, window, retries, counters) stays with `LogPublisher` on the main thread. The protocol
 * is `publish-channel.ts`'s.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { jetstream, jetstreamManager, JetStreamApiError, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { classifyPublishError, connectNats, type NatsClient } from '@palisade/nats-kit';
import { LOG_STREAM, logStreamSettings } from '@palisade/log-model';
import { sleep, type LogFn, type Logger } from '@palisade/service-kit';
import type { ToPublisher, ToWorker, WorkerSetup } from './publish-channel.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (m: ToPublisher): void => port.postMessage(m);
const stop = new AbortController();

/** Log records go to the main thread's logger (errors as their message and code: an Error does not cross threads whole). */
const fields = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code } : v]));
const relay =
  (level: 'warn' | 'info' | 'error'): LogFn =>
  (o: object | string, msg?: string): void =>
    typeof o === 'string' ? post({ type: 'log', level, fields: {}, msg: o }) : post({ type: 'log', level, fields: fields(o), msg: msg ?? '' });
const noop = (): void => undefined;
const logger: Logger = { fatal: relay('error'), error: relay('error'), warn: relay('warn'), info: relay('info'), debug: noop, trace: noop, child: () => logger };

async function ensureStream(client: NatsClient): Promise<void> {
  const jsm = await jetstreamManager(client.connection, { checkAPI: false, timeout: 5_000 });
  try {
    await jsm.streams.info(LOG_STREAM);
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err;
  }
  try {
    // The loggers' settings, age limit included (a logger adds one to a stream without, but none may run yet).
    await jsm.streams.add({ ...logStreamSettings(), storage: StorageType.File });
  } catch (err) {
    await jsm.streams.info(LOG_STREAM).catch(() => {
      throw err; // not created by someone else at the same moment either
    });
  }
}

async function connect(): Promise<NatsClient | undefined> {
  for (let attempt = 1; !stop.signal.aborted; attempt++) {
    try {
      const client = await connectNats({ servers: setup.servers, ...setup.security, name: setup.name, logger });
      await ensureStream(client);
      return client;
    } catch (err) {
      if (attempt === 1 || attempt % 20 === 0) logger.warn({ err, attempt }, 'NATS not reachable for log entries; spooling');
      await sleep(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)), stop.signal).catch(noop);
    }
  }
  return undefined;
}

let js: JetStreamClient | undefined;
/**
 * Publishes that arrive before the connection is up: a worker started again after a crash gets
 * the publisher's next messages at once (the publisher waits for a connection only at its
 * start and between retries). Sent once the client is there.
 */
const early: Extract<ToWorker, { type: 'publish' }>[] = [];

function publish(m: Extract<ToWorker, { type: 'publish' }>): void {
  js!.publish(m.subject, m.bytes, { msgID: m.id, timeout: 5_000 }).then(
    () => post({ type: 'result', seq: m.seq, outcome: 'stored' }),
    (err: unknown) => post({ type: 'result', seq: m.seq, outcome: classifyPublishError(err).kind === 'retry' ? 'retry' : 'refused', error: err instanceof Error ? err.message : String(err) }),
  );
}

const ready = (async () => {
  const client = await connect();
  if (!client) return undefined;
  js = jetstream(client.connection, { timeout: 5_000 });
  for (const m of early.splice(0)) publish(m);
  // The current state first ("connected"), then every change.
  void (async () => {
    for await (const s of client.states()) post({ type: 'state', connected: s.state === 'connected' });
  })().catch(noop);
  return client;
})();

port.on('message', (m: ToWorker) => {
  if (m.type === 'publish') {
    if (js) publish(m);
    else early.push(m);
    return;
  }
  // close: stop connecting, drain what is outstanding (bounded by the kit's drain timeout), report.
  stop.abort();
  void ready
    .then(async (client) => client?.close())
    .catch(noop)
    .finally(() => {
      post({ type: 'closed' });
      port.close();
    });
});
