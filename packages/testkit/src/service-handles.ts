/**
 * Started handles for services under test, as testcontainers hands them out: whoever starts a
 * service gets a handle that owns it and its temporary directory, and `stop()` (idempotent)
 * ends both. No process-wide exit hooks: tests stop what they started, also on failure
 * (`afterAll`/`finally`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TestkitError } from './errors.js';

/** Anything a test started and must stop. */
export interface StartedHandle {
  /** Stops it and removes what it created. Idempotent. */
  stop(): Promise<void>;
}

/** A service running inside the test process, with its data directory. */
export interface InProcessHandle<S> extends StartedHandle {
  readonly service: S;
  readonly dataDir: string;
}

/**
 * Runs `start(dataDir)` with a fresh temporary directory (or `o.dataDir`, which is then kept);
 * `stop()` closes the service and removes the temporary directory. When `start` fails the
 * directory is removed before the error propagates.
 */
export async function startInProcess<S extends { close(): Promise<void> }>(
  start: (dataDir: string) => Promise<S>,
  o: { readonly dataDir?: string; readonly prefix?: string } = {},
): Promise<InProcessHandle<S>> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), o.prefix ?? 'palisade-service-'));
  const removeDir = (): void => {
    if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let service: S;
  try {
    service = await start(dataDir);
  } catch (err) {
    removeDir();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    service,
    dataDir,
    stop: () =>
      (stopping ??= (async () => {
        try {
          await service.close();
        } finally {
          removeDir();
        }
      })()),
  };
}

/** A `palisade-configd` child process. */
export interface ConfigdProcessHandle extends StartedHandle {
  /** The bound gRPC address, as configd logged it. */
  readonly address: string;
  readonly pid: number | undefined;
  readonly dataDir: string;
  /** What the process wrote (JSON log lines), the last 20 000 characters. */
  readonly log: string;
  /** SIGKILL, waits for the exit (the data directory stays until `stop()`). */
  kill(): Promise<void>;
}

/** What `startConfigdProcess` runs: the entry point, the NATS servers, and optional flags. */
export interface StartConfigdProcessOptions {
  /** The configd entry point (`services/configd/dist/main.js` of a build). */
  readonly main: string;
  readonly node?: string;
  readonly natsServers: readonly string[];
  /** Default `127.0.0.1:0` (any free port; the address is read from the log). */
  readonly listen?: string;
  /** Default a temporary directory removed by `stop()`. */
  readonly dataDir?: string;
  /** More command-line arguments (`--tokens FILE`, `--metrics HOST:PORT`…). */
  readonly args?: readonly string[];
  /** How long to wait for "configd listening". Default 30 000 ms. */
  readonly startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 5000 ms. */
  readonly stopTimeoutMs?: number;
}

/** Starts configd as a process and waits until it listens. */
export async function startConfigdProcess(o: StartConfigdProcessOptions): Promise<ConfigdProcessHandle> {
  const node = o.node ?? 'pve1';
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'palisade-configd-'));
  const args = [o.main, '--node', node, '--nats', o.natsServers.join(','), '--listen', o.listen ?? '127.0.0.1:0', '--data', dataDir, ...(o.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (line: string): void => {
    log = (log + line + '\n').slice(-20_000);
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let running = true;
  void exited.then(() => (running = false));
  const signal = async (sig: NodeJS.Signals, timeoutMs: number): Promise<void> => {
    if (!running || !child.pid) return;
    child.kill(sig);
    const t = setTimeout(() => {
      if (running) child.kill('SIGKILL');
    }, timeoutMs);
    await exited;
    clearTimeout(t);
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await signal('SIGTERM', o.stopTimeoutMs ?? 5000);
      } finally {
        if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
    })());
  let address: string;
  try {
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TestkitError('deadline-exceeded', `configd ${node} did not listen within ${o.startTimeoutMs ?? 30_000} ms; its log ends:\n${log.slice(-4000)}`, { server: node })), o.startTimeoutMs ?? 30_000);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new TestkitError('unavailable', `configd ${node} exited during start (code ${child.exitCode}); its log ends:\n${log.slice(-4000)}`, { server: node }));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        keep(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; address?: string };
          if (entry.msg === 'configd listening' && entry.address) {
            clearTimeout(timer);
            resolve(entry.address);
          }
        } catch {
          /* not a log line */
        }
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    get pid() {
      return child.pid;
    },
    dataDir,
    get log() {
      return log;
    },
    kill: () => signal('SIGKILL', 5000),
    stop,
  };
}
