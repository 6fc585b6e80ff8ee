/**
 * The main thread's side of `jetstream-publish-worker.ts`: a JetStream publisher on a worker
 * thread, seen as `publish(bytes, id) → outcome`, the connection state and `close()`. Messages
 * are copied to the worker (the publisher keeps its bytes for a retry). A worker that dies
 * answers every outstanding and later publish with `retry`, and is started again after a
 * second, so that the spool waits instead of losing entries.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NatsSecurity } from '@palisade/nats-kit';
import type { Logger } from '@palisade/service-kit';
import { AgentError } from '../errors.js';

/** What the worker is started with. */
export interface WorkerSetup {
  readonly servers: readonly string[];
  readonly security?: NatsSecurity;
  /** Connection name shown by the server. */
  readonly name: string;
}

/** What becomes of one published message. */
export type PublishOutcome = 'stored' | 'refused' | 'retry';

/** Main thread → worker. */
export type ToWorker = { readonly type: 'publish'; readonly seq: number; readonly subject: string; readonly id: string; readonly bytes: Uint8Array } | { readonly type: 'close' };

/** Worker → main thread. */
export type ToPublisher =
  | { readonly type: 'state'; readonly connected: boolean }
  | { readonly type: 'result'; readonly seq: number; readonly outcome: PublishOutcome; readonly error?: string }
  | { readonly type: 'log'; readonly level: 'warn' | 'info' | 'error'; readonly fields: Record<string, unknown>; readonly msg: string }
  | { readonly type: 'closed' };

/**
 * The worker's script: next to this module in the build. Under vitest this module runs from
 * `src/` (TypeScript, which a worker cannot load), so the build's copy is used.
 */
function workerScript(): URL {
  const beside = new URL('./jetstream-publish-worker.js', import.meta.url);
  return existsSync(fileURLToPath(beside)) ? beside : new URL('../../dist/logs/jetstream-publish-worker.js', import.meta.url);
}

/**
 * The worker's Node options: this process's, without `--conditions` (a test runner resolves the
 * workspace packages to their TypeScript sources with one, which a worker cannot load).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (a === '--conditions' || a === '-C') i++;
    else if (!a.startsWith('--conditions=')) out.push(a);
  }
  return out;
}

const RESTART_DELAY_MS = 1_000;

/** See the file comment. */
export class PublishChannel {
  readonly #setup: WorkerSetup;
  readonly #logger: Logger;
  /** Messages sent and not answered yet: their id (for the log) and who waits. */
  readonly #pending = new Map<number, { readonly id: string; readonly answer: (o: PublishOutcome) => void }>();
  #worker: Worker | undefined;
  #seq = 0;
  #connected = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #onState: (() => void)[] = [];

  constructor(setup: WorkerSetup, logger: Logger) {
    this.#setup = setup;
    this.#logger = logger;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Starts the worker (it connects in the background). */
  start(): void {
    if (this.#worker || this.#closing) return;
    const w = new Worker(workerScript(), { workerData: this.#setup, execArgv: workerExecArgv(), name: `palisade log publisher (${this.#setup.name})` });
    this.#worker = w;
    w.on('message', (m: ToPublisher) => this.#message(m));
    w.on('error', (err) => this.#logger.error({ err }, 'log publisher worker failed'));
    w.on('exit', (code) => {
      this.#worker = undefined;
      this.#setConnected(false);
      for (const p of this.#pending.values()) p.answer('retry');
      this.#pending.clear();
      if (this.#closing) return;
      this.#logger.error({ code }, 'log publisher worker exited; starting it again');
      setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
    });
  }

  #message(m: ToPublisher): void {
    switch (m.type) {
      case 'result': {
        const p = this.#pending.get(m.seq);
        this.#pending.delete(m.seq);
        if (m.outcome === 'refused') this.#logger.error({ error: m.error, id: p?.id }, 'log message refused by JetStream; dropped');
        p?.answer(m.outcome);
        return;
      }
      case 'state':
        this.#setConnected(m.connected);
        return;
      case 'log':
        this.#logger[m.level](m.fields, m.msg);
        return;
      case 'closed':
        return;
    }
  }

  #setConnected(up: boolean): void {
    this.#connected = up;
    if (up) for (const wake of this.#onState.splice(0)) wake();
  }

  /** Resolves once the worker's connection is up; rejects when `signal` aborts. */
  whenConnected(signal: AbortSignal): Promise<void> {
    if (this.#connected) return Promise.resolve();
    const stopped = (): AgentError => new AgentError('cancelled', 'stopped while waiting for the NATS connection of the log publisher', {}, { cause: signal.reason });
    if (signal.aborted) return Promise.reject(stopped());
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#onState = this.#onState.filter((w) => w !== wake);
        reject(stopped());
      };
      this.#onState.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Publishes one message; resolves with its outcome (`retry` while there is no worker). */
  publish(subject: string, id: string, bytes: Uint8Array): Promise<PublishOutcome> {
    const w = this.#worker;
    if (!w) return Promise.resolve('retry');
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      this.#pending.set(seq, { id, answer: resolve });
      w.postMessage({ type: 'publish', seq, subject, id, bytes } satisfies ToWorker);
    });
  }

  /**
   * Ends the worker as a crash would: its outstanding publishes answer `retry` and it is
   * started again after a second (for fault tests; a no-op without a worker).
   */
  async terminateWorker(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Lets the worker drain what it has sent and stop; idempotent. */
  close(): Promise<void> {
    this.#closing = true;
    this.#closed ??= (async () => {
      const w = this.#worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close' } satisfies ToWorker);
      // The worker's drain is bounded by the NATS kit's drain timeout; this bounds a stuck worker.
      const timer = setTimeout(() => void w.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    })();
    return this.#closed;
  }
}
